/**
 * Wall-clock arithmetic in an IANA timezone, for the forecast: a zone's UTC offset at an instant,
 * the instants its offset changes (DST), and "the same local time N days later". Intl is the only
 * source of zone data (Node carries the full ICU); nothing here holds a timer or a clock.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** No zone changes its offset twice within this (DST changes are months apart); the search below samples at this step. */
const SAMPLE_MS = 6 * 3_600_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' });
    // Bounded: timezones are validated names, but a long-running service should not grow without end.
    if (formatters.size < 500) formatters.set(timezone, format);
  }
  return format;
}

/** The zone's offset from UTC at `instant`, in ms (Europe/Berlin in summer: +7,200,000). */
export function utcOffsetMs(instant: number, timezone: string): number {
  const name = formatter(timezone)
    .formatToParts(instant)
    .find((part) => part.type === 'timeZoneName')?.value;
  // "GMT+05:30", "GMT-03:00"; plain "GMT" for a zero offset. Seconds only appear in offsets before ~1900.
  const match = /^GMT([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?$/.exec(name ?? '');
  if (!match) return 0;
  const sign = match[1] === '-' ? -1 : 1;
  return sign * (Number(match[2]) * 3_600_000 + Number(match[3] ?? 0) * MINUTE_MS + Number(match[4] ?? 0) * 1000);
}

/**
 * The instants in (from, to] at which the zone's offset changes, each the first instant of the
 * new offset, oldest first. Samples every 6 hours and bisects each change to the millisecond.
 */
export function offsetChanges(timezone: string, from: number, to: number): number[] {
  const changes: number[] = [];
  let before = from;
  let beforeOffset = utcOffsetMs(from, timezone);
  while (before < to) {
    const after = Math.min(before + SAMPLE_MS, to);
    const afterOffset = utcOffsetMs(after, timezone);
    if (afterOffset !== beforeOffset) {
      // Invariant: the offset at `low` is the old one, at `high` the new one.
      let low = before;
      let high = after;
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (utcOffsetMs(middle, timezone) === beforeOffset) low = middle;
        else high = middle;
      }
      changes.push(high);
    }
    before = after;
    beforeOffset = afterOffset;
  }
  return changes;
}

/**
 * The instant `days` calendar days after `instant` at the same wall-clock time in the zone: a day
 * that changes the offset is 23 or 25 hours long. A wall time that does not exist (the spring
 * gap) moves forward by the gap; one that exists twice (autumn) is its first occurrence, as
 * Temporal's "compatible" disambiguation does.
 */
export function addZonedDays(instant: number, days: number, timezone: string): number {
  const wall = instant + utcOffsetMs(instant, timezone) + days * DAY_MS;
  // The offsets in force a day before and a day after that wall time: any change between them is the one that matters.
  const earlier = wall - utcOffsetMs(wall - DAY_MS, timezone);
  const later = wall - utcOffsetMs(wall + DAY_MS, timezone);
  const valid = [earlier, later].filter((candidate) => candidate + utcOffsetMs(candidate, timezone) === wall);
  // Both valid: a repeated hour, take the first. Neither: the gap, where the earlier offset moves the time forward.
  return valid.length > 0 ? Math.min(...valid) : earlier;
}

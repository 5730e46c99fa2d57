import { Cron } from 'croner';
import { ValidationError } from './errors.js';

/**
 * Cron maths over `croner`, used as a calculator only (it never runs timers here).
 *
 * Accepted: standard 5-field cron (`0 9 * * 1-5`), 6-field cron whose first field is seconds
 * (`*\/10 * * * * *`), names of months and weekdays, and the nicknames @yearly, @annually,
 * @monthly, @weekly, @daily, @midnight and @hourly. `@reboot` is refused: there is no "boot" for a
 * scheduled agent. Day-of-month and day-of-week combine with OR, as in Vixie cron. A stepped value
 * with a start (`5/10`: 5, 15, ... up to the field's maximum), as Kubernetes, Quartz and AWS read
 * it, is accepted; a step without a start (`/10`) is not.
 *
 * Daylight saving time, in the agent's timezone:
 * - A fixed-time schedule (single second, minute and hour, e.g. `30 2 * * *`) whose time falls in
 *   the spring-forward gap fires once at the first valid time after the gap (03:00 local); on the
 *   fall-back day, when 02:30 happens twice, it fires once, at the first occurrence.
 * - An interval schedule (a wildcard or step in the time fields, e.g. `0 * * * *`) skips the
 *   times that do not exist and fires on both occurrences of a repeated hour: it follows real
 *   elapsed time.
 */
export interface CronSchedule {
  readonly expression: string;
  readonly timezone: string;
  /** The first slot strictly after `instant` (epoch ms), or null if the schedule never fires again. */
  nextAfter(instant: number): number | null;
  /** The last slot at or before `instant`, or null if there is none. */
  latestAtOrBefore(instant: number): number | null;
}

const MAX_EXPRESSION_LENGTH = 200;

/** Names of UTC itself: computed with a fixed zero offset, which is exact and ~15x faster. */
const UTC_NAMES = new Set(['UTC', 'Etc/UTC', 'Etc/UCT', 'UCT', 'Etc/GMT', 'GMT', 'Etc/Universal', 'Universal', 'Etc/Zulu', 'Zulu']);

// sloppyRanges: croner's name for accepting `N/step` (a stepped value with a start).
const CRON_OPTIONS = { paused: true, mode: '5-or-6-parts', sloppyRanges: true } as const;

const canonicalZones = new Map<string, string>();

/** Canonical name of an IANA timezone, or a ValidationError naming `field`. */
export function normalizeTimezone(timezone: string, field = 'timezone'): string {
  if (timezone.trim() === '') throw ValidationError.field(field, 'must not be empty');
  const known = canonicalZones.get(timezone);
  if (known) return known;
  let canonical: string;
  try {
    canonical = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw ValidationError.field(field, `unknown IANA timezone "${timezone}" (e.g. "UTC", "Europe/Berlin")`);
  }
  if (canonicalZones.size < 1000) canonicalZones.set(timezone, canonical);
  return canonical;
}

/** Each field's range, seconds first; a 5-field expression starts at minutes. */
const FIELD_RANGES: readonly (readonly [string, number, number])[] = [
  ['second', 0, 59],
  ['minute', 0, 59],
  ['hour', 0, 23],
  ['day of month', 1, 31],
  ['month', 1, 12],
  ['day of week', 0, 7],
];

/**
 * What croner's `sloppyRanges` lets through beyond `N/step`, refused here: a step without a start
 * (croner would read `/10` as `*\/10`, cronstrue cannot describe it), and a start outside its
 * field (croner would accept `70/5` and never fire). The reason, or null when the steps are fine.
 */
function steppingProblem(expression: string): string | null {
  if (expression.startsWith('@')) return null;
  const fields = expression.split(/\s+/);
  const ranges = fields.length === 5 ? FIELD_RANGES.slice(1) : FIELD_RANGES;
  for (const [i, field] of fields.entries()) {
    for (const part of field.split(',')) {
      if (part.startsWith('/')) return `${part}: a step needs a start (write */${part.slice(1)} or 0/${part.slice(1)})`;
      const start = /^(\d+)\//.exec(part)?.[1];
      const range = ranges[i];
      if (start !== undefined && range && (Number(start) < range[1] || Number(start) > range[2])) {
        return `${part}: the start is out of range for the ${range[0]} (${range[1]}-${range[2]})`;
      }
    }
  }
  return null;
}

/** Parses and checks a cron expression; throws a ValidationError naming `field` when it is unusable. */
export function parseSchedule(expression: string, timezone: string, field = 'schedule'): CronSchedule {
  const trimmed = expression.trim();
  if (trimmed === '') throw ValidationError.field(field, 'must not be empty');
  if (trimmed.length > MAX_EXPRESSION_LENGTH) {
    throw ValidationError.field(field, `must be at most ${MAX_EXPRESSION_LENGTH} characters`);
  }
  if (/^@reboot$/i.test(trimmed)) {
    throw ValidationError.field(field, '@reboot is not supported: agents run on a time schedule');
  }
  const stepping = steppingProblem(trimmed);
  if (stepping) throw ValidationError.field(field, `invalid cron expression "${trimmed}": ${stepping}`);
  let cron: Cron;
  try {
    const zone = UTC_NAMES.has(timezone) ? { utcOffset: 0 } : { timezone };
    cron = new Cron(trimmed, { ...CRON_OPTIONS, ...zone });
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern:\s*/, '') : String(error);
    throw ValidationError.field(field, `invalid cron expression "${trimmed}": ${reason}`);
  }
  return scheduleOf(cron, trimmed, timezone);
}

function scheduleOf(cron: Cron, expression: string, timezone: string): CronSchedule {
  const schedule: CronSchedule = {
    expression,
    timezone,
    nextAfter(instant) {
      // croner's nextRun(date) returns the first slot strictly after `date` at second precision.
      const next = cron.nextRun(new Date(instant));
      return next ? next.getTime() : null;
    },
    latestAtOrBefore(instant) {
      const previous = cron.previousRuns(1, new Date(instant + 1))[0];
      return previous ? previous.getTime() : null;
    },
  };
  return schedule;
}

/**
 * A schedule (already parsed, so valid) at a fixed UTC offset, in minutes east of UTC. Between two
 * offset changes of its timezone it has the same slots, and croner computes a fixed offset an
 * order of magnitude faster than a named zone: forecast.ts counts long stretches with it.
 */
export function atFixedOffset(schedule: CronSchedule, offsetMinutes: number): CronSchedule {
  return scheduleOf(new Cron(schedule.expression, { ...CRON_OPTIONS, utcOffset: offsetMinutes }), schedule.expression, schedule.timezone);
}

/** Validates an agent's schedule in its timezone and checks it fires at least once more. */
export function validateSchedule(expression: string, timezone: string, now: number): CronSchedule {
  const schedule = parseSchedule(expression, timezone);
  if (schedule.nextAfter(now) === null) {
    throw ValidationError.field('schedule', `"${schedule.expression}" never fires`);
  }
  return schedule;
}

/** How numbers, money, durations and instants read in the dashboard. */

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const dateTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const fullDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'long' });
const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const smallNumber = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2 });

/** "in 3 hours", "5 minutes ago", "now". */
export function fromNow(iso: string | null, now = Date.now()): string {
  if (!iso) return '—';
  const diff = Date.parse(iso) - now;
  const abs = Math.abs(diff);
  if (abs < 10_000) return diff >= 0 ? 'in a few seconds' : 'just now';
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ];
  for (const [unit, ms] of units) {
    if (abs >= ms || unit === 'second') return relative.format(Math.round(diff / ms), unit);
  }
  return '—';
}

/** "Jan 5, 09:00:12" in the browser's timezone. */
export function shortDateTime(iso: string | null): string {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

/** The full instant, for tooltips. */
export function longDateTime(iso: string | null): string {
  return iso ? fullDateTime.format(new Date(iso)) : '';
}

/** An instant as read in a given timezone: "Tue, Jan 6, 09:00 CET". */
export function inTimezone(iso: string, timeZone: string, withSeconds = false): string {
  const options: Intl.DateTimeFormatOptions = {
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    ...(withSeconds ? { second: '2-digit' } : {}),
    timeZoneName: 'short',
  };
  try {
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone: 'UTC' }).format(new Date(iso));
  }
}

/** "850 ms", "12.3 s", "4 min 05 s", "1 h 02 min". */
export function duration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** Dollars with enough precision for small runs: "$0.0042", "$1.25", "$0". */
export function usd(value: number): string {
  if (value === 0) return '$0';
  if (Math.abs(value) < 0.01) return `$${smallNumber.format(value)}`;
  return `$${value.toFixed(2)}`;
}

export function count(value: number): string {
  return integer.format(value);
}

/** "1.2k", "3.4M" for token counts in tight cells. */
export function compact(value: number): string {
  if (value < 1000) return String(value);
  if (value < 1_000_000) return `${(value / 1000).toFixed(value < 10_000 ? 1 : 0)}k`;
  return `${(value / 1_000_000).toFixed(1)}M`;
}

/** "Jan 6" for a UTC day ("2026-01-06"). */
export function day(date: string): string {
  return new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${date}T00:00:00Z`));
}

import type { CronSchedule } from './cron.js';

/**
 * How many of a schedule's next fires the interval check looks at. A cron expression's tightest
 * spacing recurs within one turn of its coarsest varying field, which this covers for the
 * schedules people write (a minute list within an hour, a day list within a month, ...).
 */
export const INTERVAL_CHECK_FIRES = 200;

/**
 * The shortest time between two consecutive fires among the next INTERVAL_CHECK_FIRES after
 * `from`, in the schedule's own timezone (so a DST change that brings two fires closer counts),
 * stopping early at one below `floorMs`; null when the schedule fires fewer than twice.
 */
export function shortestInterval(schedule: CronSchedule, from: number, floorMs: number): number | null {
  let previous = schedule.nextAfter(from);
  let shortest: number | null = null;
  for (let i = 1; previous !== null && i < INTERVAL_CHECK_FIRES; i++) {
    const next = schedule.nextAfter(previous);
    if (next === null) break;
    const gap = next - previous;
    if (shortest === null || gap < shortest) shortest = gap;
    if (shortest < floorMs) break;
    previous = next;
  }
  return shortest;
}

/** A duration as the configuration writes one: `90s`, `5m`, `2h`. */
export function formatDuration(ms: number): string {
  if (ms >= 3600_000 && ms % 3600_000 === 0) return `${ms / 3600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

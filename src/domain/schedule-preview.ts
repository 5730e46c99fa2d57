import { normalizeTimezone, validateSchedule } from './cron.js';
import { describeSchedule } from './schedule-description.js';

/** What the editor shows while a schedule is typed. */
export interface SchedulePreview {
  schedule: string;
  /** The canonical IANA name of the timezone. */
  timezone: string;
  /** The schedule in words; null when it cannot be put in words (it is still valid). */
  description: string | null;
  /** The next fire times (epoch ms), strictly after `now`. */
  nextRuns: number[];
}

/**
 * Checks a schedule exactly as creating an agent would, and lists its next `count` slots in the
 * timezone. Throws a ValidationError naming `schedule` or `timezone`.
 */
export function previewSchedule(expression: string, timezone: string, now: number, count = 5): SchedulePreview {
  const zone = normalizeTimezone(timezone);
  const schedule = validateSchedule(expression, zone, now);
  const nextRuns: number[] = [];
  let after = now;
  while (nextRuns.length < count) {
    const next = schedule.nextAfter(after);
    if (next === null) break;
    nextRuns.push(next);
    after = next;
  }
  return { schedule: schedule.expression, timezone: zone, description: describeSchedule(schedule.expression), nextRuns };
}

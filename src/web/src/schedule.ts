import { describeSchedule } from '../../domain/schedule-description';

/** Schedule presets of the editor, and reading an expression back into one. */

export { describeSchedule };

export type PresetKind = 'hourly' | 'daily' | 'weekdays' | 'weekly' | 'custom';

export interface SchedulePreset {
  kind: PresetKind;
  /** Minute of the hour (hourly). */
  minute: number;
  /** "HH:MM" (daily, weekdays, weekly). */
  time: string;
  /** 0 = Sunday ... 6 = Saturday (weekly). */
  weekday: number;
  /** The expression itself (custom). */
  custom: string;
}

/** In the order the editor offers them. */
export const PRESET_KINDS: readonly PresetKind[] = ['hourly', 'daily', 'weekdays', 'weekly', 'custom'];

export const PRESET_LABELS: Record<PresetKind, string> = {
  hourly: 'Every hour',
  daily: 'Every day',
  weekdays: 'Weekdays (Mon–Fri)',
  weekly: 'Once a week',
  custom: 'Custom cron expression',
};

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export const DEFAULT_PRESET: SchedulePreset = { kind: 'daily', minute: 0, time: '09:00', weekday: 1, custom: '0 9 * * *' };

function hm(time: string): [number, number] {
  const [h, m] = time.split(':').map(Number);
  return [Number.isInteger(h) ? h! : 0, Number.isInteger(m) ? m! : 0];
}

/** The cron expression a preset stands for. */
export function presetExpression(preset: SchedulePreset): string {
  const [hour, minute] = hm(preset.time);
  switch (preset.kind) {
    case 'hourly':
      return `${preset.minute} * * * *`;
    case 'daily':
      return `${minute} ${hour} * * *`;
    case 'weekdays':
      return `${minute} ${hour} * * 1-5`;
    case 'weekly':
      return `${minute} ${hour} * * ${preset.weekday}`;
    case 'custom':
      return preset.custom.trim();
  }
}

const two = (n: number) => String(n).padStart(2, '0');

/** The preset an expression was made from, or a custom one. */
export function presetOf(expression: string): SchedulePreset {
  const text = expression.trim();
  const base = { ...DEFAULT_PRESET, custom: text };
  const field = String.raw`(\d{1,2})`;
  let match = new RegExp(`^${field} \\* \\* \\* \\*$`).exec(text);
  if (match && Number(match[1]) < 60) return { ...base, kind: 'hourly', minute: Number(match[1]) };
  match = new RegExp(`^${field} ${field} \\* \\* (\\*|1-5|MON-FRI|[0-7]|SUN|MON|TUE|WED|THU|FRI|SAT)$`, 'i').exec(text);
  if (match && Number(match[1]) < 60 && Number(match[2]) < 24) {
    const time = `${two(Number(match[2]))}:${two(Number(match[1]))}`;
    const days = match[3]!.toUpperCase();
    if (days === '*') return { ...base, kind: 'daily', time };
    if (days === '1-5' || days === 'MON-FRI') return { ...base, kind: 'weekdays', time };
    const weekday = /^\d$/.test(days) ? Number(days) % 7 : DAY_NAMES.indexOf(days);
    return { ...base, kind: 'weekly', time, weekday };
  }
  return { ...base, kind: 'custom' };
}

/** Whether the schedule fires on seconds (a 6-field expression), so times show seconds. */
export function hasSeconds(expression: string): boolean {
  return expression.trim().split(/\s+/).length === 6;
}

/** Every IANA timezone the browser knows, UTC first. */
export function timezones(): string[] {
  // Older browsers lack supportedValuesOf: the field then offers UTC and takes any name typed.
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return ['UTC', ...zones.filter((zone) => zone !== 'UTC')];
}

export function browserTimezone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

import { describe, expect, it } from 'vitest';
import { normalizeTimezone, parseSchedule, validateSchedule, type CronSchedule } from '../../src/domain/cron.js';
import { ValidationError } from '../../src/domain/errors.js';
import { formatDuration, shortestInterval } from '../../src/domain/schedule-interval.js';

const t = (iso: string): number => Date.parse(iso);
const iso = (instant: number | null): string | null => (instant === null ? null : new Date(instant).toISOString());

/** The next `count` slots strictly after `from`, as ISO strings. */
function slotsAfter(schedule: CronSchedule, from: string, count: number): (string | null)[] {
  const out: (string | null)[] = [];
  let cursor = t(from);
  for (let i = 0; i < count; i++) {
    const next = schedule.nextAfter(cursor);
    out.push(iso(next));
    if (next === null) break;
    cursor = next;
  }
  return out;
}

/** Slots in [from, to), walking with nextAfter. */
function slotsBetween(schedule: CronSchedule, from: string, to: string): string[] {
  const out: string[] = [];
  let cursor = t(from) - 1;
  for (;;) {
    const next = schedule.nextAfter(cursor);
    if (next === null || next >= t(to)) return out;
    out.push(new Date(next).toISOString());
    cursor = next;
  }
}

// Asymmetric matchers for a message: vitest types them `any`, they are only ever compared with.
const matching = (pattern: RegExp): unknown => expect.stringMatching(pattern);
const containing = (text: string): unknown => expect.stringContaining(text);

/** Runs `fn` and returns the ValidationError it throws (fails the test if it throws nothing else). */
function validationErrorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}

describe('parseSchedule: expressions', () => {
  it('computes slots of a 5-field expression', () => {
    const schedule = parseSchedule('15 9 * * 1-5', 'UTC');
    // 2026-01-09 is a Friday: the next weekday slot after it is Monday 2026-01-12.
    expect(slotsAfter(schedule, '2026-01-08T12:00:00Z', 3)).toEqual(['2026-01-09T09:15:00.000Z', '2026-01-12T09:15:00.000Z', '2026-01-13T09:15:00.000Z']);
  });

  it('treats the first of 6 fields as seconds', () => {
    const schedule = parseSchedule('*/10 * * * * *', 'UTC');
    expect(slotsAfter(schedule, '2026-01-05T08:00:00Z', 3)).toEqual(['2026-01-05T08:00:10.000Z', '2026-01-05T08:00:20.000Z', '2026-01-05T08:00:30.000Z']);
    const exact = parseSchedule('30 0 12 * * *', 'UTC');
    expect(slotsAfter(exact, '2026-01-05T08:00:00Z', 2)).toEqual(['2026-01-05T12:00:30.000Z', '2026-01-06T12:00:30.000Z']);
  });

  it('trims the expression and keeps the timezone', () => {
    const schedule = parseSchedule('  0 * * * *  ', 'Europe/Berlin');
    expect(schedule.expression).toBe('0 * * * *');
    expect(schedule.timezone).toBe('Europe/Berlin');
  });

  it.each([
    ['@hourly', ['2026-01-05T09:00:00.000Z', '2026-01-05T10:00:00.000Z']],
    ['@daily', ['2026-01-06T00:00:00.000Z', '2026-01-07T00:00:00.000Z']],
    ['@midnight', ['2026-01-06T00:00:00.000Z', '2026-01-07T00:00:00.000Z']],
    // 2026-01-05 is a Monday; @weekly fires on Sundays at midnight.
    ['@weekly', ['2026-01-11T00:00:00.000Z', '2026-01-18T00:00:00.000Z']],
    ['@monthly', ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z']],
    ['@yearly', ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z']],
    ['@annually', ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z']],
  ])('understands the nickname %s', (nickname, expected) => {
    expect(slotsAfter(parseSchedule(nickname, 'UTC'), '2026-01-05T08:30:00Z', 2)).toEqual(expected);
  });

  it.each(['@reboot', '@REBOOT', '  @reboot '])('refuses %j with a clear message', (expression) => {
    const error = validationErrorOf(() => parseSchedule(expression, 'UTC'));
    expect(error.details).toEqual([{ field: 'schedule', message: matching(/@reboot is not supported/) }]);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['too few fields', '* * *'],
    ['too many fields', '* * * * * * *'],
    ['minute out of range', '61 * * * *'],
    ['hour out of range', '0 24 * * *'],
    ['garbage', 'every day at nine'],
    ['unknown nickname', '@fortnightly'],
    ['too long', `0 ${'1,'.repeat(150)}1 * * *`],
  ])('refuses an invalid expression (%s) with a ValidationError naming `schedule`', (_label, expression) => {
    const error = validationErrorOf(() => parseSchedule(expression, 'UTC'));
    expect(error.details).toHaveLength(1);
    expect(error.details[0]?.field).toBe('schedule');
    expect(error.message).toMatch(/^schedule: /);
  });

  it('names a different field when asked', () => {
    const error = validationErrorOf(() => parseSchedule('nope', 'UTC', 'cron'));
    expect(error.details[0]?.field).toBe('cron');
  });
});

describe('stepped values with a start (N/step), as Kubernetes, Quartz and AWS accept them', () => {
  it('`5/10 * * * * *` fires at 5, 15, ... 55 seconds past each minute', () => {
    const schedule = parseSchedule('5/10 * * * * *', 'UTC');
    expect(slotsBetween(schedule, '2026-01-05T08:00:00Z', '2026-01-05T08:01:00Z')).toEqual(
      [5, 15, 25, 35, 45, 55].map((second) => `2026-01-05T08:00:${String(second).padStart(2, '0')}.000Z`),
    );
  });

  it('`0/5 * * * *` is every five minutes from :00, like `*/5`', () => {
    const stepped = parseSchedule('0/5 * * * *', 'UTC');
    const wildcard = parseSchedule('*/5 * * * *', 'UTC');
    expect(slotsAfter(stepped, '2026-01-05T08:02:00Z', 4)).toEqual([
      '2026-01-05T08:05:00.000Z',
      '2026-01-05T08:10:00.000Z',
      '2026-01-05T08:15:00.000Z',
      '2026-01-05T08:20:00.000Z',
    ]);
    expect(slotsAfter(stepped, '2026-01-05T08:02:00Z', 30)).toEqual(slotsAfter(wildcard, '2026-01-05T08:02:00Z', 30));
  });

  it("a start runs up to the field's maximum: `0 0 2/10 * *` fires on days 2, 12, 22", () => {
    expect(slotsAfter(parseSchedule('0 0 2/10 * *', 'UTC'), '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-02T00:00:00.000Z',
      '2026-01-12T00:00:00.000Z',
      '2026-01-22T00:00:00.000Z',
      '2026-02-02T00:00:00.000Z',
    ]);
  });

  it.each([
    ['a step without a start', '/10 * * * *', /write \*\/10 or 0\/10/],
    ['a start out of range', '70/5 * * * *', /70\/5: the start is out of range/],
    ['a zero step', '5/0 * * * *', /stepping: 0/],
  ])('refuses %s with a message naming `schedule`', (_label, expression, message) => {
    const error = validationErrorOf(() => parseSchedule(expression, 'UTC'));
    expect(error.details).toEqual([{ field: 'schedule', message: matching(message) }]);
  });
});

describe('shortestInterval: how close two fires of a schedule come', () => {
  it.each([
    ['*/10 * * * * *', 'UTC', 10_000],
    ['0,1 9 * * *', 'UTC', 60_000],
    ['0 9 * * 1-5', 'UTC', 86_400_000],
    // Spring forward on 2026-03-29 in Berlin: 01:00 CET and 03:00 CEST are one real hour apart.
    ['0 1,3 * * *', 'Europe/Berlin', 3_600_000],
  ])('%s in %s: %d ms', (expression, timezone, expected) => {
    expect(shortestInterval(parseSchedule(expression, timezone), t('2026-03-20T00:00:00Z'), 0)).toBe(expected);
  });

  it('stops at the first gap below the floor, and is null for a schedule that fires once', () => {
    expect(shortestInterval(parseSchedule('* * * * * *', 'UTC'), t('2026-01-05T08:00:00Z'), 60_000)).toBe(1000);
    expect(shortestInterval(parseSchedule('0 0 1 1 *', 'UTC'), t('2026-01-05T08:00:00Z'), 0)).toBe(365 * 86_400_000);
  });

  it('formats durations as the configuration writes them', () => {
    expect([90_000, 300_000, 7_200_000, 1500].map(formatDuration)).toEqual(['90s', '5m', '2h', '1500ms']);
  });
});

describe('validateSchedule', () => {
  it('refuses an expression that never fires (31 February)', () => {
    // It parses: only validateSchedule knows it never fires.
    expect(parseSchedule('0 0 31 2 *', 'UTC').nextAfter(t('2026-01-05T08:00:00Z'))).toBeNull();
    const error = validationErrorOf(() => validateSchedule('0 0 31 2 *', 'UTC', t('2026-01-05T08:00:00Z')));
    expect(error.details).toEqual([{ field: 'schedule', message: matching(/never fires/) }]);
  });

  it('returns the schedule of a valid expression', () => {
    const schedule = validateSchedule('0 12 * * *', 'UTC', t('2026-01-05T08:00:00Z'));
    expect(iso(schedule.nextAfter(t('2026-01-05T08:00:00Z')))).toBe('2026-01-05T12:00:00.000Z');
  });

  it('refuses invalid expressions like parseSchedule', () => {
    const error = validationErrorOf(() => validateSchedule('0 0 32 * *', 'UTC', t('2026-01-05T08:00:00Z')));
    expect(error.details[0]?.field).toBe('schedule');
  });
});

describe('timezones', () => {
  it('fires a Europe/Berlin daily schedule at local time, in winter and in summer', () => {
    const schedule = parseSchedule('0 9 * * *', 'Europe/Berlin');
    // CET = UTC+1 in January, CEST = UTC+2 in July.
    expect(iso(schedule.nextAfter(t('2026-01-05T00:00:00Z')))).toBe('2026-01-05T08:00:00.000Z');
    expect(iso(schedule.nextAfter(t('2026-07-01T00:00:00Z')))).toBe('2026-07-01T07:00:00.000Z');
  });

  it('fires an America/New_York daily schedule at local time', () => {
    const schedule = parseSchedule('0 9 * * *', 'America/New_York');
    // EST = UTC-5 in January, EDT = UTC-4 in July.
    expect(slotsAfter(schedule, '2026-01-05T00:00:00Z', 2)).toEqual(['2026-01-05T14:00:00.000Z', '2026-01-06T14:00:00.000Z']);
    expect(iso(schedule.nextAfter(t('2026-07-01T00:00:00Z')))).toBe('2026-07-01T13:00:00.000Z');
  });

  it('the same expression fires at different instants in different timezones', () => {
    const utc = parseSchedule('0 9 * * *', 'UTC').nextAfter(t('2026-01-05T00:00:00Z'));
    const berlin = parseSchedule('0 9 * * *', 'Europe/Berlin').nextAfter(t('2026-01-05T00:00:00Z'));
    expect(utc! - berlin!).toBe(3600_000);
  });

  it('normalizeTimezone accepts IANA names and returns the canonical one', () => {
    expect(normalizeTimezone('UTC')).toBe('UTC');
    expect(normalizeTimezone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(normalizeTimezone('america/new_york')).toBe('America/New_York');
  });

  it.each(['Mars/Olympus_Mons', 'Europe/Berlinn', 'UTC+25', 'not a zone'])('normalizeTimezone refuses %j', (zone) => {
    const error = validationErrorOf(() => normalizeTimezone(zone));
    expect(error.details).toEqual([{ field: 'timezone', message: containing(zone) }]);
  });

  it('normalizeTimezone refuses an empty name and can name another field', () => {
    expect(validationErrorOf(() => normalizeTimezone('  ')).details[0]?.field).toBe('timezone');
    expect(validationErrorOf(() => normalizeTimezone('Nowhere/Land', 'tz')).details[0]?.field).toBe('tz');
  });
});

describe('daylight saving time in Europe/Berlin', () => {
  describe('spring forward, 2026-03-29 (02:00 CET jumps to 03:00 CEST)', () => {
    it('a fixed 02:30 schedule fires once, at 03:00 local (01:00Z)', () => {
      const schedule = parseSchedule('30 2 * * *', 'Europe/Berlin');
      expect(slotsBetween(schedule, '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z')).toEqual([
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-29T01:00:00.000Z', // 02:30 does not exist: 03:00 CEST
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
      ]);
    });

    it('an hourly schedule skips the missing hour', () => {
      const schedule = parseSchedule('0 * * * *', 'Europe/Berlin');
      // Local 00:00 CET (23:00Z) to local 05:00 CEST (03:00Z).
      const slots = slotsBetween(schedule, '2026-03-28T23:00:00Z', '2026-03-29T03:00:00Z');
      expect(slots).toEqual([
        '2026-03-28T23:00:00.000Z', // 00:00 CET
        '2026-03-29T00:00:00.000Z', // 01:00 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST (02:00 local never happened)
        '2026-03-29T02:00:00.000Z', // 04:00 CEST
      ]);
      // Four slots over four real hours: one fewer than the five local hours 00..04 would give.
      const localHours = slots.map((s) =>
        new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hourCycle: 'h23' }).format(new Date(s)),
      );
      expect(localHours).toEqual(['00', '01', '03', '04']);
    });
  });

  describe('fall back, 2026-10-25 (03:00 CEST goes back to 02:00 CET)', () => {
    it('a fixed 02:30 schedule fires once, at the first 02:30 (00:30Z)', () => {
      const schedule = parseSchedule('30 2 * * *', 'Europe/Berlin');
      expect(slotsBetween(schedule, '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z')).toEqual([
        '2026-10-24T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T00:30:00.000Z', // first 02:30 (CEST); the second (01:30Z) does not fire
        '2026-10-26T01:30:00.000Z', // 02:30 CET
      ]);
      // Asking from the first 02:30 skips the repeated one.
      expect(iso(schedule.nextAfter(t('2026-10-25T00:30:00Z')))).toBe('2026-10-26T01:30:00.000Z');
    });

    it('an hourly schedule fires on both 02:00s (00:00Z and 01:00Z)', () => {
      const schedule = parseSchedule('0 * * * *', 'Europe/Berlin');
      expect(slotsBetween(schedule, '2026-10-24T23:00:00Z', '2026-10-25T03:00:00Z')).toEqual([
        '2026-10-24T23:00:00.000Z', // 01:00 CEST
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T01:00:00.000Z', // 02:00 CET
        '2026-10-25T02:00:00.000Z', // 03:00 CET
      ]);
    });
  });

  it('latestAtOrBefore agrees with nextAfter on DST days', () => {
    const fixed = parseSchedule('30 2 * * *', 'Europe/Berlin');
    expect(iso(fixed.latestAtOrBefore(t('2026-03-29T01:30:00Z')))).toBe('2026-03-29T01:00:00.000Z');
    // After the second 02:30 (01:30Z) the latest slot is still the first one.
    expect(iso(fixed.latestAtOrBefore(t('2026-10-25T02:00:00Z')))).toBe('2026-10-25T00:30:00.000Z');
  });
});

describe('nextAfter and latestAtOrBefore', () => {
  const hourly = parseSchedule('0 * * * *', 'UTC');

  it('nextAfter is strictly after: a slot gives the following slot', () => {
    expect(iso(hourly.nextAfter(t('2026-01-05T10:00:00Z')))).toBe('2026-01-05T11:00:00.000Z');
    expect(iso(hourly.nextAfter(t('2026-01-05T09:59:59.999Z')))).toBe('2026-01-05T10:00:00.000Z');
    expect(iso(hourly.nextAfter(t('2026-01-05T10:00:00.001Z')))).toBe('2026-01-05T11:00:00.000Z');
    expect(iso(hourly.nextAfter(t('2026-01-05T10:00:00.500Z')))).toBe('2026-01-05T11:00:00.000Z');
  });

  it('nextAfter is strictly after for second-precision schedules too', () => {
    const everySecond = parseSchedule('* * * * * *', 'UTC');
    expect(iso(everySecond.nextAfter(t('2026-01-05T10:00:00Z')))).toBe('2026-01-05T10:00:01.000Z');
    expect(iso(everySecond.nextAfter(t('2026-01-05T10:00:00.999Z')))).toBe('2026-01-05T10:00:01.000Z');
  });

  it('latestAtOrBefore includes a slot exactly at the instant', () => {
    expect(iso(hourly.latestAtOrBefore(t('2026-01-05T10:00:00Z')))).toBe('2026-01-05T10:00:00.000Z');
    expect(iso(hourly.latestAtOrBefore(t('2026-01-05T10:59:59.999Z')))).toBe('2026-01-05T10:00:00.000Z');
    expect(iso(hourly.latestAtOrBefore(t('2026-01-05T09:59:59.999Z')))).toBe('2026-01-05T09:00:00.000Z');
  });

  it('latestAtOrBefore finds the last slot far back', () => {
    const yearly = parseSchedule('@yearly', 'UTC');
    expect(iso(yearly.latestAtOrBefore(t('2026-06-15T12:00:00Z')))).toBe('2026-01-01T00:00:00.000Z');
    const berlinDaily = parseSchedule('0 9 * * *', 'Europe/Berlin');
    expect(iso(berlinDaily.latestAtOrBefore(t('2026-01-05T07:59:59Z')))).toBe('2026-01-04T08:00:00.000Z');
    expect(iso(berlinDaily.latestAtOrBefore(t('2026-01-05T08:00:00Z')))).toBe('2026-01-05T08:00:00.000Z');
  });

  it('latestAtOrBefore and nextAfter bracket any instant', () => {
    const schedule = parseSchedule('*/15 9-17 * * 1-5', 'America/New_York');
    for (const at of ['2026-01-05T15:07:00Z', '2026-01-09T23:00:00Z', '2026-03-08T12:00:00Z', '2026-11-01T06:30:00Z']) {
      const before = schedule.latestAtOrBefore(t(at));
      const after = schedule.nextAfter(t(at));
      expect(before).not.toBeNull();
      expect(after).not.toBeNull();
      expect(before!).toBeLessThanOrEqual(t(at));
      expect(after!).toBeGreaterThan(t(at));
      // Nothing fires in between.
      expect(schedule.nextAfter(before!)).toBe(after);
    }
  });

  it('latestAtOrBefore returns null when the schedule never fired', () => {
    expect(parseSchedule('0 0 31 2 *', 'UTC').latestAtOrBefore(t('2026-01-05T08:00:00Z'))).toBeNull();
  });
});

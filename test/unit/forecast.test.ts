import { describe, expect, it } from 'vitest';
import { parseSchedule, type CronSchedule } from '../../src/domain/cron.js';
import { costQuantiles, countFires, forecastSchedule, nextUtcMonthStart, sumForecasts } from '../../src/domain/forecast.js';
import { addZonedDays, offsetChanges, utcOffsetMs } from '../../src/domain/zoned-time.js';

const t = (iso: string): number => Date.parse(iso);
const HOUR = 3_600_000;

/** The slots in (from, to] one by one: the reference the fast count is held to. */
function slowCount(schedule: CronSchedule, from: number, to: number): number {
  let count = 0;
  for (let slot = schedule.nextAfter(from); slot !== null && slot <= to; slot = schedule.nextAfter(slot)) count++;
  return count;
}

/** Fires in the next `days` days from `local` wall time (an ISO string with its offset) in `timezone`. */
function firesFrom(expression: string, timezone: string, from: string, days: number): number {
  const schedule = parseSchedule(expression, timezone);
  const now = t(from);
  return countFires(schedule, now, addZonedDays(now, days, timezone));
}

describe('zoned time', () => {
  it('reads a zone offset, DST included', () => {
    expect(utcOffsetMs(t('2026-01-15T12:00:00Z'), 'Europe/Berlin')).toBe(HOUR);
    expect(utcOffsetMs(t('2026-07-15T12:00:00Z'), 'Europe/Berlin')).toBe(2 * HOUR);
    expect(utcOffsetMs(t('2026-07-15T12:00:00Z'), 'America/New_York')).toBe(-4 * HOUR);
    expect(utcOffsetMs(t('2026-07-15T12:00:00Z'), 'Asia/Kolkata')).toBe(5.5 * HOUR);
    expect(utcOffsetMs(t('2026-07-15T12:00:00Z'), 'UTC')).toBe(0);
  });

  it('finds the instants the offset changes, to the millisecond', () => {
    // EU clocks change at 01:00 UTC on the last Sundays of March and October.
    expect(offsetChanges('Europe/Berlin', t('2026-01-01T00:00:00Z'), t('2027-01-01T00:00:00Z'))).toEqual([
      t('2026-03-29T01:00:00Z'),
      t('2026-10-25T01:00:00Z'),
    ]);
    expect(offsetChanges('UTC', t('2026-01-01T00:00:00Z'), t('2027-01-01T00:00:00Z'))).toEqual([]);
  });

  it('adds calendar days at the same wall time: 23 and 25 hour days, the gap moved forward, the repeated hour taken first', () => {
    // Midnight to midnight in Berlin across the spring change: 23 hours; across the autumn one: 25.
    expect(addZonedDays(t('2026-03-28T23:00:00Z'), 1, 'Europe/Berlin') - t('2026-03-28T23:00:00Z')).toBe(23 * HOUR);
    expect(addZonedDays(t('2026-10-24T22:00:00Z'), 1, 'Europe/Berlin') - t('2026-10-24T22:00:00Z')).toBe(25 * HOUR);
    // 02:30 on 2026-03-28 (CET) + 1 day: 02:30 does not exist on the 29th, it becomes 03:30 CEST.
    expect(new Date(addZonedDays(t('2026-03-28T01:30:00Z'), 1, 'Europe/Berlin')).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 on 2026-10-24 (CEST) + 1 day: 02:30 happens twice on the 25th; the first is 00:30 UTC.
    expect(new Date(addZonedDays(t('2026-10-24T00:30:00Z'), 1, 'Europe/Berlin')).toISOString()).toBe('2026-10-25T00:30:00.000Z');
    expect(addZonedDays(t('2026-01-10T12:00:00Z'), 30, 'UTC')).toBe(t('2026-02-09T12:00:00Z'));
  });
});

describe('countFires: hand-computed cases', () => {
  it('counts a daily schedule, the slot at the end included and the one at the start not', () => {
    // Jan 11 ... Feb 9 at 09:00: 30 slots.
    expect(firesFrom('0 9 * * *', 'UTC', '2026-01-10T12:00:00Z', 30)).toBe(30);
    // Starting on a slot: that one is not counted, the one 30 days later is.
    expect(firesFrom('0 9 * * *', 'UTC', '2026-01-10T09:00:00Z', 30)).toBe(30);
    expect(firesFrom('0 9 * * *', 'UTC', '2026-01-10T12:00:00Z', 1)).toBe(1);
  });

  it('counts weekdays only', () => {
    // From Monday 2026-01-05 10:00: Tue-Fri, then Monday the 12th at 09:00 (before 10:00).
    expect(firesFrom('0 9 * * 1-5', 'UTC', '2026-01-05T10:00:00Z', 7)).toBe(5);
    // Four weeks of weekdays.
    expect(firesFrom('0 9 * * 1-5', 'UTC', '2026-01-05T10:00:00Z', 28)).toBe(20);
  });

  it('counts the hours of the local day: 23 on the spring change, 25 on the autumn change (Europe/Berlin)', () => {
    // 2026-03-29 00:00 CET to 2026-03-30 00:00 CEST: 01:00, 03:00 ... 23:00 and the next midnight.
    expect(firesFrom('0 * * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', 1)).toBe(23);
    // 2026-10-25 00:00 CEST to 2026-10-26 00:00 CET: 02:00 twice.
    expect(firesFrom('0 * * * *', 'Europe/Berlin', '2026-10-24T22:00:00Z', 1)).toBe(25);
    // An ordinary day.
    expect(firesFrom('0 * * * *', 'Europe/Berlin', '2026-05-09T22:00:00Z', 1)).toBe(24);
  });

  it('fires a fixed time in the spring gap once after the gap, and once on the autumn day', () => {
    // 02:30 does not exist on 2026-03-29 in Berlin: it fires at 03:00 CEST instead, once.
    expect(firesFrom('30 2 * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', 1)).toBe(1);
    // Three days around it: the 29th (03:00), the 30th and the 31st (02:30).
    expect(firesFrom('30 2 * * *', 'Europe/Berlin', '2026-03-28T11:00:00Z', 3)).toBe(3);
    // 02:30 happens twice on 2026-10-25: a fixed-time schedule fires at the first only.
    expect(firesFrom('30 2 * * *', 'Europe/Berlin', '2026-10-24T22:00:00Z', 1)).toBe(1);
    // An interval schedule follows the clock through both copies of 02:00-02:59: 02:00, 02:30 twice.
    expect(firesFrom('*/30 2 * * *', 'Europe/Berlin', '2026-10-24T22:00:00Z', 1)).toBe(4);
    expect(firesFrom('*/30 2 * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', 1)).toBe(0);
  });

  it('counts a seconds schedule exactly: 86,400 a day, 82,800 and 90,000 on the change days', () => {
    expect(firesFrom('* * * * * *', 'UTC', '2026-01-10T00:00:00Z', 1)).toBe(86_400);
    expect(firesFrom('* * * * * *', 'Europe/Berlin', '2026-03-28T23:00:00Z', 1)).toBe(82_800);
    expect(firesFrom('* * * * * *', 'Europe/Berlin', '2026-10-24T22:00:00Z', 1)).toBe(90_000);
    // A leap year's 366 days of it, quickly.
    const started = performance.now();
    expect(firesFrom('* * * * * *', 'Europe/Berlin', '2027-12-31T23:00:00Z', 366)).toBe(366 * 86_400);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('counts business hours every 10 seconds across the US spring change (America/New_York)', () => {
    // Monday 2026-03-02 00:00 EST, 14 days: 10 weekdays x 9 hours (09-17) x 360; the change on Sunday the 8th takes none.
    expect(firesFrom('*/10 * 9-17 * * 1-5', 'America/New_York', '2026-03-02T05:00:00Z', 14)).toBe(10 * 9 * 360);
  });

  it('counts hours in a zone half an hour off UTC', () => {
    expect(firesFrom('0 * * * *', 'Asia/Kolkata', '2026-01-09T18:30:00Z', 1)).toBe(24);
    expect(firesFrom('*/20 * * * *', 'Asia/Kolkata', '2026-01-09T18:40:00Z', 2)).toBe(144);
  });

  it('agrees with a slot-by-slot walk across DST changes, in zones with whole, half-hour and 30-minute changes', () => {
    const cases: [string, string, string, number][] = [
      ['*/15 * * * * *', 'Europe/Berlin', '2026-03-28T20:17:13Z', 1],
      ['*/15 * * * * *', 'Europe/Berlin', '2026-10-24T20:17:13Z', 1],
      ['*/10 * 0-4 * * *', 'Europe/Berlin', '2026-03-27T00:00:00Z', 4],
      ['*/10 * 0-4 * * *', 'Europe/Berlin', '2026-10-23T00:00:00Z', 4],
      ['0 * * * *', 'Australia/Lord_Howe', '2026-10-02T00:00:00Z', 4],
      ['7,37 */2 * * *', 'America/New_York', '2026-03-01T00:00:00Z', 14],
      ['7,37 */2 * * *', 'America/New_York', '2026-10-25T00:00:00Z', 14],
      ['0,30 * * * *', 'Australia/Lord_Howe', '2026-10-01T00:00:00Z', 7],
      ['0,30 * * * *', 'Australia/Lord_Howe', '2026-04-01T00:00:00Z', 7],
      ['45 1-3 * * *', 'America/Santiago', '2026-04-01T00:00:00Z', 10],
      ['*/5 * * * *', 'Asia/Kolkata', '2026-02-01T00:00:00Z', 3],
      ['0 12 L * *', 'Europe/London', '2026-01-15T00:00:00Z', 366],
      ['30 2 * * 0', 'Europe/Berlin', '2026-03-01T00:00:00Z', 60],
    ];
    for (const [expression, timezone, from, days] of cases) {
      const schedule = parseSchedule(expression, timezone);
      const to = addZonedDays(t(from), days, timezone);
      expect(countFires(schedule, t(from), to), `${expression} in ${timezone} from ${from}`).toBe(slowCount(schedule, t(from), to));
    }
  });
});

describe('cost percentiles and the projection', () => {
  it('interpolates between the nearest ranks', () => {
    // Sorted 0.01 0.02 0.03 0.04: p50 at rank 1.5 -> 0.025; p95 at rank 2.85 -> 0.03 + 0.85 x 0.01.
    expect(costQuantiles([0.04, 0.01, 0.03, 0.02])).toEqual({ p50: 0.025, p95: 0.0385, basedOnRuns: 4 });
    expect(costQuantiles([0.2])).toEqual({ p50: 0.2, p95: 0.2, basedOnRuns: 1 });
    expect(costQuantiles([])).toEqual({ p50: null, p95: null, basedOnRuns: 0 });
    // 20 runs: 19 at 0.10 and one at 1.00; p95 at rank 18.05 -> 0.10 + 0.05 x 0.90.
    expect(costQuantiles([...Array.from({ length: 19 }, () => 0.1), 1])).toEqual({ p50: 0.1, p95: 0.145, basedOnRuns: 20 });
  });

  it('projects fires times each percentile, and the rest of the UTC month', () => {
    const schedule = parseSchedule('0 9 * * *', 'UTC');
    const now = t('2026-01-10T12:00:00Z');
    const forecast = forecastSchedule(schedule, now, 30, [0.04, 0.01, 0.03, 0.02]);
    expect(forecast).toEqual({
      days: 30,
      fires: 30,
      costPerRun: { p50: 0.025, p95: 0.0385, basedOnRuns: 4 },
      projectedUsd: { p50: 0.75, p95: 1.155 },
      // Jan 11 ... Jan 31: 21 slots.
      restOfMonth: { until: t('2026-02-01T00:00:00Z'), fires: 21, projectedUsd: { p50: 0.525, p95: 0.8085 } },
    });
  });

  it('leaves the money out without runs', () => {
    const forecast = forecastSchedule(parseSchedule('0 9 * * *', 'UTC'), t('2026-01-10T12:00:00Z'), 7, []);
    expect(forecast.fires).toBe(7);
    expect(forecast.projectedUsd).toEqual({ p50: null, p95: null });
    expect(forecast.restOfMonth.projectedUsd).toEqual({ p50: null, p95: null });
  });

  it('does not count a slot at midnight of the next month in this month', () => {
    expect(nextUtcMonthStart(t('2026-12-31T23:59:59Z'))).toBe(t('2027-01-01T00:00:00Z'));
    const forecast = forecastSchedule(parseSchedule('0 0 * * *', 'UTC'), t('2026-01-10T12:00:00Z'), 1, [1]);
    // Jan 11 ... Jan 31 at midnight; Feb 1 belongs to February.
    expect(forecast.restOfMonth.fires).toBe(21);
  });

  it('sums agents: fires and projections add up, costPerRun pools their runs', () => {
    const now = t('2026-01-10T12:00:00Z');
    const daily = forecastSchedule(parseSchedule('0 9 * * *', 'UTC'), now, 30, [0.1, 0.3]);
    const hourly = forecastSchedule(parseSchedule('0 * * * *', 'UTC'), now, 30, []);
    const sum = sumForecasts(30, now, [
      { agentId: 'a', forecast: daily, costs: [0.1, 0.3] },
      { agentId: 'b', forecast: hourly, costs: [] },
    ]);
    // 30 + 720 fires; only the daily agent has a cost: p50 0.2 x 30 = 6, p95 0.29 x 30 = 8.7.
    expect(sum.fires).toBe(750);
    expect(sum.projectedUsd).toEqual({ p50: 6, p95: 8.7 });
    expect(sum.costPerRun).toEqual({ p50: 0.2, p95: 0.29, basedOnRuns: 2 });
    expect(sum.restOfMonth.fires).toBe(21 + 21 * 24 + 11);
    expect(sum.agents).toEqual([
      { agentId: 'a', fires: 30, basedOnRuns: 2, projectedUsd: { p50: 6, p95: 8.7 } },
      { agentId: 'b', fires: 720, basedOnRuns: 0, projectedUsd: { p50: null, p95: null } },
    ]);
    expect(sumForecasts(30, now, []).projectedUsd).toEqual({ p50: null, p95: null });
  });
});

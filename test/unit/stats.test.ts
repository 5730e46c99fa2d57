import { describe, expect, it } from 'vitest';
import { dayOf, isoDay, roundUsd, summarizeRuns, type DayStatusCount } from '../../src/domain/stats.js';
import { PERIOD_MS, type RunStatus } from '../../src/domain/types.js';

const t = (iso: string): number => Date.parse(iso);
const NOW = t('2026-01-12T15:30:00Z');
const SINCE_7D = NOW - PERIOD_MS['7d'];

function row(day: string, status: RunStatus, count: number, costUsd = 0, durationMs = 0): DayStatusCount {
  return { day: dayOf(t(`${day}T00:00:00Z`)), status, count, costUsd, durationMs };
}

describe('summarizeRuns', () => {
  it('rounds the success rate to a whole percentage (13 of 14 -> 93)', () => {
    const totals = summarizeRuns([row('2026-01-12', 'success', 13), row('2026-01-12', 'error', 1)], SINCE_7D, NOW);
    expect(totals.successRate).toBe(93);
    expect(totals.totalRuns).toBe(14);
  });

  it('rounds half up (1 of 8 -> 13) and reports whole rates exactly', () => {
    expect(summarizeRuns([row('2026-01-12', 'success', 1), row('2026-01-12', 'error', 7)], SINCE_7D, NOW).successRate).toBe(13);
    expect(summarizeRuns([row('2026-01-12', 'success', 3), row('2026-01-12', 'cancelled', 1)], SINCE_7D, NOW).successRate).toBe(75);
    expect(summarizeRuns([row('2026-01-12', 'success', 5)], SINCE_7D, NOW).successRate).toBe(100);
  });

  it('gives 0 for rate and average when nothing finished', () => {
    const none = summarizeRuns([], SINCE_7D, NOW);
    expect(none).toMatchObject({ totalRuns: 0, successRate: 0, avgDurationMs: 0, totalCostUsd: 0 });
    const onlyActive = summarizeRuns([row('2026-01-12', 'running', 2), row('2026-01-12', 'queued', 1)], SINCE_7D, NOW);
    expect(onlyActive).toMatchObject({ totalRuns: 3, successRate: 0, avgDurationMs: 0 });
    expect(Number.isNaN(onlyActive.successRate)).toBe(false);
  });

  it('averages the duration over finished runs only', () => {
    const totals = summarizeRuns(
      [
        row('2026-01-11', 'success', 2, 0, 3000), // two runs, 3000 ms in all
        row('2026-01-12', 'error', 1, 0, 1000),
        // Queued/running runs have no duration, and must not dilute the mean.
        row('2026-01-12', 'running', 5, 0, 0),
        row('2026-01-12', 'queued', 4, 0, 0),
      ],
      SINCE_7D,
      NOW,
    );
    expect(totals.avgDurationMs).toBe(Math.round(4000 / 3));
    expect(totals.avgDurationMs).toBe(1333);
  });

  it('counts queued and running in the total, not in success or error', () => {
    const totals = summarizeRuns(
      [row('2026-01-12', 'success', 3), row('2026-01-12', 'error', 1), row('2026-01-12', 'queued', 2), row('2026-01-12', 'running', 1)],
      SINCE_7D,
      NOW,
    );
    expect(totals.totalRuns).toBe(7);
    expect(totals.successRate).toBe(75); // 3 of the 4 finished
    const today = totals.dailyRuns.find((d) => d.date === '2026-01-12');
    expect(today).toEqual({ date: '2026-01-12', success: 3, error: 1, total: 7, costUsd: 0 });
  });

  it('counts error, budget_exceeded and cancelled as errors', () => {
    const totals = summarizeRuns(
      [row('2026-01-10', 'error', 2), row('2026-01-10', 'budget_exceeded', 3), row('2026-01-10', 'cancelled', 4), row('2026-01-10', 'success', 1)],
      SINCE_7D,
      NOW,
    );
    expect(totals.dailyRuns.find((d) => d.date === '2026-01-10')).toEqual({ date: '2026-01-10', success: 1, error: 9, total: 10, costUsd: 0 });
    expect(totals.successRate).toBe(10);
  });

  it('fills every day of a 7d period, from the since-day to the now-day inclusive', () => {
    const totals = summarizeRuns([row('2026-01-08', 'success', 2, 0.5, 100)], SINCE_7D, NOW);
    expect(totals.dailyRuns.map((d) => d.date)).toEqual([
      '2026-01-05',
      '2026-01-06',
      '2026-01-07',
      '2026-01-08',
      '2026-01-09',
      '2026-01-10',
      '2026-01-11',
      '2026-01-12',
    ]);
    for (const day of totals.dailyRuns) {
      if (day.date === '2026-01-08') expect(day).toEqual({ date: '2026-01-08', success: 2, error: 0, total: 2, costUsd: 0.5 });
      else expect(day).toEqual({ date: day.date, success: 0, error: 0, total: 0, costUsd: 0 });
    }
  });

  it('fills a 24h period with two days and a 30d one with 31, in order', () => {
    const day = summarizeRuns([], NOW - PERIOD_MS['24h'], NOW).dailyRuns.map((d) => d.date);
    expect(day).toEqual(['2026-01-11', '2026-01-12']);
    const month = summarizeRuns([], NOW - PERIOD_MS['30d'], NOW).dailyRuns.map((d) => d.date);
    expect(month).toHaveLength(31);
    expect(month[0]).toBe('2025-12-13');
    expect(month[30]).toBe('2026-01-12');
    expect([...month].sort()).toEqual(month);
  });

  it('sorts days whatever order the rows come in', () => {
    const totals = summarizeRuns([row('2026-01-12', 'success', 1), row('2026-01-06', 'error', 1), row('2026-01-09', 'success', 1)], SINCE_7D, NOW);
    expect(totals.dailyRuns.map((d) => d.total)).toEqual([0, 1, 0, 0, 1, 0, 0, 1]);
  });

  it('rounds costs so float noise never shows (0.1 + 0.2 -> 0.3)', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    const totals = summarizeRuns([row('2026-01-12', 'success', 1, 0.1), row('2026-01-12', 'error', 1, 0.2)], SINCE_7D, NOW);
    expect(totals.totalCostUsd).toBe(0.3);
    expect(totals.dailyRuns.find((d) => d.date === '2026-01-12')?.costUsd).toBe(0.3);
  });

  it('includes the cost of runs still in progress and of cancelled runs', () => {
    const totals = summarizeRuns(
      [row('2026-01-12', 'running', 1, 0.25), row('2026-01-11', 'cancelled', 1, 0.5), row('2026-01-11', 'success', 1, 1)],
      SINCE_7D,
      NOW,
    );
    expect(totals.totalCostUsd).toBe(1.75);
    expect(totals.dailyRuns.find((d) => d.date === '2026-01-11')?.costUsd).toBe(1.5);
  });
});

describe('stats helpers', () => {
  it('roundUsd rounds to a micro-dollar', () => {
    expect(roundUsd(0.1 + 0.2)).toBe(0.3);
    expect(roundUsd(1.0000004)).toBe(1);
    expect(roundUsd(1.0000006)).toBe(1.000001);
  });

  it('dayOf and isoDay agree on UTC days', () => {
    expect(isoDay(dayOf(t('2026-01-12T00:00:00Z')))).toBe('2026-01-12');
    expect(isoDay(dayOf(t('2026-01-12T23:59:59.999Z')))).toBe('2026-01-12');
    expect(dayOf(t('2026-01-13T00:00:00Z')) - dayOf(t('2026-01-12T23:59:59.999Z'))).toBe(1);
  });
});

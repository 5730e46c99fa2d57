import type { DailyRuns, RunStatus } from './types.js';

const DAY_MS = 86_400_000;

/** Aggregates of runs for one UTC day and one status, as the store's GROUP BY returns them. */
export interface DayStatusCount {
  /** Days since the epoch (UTC). */
  day: number;
  status: RunStatus;
  count: number;
  costUsd: number;
  /** Sum of durations of the runs that have one (finished runs). */
  durationMs: number;
}

export interface RunTotals {
  totalRuns: number;
  /** Skipped runs: apart from every other figure (they did not run). */
  skippedRuns: number;
  successRate: number;
  avgDurationMs: number;
  totalCostUsd: number;
  dailyRuns: DailyRuns[];
}

/** Cost sums are rounded to a micro-dollar so float noise never reaches the API. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function dayOf(instant: number): number {
  return Math.floor(instant / DAY_MS);
}

/**
 * Turns per-day, per-status aggregates into the API's figures.
 *
 * - successRate: successful runs as a whole percentage of finished runs (0 when none finished).
 * - avgDurationMs: mean duration of finished runs, whole milliseconds.
 * - dailyRuns: one entry per UTC day from the day of `since` to the day of `now`, days without
 *   runs included, so charts have no gaps. `error` counts every finished run that did not
 *   succeed (error, budget_exceeded, cancelled); `total` counts every run, in progress too.
 * - skipped runs did not run: they count only in skippedRuns (the spec's totalRuns and
 *   runsInPeriod keep their meaning: runs that ran or will).
 */
export function summarizeRuns(rows: readonly DayStatusCount[], since: number, now: number): RunTotals {
  const days = new Map<number, DailyRuns>();
  for (let day = dayOf(since); day <= dayOf(now); day++) {
    days.set(day, { date: isoDay(day), success: 0, error: 0, total: 0, costUsd: 0 });
  }
  let total = 0;
  let finished = 0;
  let succeeded = 0;
  let durationSum = 0;
  let cost = 0;
  let skipped = 0;
  for (const row of rows) {
    if (row.status === 'skipped') {
      skipped += row.count;
      continue;
    }
    let bucket = days.get(row.day);
    if (!bucket) {
      bucket = { date: isoDay(row.day), success: 0, error: 0, total: 0, costUsd: 0 };
      days.set(row.day, bucket);
    }
    bucket.total += row.count;
    bucket.costUsd += row.costUsd;
    total += row.count;
    cost += row.costUsd;
    if (row.status === 'queued' || row.status === 'running') continue;
    finished += row.count;
    durationSum += row.durationMs;
    if (row.status === 'success') {
      succeeded += row.count;
      bucket.success += row.count;
    } else {
      bucket.error += row.count;
    }
  }
  const dailyRuns = [...days.entries()].sort(([a], [b]) => a - b).map(([, bucket]) => ({ ...bucket, costUsd: roundUsd(bucket.costUsd) }));
  return {
    totalRuns: total,
    skippedRuns: skipped,
    successRate: finished === 0 ? 0 : Math.round((succeeded / finished) * 100),
    avgDurationMs: finished === 0 ? 0 : Math.round(durationSum / finished),
    totalCostUsd: roundUsd(cost),
    dailyRuns,
  };
}

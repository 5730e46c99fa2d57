import { atFixedOffset, type CronSchedule } from './cron.js';
import type { FinalRunStatus } from './types.js';
import { addZonedDays, offsetChanges, utcOffsetMs } from './zoned-time.js';

/**
 * The cost forecast (issue 11): how often a schedule fires in the next days, times what the
 * agent's recent runs cost.
 *
 * - fires: the slots in (now, the same wall-clock time `days` calendar days later] in the
 *   schedule's timezone, so a day that changes the clocks is 23 or 25 hours long, and the slots of
 *   such a day are those cron.ts gives (a fixed-time slot in the spring gap fires once after it; an
 *   interval schedule fires in both copies of the repeated autumn hour).
 * - costPerRun: the 50th and 95th percentiles (linear interpolation between the nearest ranks, as
 *   numpy's default and Excel's PERCENTILE.INC) of the cost of the agent's last FORECAST_RUNS runs
 *   that started and ended (FORECAST_STATUSES: skipped rows and runs that never started cost
 *   nothing and say nothing about a run's cost). Null without such runs.
 * - projectedUsd: fires times each percentile; null without runs.
 * - restOfMonth: the same projection until the end of the UTC month, the window of the monthly
 *   spend caps: the month's spend so far plus this is "the projection for the month".
 * Amounts are rounded to a millionth of a dollar.
 */

export const FORECAST_DAYS_DEFAULT = 30;
export const FORECAST_DAYS_MAX = 366;
/** How many of an agent's latest runs the cost percentiles come from. */
export const FORECAST_RUNS = 50;
/** The statuses of a run whose cost tells what a run costs (`skipped` never ran). */
export const FORECAST_STATUSES = ['success', 'error', 'budget_exceeded', 'cancelled'] as const satisfies readonly FinalRunStatus[];

export interface CostPerRun {
  p50: number | null;
  p95: number | null;
  basedOnRuns: number;
}

export interface Projection {
  p50: number | null;
  p95: number | null;
}

export interface Forecast {
  days: number;
  fires: number;
  costPerRun: CostPerRun;
  projectedUsd: Projection;
  /** Until `until` (exclusive): the start of the next UTC month. */
  restOfMonth: { until: number; fires: number; projectedUsd: Projection };
}

/** One agent's part of the deployment's forecast. */
export interface AgentShare {
  agentId: string;
  fires: number;
  basedOnRuns: number;
  projectedUsd: Projection;
}

/** Every enabled agent's forecast summed; costPerRun pools the agents' recent costs. */
export interface DeploymentForecast extends Forecast {
  agents: AgentShare[];
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Within this of an offset change the zone's own DST rules apply; farther away it is a fixed offset. */
const NEAR_CHANGE_MS = 2 * HOUR_MS;

const micro = (usd: number): number => Math.round(usd * 1e6) / 1e6;
const mod = (value: number, divisor: number): number => ((value % divisor) + divisor) % divisor;

/** The q-quantile of sorted values, interpolated linearly between the nearest ranks; null for none. */
function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (sorted.length - 1) * q;
  const low = Math.floor(rank);
  const lower = sorted[low] ?? 0;
  const upper = sorted[Math.ceil(rank)] ?? lower;
  return lower + (rank - low) * (upper - lower);
}

/** The percentiles of costs (any order); null percentiles for none. */
export function costQuantiles(costs: readonly number[]): CostPerRun {
  const sorted = [...costs].sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5);
  const p95 = quantile(sorted, 0.95);
  return { p50: p50 === null ? null : micro(p50), p95: p95 === null ? null : micro(p95), basedOnRuns: sorted.length };
}

function project(fires: number, costs: readonly number[]): Projection {
  const sorted = [...costs].sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5);
  const p95 = quantile(sorted, 0.95);
  return { p50: p50 === null ? null : micro(fires * p50), p95: p95 === null ? null : micro(fires * p95) };
}

/** A stretch (start, end] counted with one calculator: a fixed offset, or (near an offset change) the zone's own rules. */
interface Stretch {
  start: number;
  end: number;
  schedule: CronSchedule;
  /** ms east of UTC; null near a change, where it is read per instant. */
  offset: number | null;
}

/** Offset changes around (from, to], by zone and range: a deployment's agents mostly share a few zones and one `now`. */
const changesMemo = new Map<string, number[]>();

function changesAround(timezone: string, from: number, to: number): number[] {
  const key = `${timezone} ${from} ${to}`;
  let changes = changesMemo.get(key);
  if (!changes) {
    changes = offsetChanges(timezone, from - NEAR_CHANGE_MS, to + NEAR_CHANGE_MS);
    if (changesMemo.size >= 64) changesMemo.clear();
    changesMemo.set(key, changes);
  }
  return changes;
}

/** Splits (from, to] into fixed-offset stretches and the stretches near an offset change. */
function stretches(schedule: CronSchedule, from: number, to: number, changes: readonly number[]): Stretch[] {
  const out: Stretch[] = [];
  const fixed = (start: number, end: number) => {
    const offset = utcOffsetMs(start + (end - start) / 2, schedule.timezone);
    // Offsets are whole minutes since ~1900; anything else keeps the zone's own rules.
    const usable = offset % MINUTE_MS === 0;
    out.push({ start, end, schedule: usable ? atFixedOffset(schedule, offset / MINUTE_MS) : schedule, offset: usable ? offset : null });
  };
  let cursor = from;
  for (const change of changes) {
    const nearStart = Math.max(change - NEAR_CHANGE_MS, cursor);
    const nearEnd = Math.min(change + NEAR_CHANGE_MS, to);
    if (nearStart > cursor) fixed(cursor, Math.min(nearStart, to));
    if (nearEnd > nearStart) out.push({ start: nearStart, end: nearEnd, schedule, offset: null });
    cursor = Math.max(cursor, nearEnd);
  }
  if (cursor < to) fixed(cursor, to);
  return out;
}

/**
 * Slots of one stretch. A whole local day (hour, minute) whose first slot is found counts as many
 * slots as every other whole day (hour, minute) with one: which seconds, minutes and hours of a
 * day fire does not depend on the day. So the walk costs a step per day that fires, and the first
 * block of each size is counted with the next smaller one (a seconds schedule has 86,400 slots a
 * day: 1 step a day, once 24 + 60 + 60). Near an offset change a day is not 24 hours: only hours
 * and minutes at least a minute away from the change jump.
 */
function countStretch(stretch: Stretch, sizes: readonly number[], changes: readonly number[], perBlock: Map<number, number>): number {
  let count = 0;
  let after = stretch.start;
  for (;;) {
    const next = stretch.schedule.nextAfter(after);
    if (next === null || next > stretch.end) return count;
    const offset = stretch.offset ?? utcOffsetMs(next, stretch.schedule.timezone);
    let jumped = false;
    for (const [i, size] of sizes.entries()) {
      const start = next - mod(next + offset, size);
      const end = start + size;
      // The whole block must lie in the stretch and not yet be counted (so `next` is its first slot).
      if (start <= after || end - 1 > stretch.end) continue;
      if (stretch.offset === null && changes.some((change) => change >= start - MINUTE_MS && change <= end + MINUTE_MS)) continue;
      const slots = perBlock.get(size) ?? countStretch({ ...stretch, start: next - 1, end: end - 1 }, sizes.slice(i + 1), changes, perBlock);
      perBlock.set(size, slots);
      count += slots;
      after = end - 1;
      jumped = true;
      break;
    }
    if (!jumped) {
      count++;
      after = next;
    }
  }
}

/** The slots of `schedule` in (from, to]. Exact, at a cost of about one step per day that fires. */
export function countFires(schedule: CronSchedule, from: number, to: number): number {
  if (to <= from) return 0;
  const changes = changesAround(schedule.timezone, from, to);
  const perBlock = new Map<number, number>();
  let fires = 0;
  for (const stretch of stretches(schedule, from, to, changes)) {
    fires += countStretch(stretch, stretch.offset === null ? [HOUR_MS, MINUTE_MS] : [DAY_MS, HOUR_MS, MINUTE_MS], changes, perBlock);
  }
  return fires;
}

/** The first instant of the UTC month after the one holding `now`. */
export function nextUtcMonthStart(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** The forecast of a schedule for the next `days` days, at the cost of runs that cost `costs`. */
export function forecastSchedule(schedule: CronSchedule, now: number, days: number, costs: readonly number[]): Forecast {
  const fires = countFires(schedule, now, addZonedDays(now, days, schedule.timezone));
  const until = nextUtcMonthStart(now);
  const monthFires = countFires(schedule, now, until - 1);
  return {
    days,
    fires,
    costPerRun: costQuantiles(costs),
    projectedUsd: project(fires, costs),
    restOfMonth: { until, fires: monthFires, projectedUsd: project(monthFires, costs) },
  };
}

const sumOf = (values: (number | null)[]): number | null => {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : micro(known.reduce((sum, value) => sum + value, 0));
};

function sumProjections(projections: Projection[]): Projection {
  return { p50: sumOf(projections.map((p) => p.p50)), p95: sumOf(projections.map((p) => p.p95)) };
}

/**
 * The deployment's forecast from its enabled agents' own: fires and projections summed (an agent
 * without runs adds its fires but no money; the projections are null when no agent has runs; the
 * p95s summed are an upper estimate, since agents rarely all cost their most at once), and
 * costPerRun over all their recent runs together.
 */
export function sumForecasts(
  days: number,
  now: number,
  forecasts: readonly { agentId: string; forecast: Forecast; costs: readonly number[] }[],
): DeploymentForecast {
  return {
    days,
    fires: forecasts.reduce((sum, { forecast }) => sum + forecast.fires, 0),
    costPerRun: costQuantiles(forecasts.flatMap(({ costs }) => costs)),
    projectedUsd: sumProjections(forecasts.map(({ forecast }) => forecast.projectedUsd)),
    restOfMonth: {
      until: nextUtcMonthStart(now),
      fires: forecasts.reduce((sum, { forecast }) => sum + forecast.restOfMonth.fires, 0),
      projectedUsd: sumProjections(forecasts.map(({ forecast }) => forecast.restOfMonth.projectedUsd)),
    },
    agents: forecasts.map(({ agentId, forecast }) => ({
      agentId,
      fires: forecast.fires,
      basedOnRuns: forecast.costPerRun.basedOnRuns,
      projectedUsd: forecast.projectedUsd,
    })),
  };
}

import { LIMITS } from '../defaults.js';
import { ValidationError } from './errors.js';
import { iso } from './run-json.js';
import type { NewOutboxEvent } from './webhook-events.js';

/**
 * Glossary of spend control (pure: the store reads the figures, this file decides)
 *
 * - cap: a most-USD per window, of one agent (its dailyBudgetUsd / monthlyBudgetUsd) or of the
 *   deployment (GET/PUT /api/budget). Null: no cap.
 * - window: the UTC day or the UTC month an instant falls in, [start, end).
 * - ended spend: the cost of runs that ended in the window (the `spend_daily` ledger, keyed by
 *   the UTC day of each run's end).
 * - accrued: what runs still in progress have cost so far (their usage, written as they run).
 * - reserved: what a running run holds under the caps: its effective maxBudgetUsd when it started.
 *   A running run counts as the larger of its cost so far and its reservation.
 * - spend (of a window, for starting runs): ended + over running runs sum(max(cost, reserved)).
 * - spent (of a window, for alerts): ended + accrued; money really spent, reservations aside, so
 *   a run that reserves the whole remainder does not announce the cap as used up.
 * - used up: what is left under a cap is at most USED_UP_EPSILON_USD.
 * - alert: `budget.warning` when spent first reaches warnAtPercent of a cap in a window,
 *   `budget.exhausted` when spent uses the cap up; each at most once per cap and window.
 */

/** What is left under a cap at or below this is nothing (float sums of costs are not exact). */
export const USED_UP_EPSILON_USD = 0.000001;

export const DEFAULT_WARN_AT_PERCENT = 80;

const DAY_MS = 86_400_000;

export type BudgetScope = 'agent' | 'deployment';
export type BudgetWindow = 'day' | 'month';
export type BudgetAlertLevel = 'warning' | 'exhausted';

/** The deployment's caps (null: none) and the share of a cap at which budget.warning is sent (it applies to agents' caps too). */
export interface BudgetSettings {
  dailyUsd: number | null;
  monthlyUsd: number | null;
  warnAtPercent: number;
}

/** One UTC window: [start, end) in epoch ms. */
export interface SpendWindow {
  start: number;
  end: number;
}

/** The UTC day `instant` falls in. */
export function utcDay(instant: number): SpendWindow {
  const start = Math.floor(instant / DAY_MS) * DAY_MS;
  return { start, end: start + DAY_MS };
}

/** The UTC month `instant` falls in. */
export function utcMonth(instant: number): SpendWindow {
  const date = new Date(instant);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
}

export function windowOf(window: BudgetWindow, instant: number): SpendWindow {
  return window === 'day' ? utcDay(instant) : utcMonth(instant);
}

/** The UTC day number (days since the epoch) of an instant: the spend ledger's key. */
export function epochDay(instant: number): number {
  return Math.floor(instant / DAY_MS);
}

/** A window's figures, as the store reads them in one statement. */
export interface WindowFigures {
  /** Cost of the runs that ended in the window. */
  endedUsd: number;
}

/** What runs in progress (of the cap's scope) have cost so far, and what they count as under the caps: sum(max(cost, reserved)). */
export interface ActiveFigures {
  accruedUsd: number;
  heldUsd: number;
}

/** One cap that applies, with the spend in its window. */
export interface CapState {
  scope: BudgetScope;
  window: BudgetWindow;
  capUsd: number;
  windowStart: number;
  windowEnd: number;
  /** Ended runs' cost plus what running runs have cost so far. */
  spentUsd: number;
  /** What running runs hold beyond what they have cost so far (their reservations' unspent part). */
  reservedUsd: number;
}

/** The caps of one scope and window, with that window's figures: a CapState, or null when the cap is null. */
export function capState(
  scope: BudgetScope,
  window: BudgetWindow,
  capUsd: number | null,
  now: number,
  ended: WindowFigures,
  active: ActiveFigures,
): CapState | null {
  if (capUsd === null) return null;
  const { start, end } = windowOf(window, now);
  return {
    scope,
    window,
    capUsd,
    windowStart: start,
    windowEnd: end,
    spentUsd: ended.endedUsd + active.accruedUsd,
    reservedUsd: Math.max(0, active.heldUsd - active.accruedUsd),
  };
}

/** What is left under a cap for a run about to start: the cap less the spend (spent and reserved). */
export function remainingUsd(cap: CapState): number {
  return cap.capUsd - cap.spentUsd - cap.reservedUsd;
}

export function isUsedUp(cap: CapState): boolean {
  return remainingUsd(cap) <= USED_UP_EPSILON_USD;
}

/** Whether a run may start: with what maxBudgetUsd and what it reserves, or not, because of which cap. */
export type RunDecision = { kind: 'run'; maxBudgetUsd: number | null; reservedUsd: number } | { kind: 'skip'; cap: CapState };

/**
 * The decision for a run about to start under `caps` (those that apply; null ones left out) with
 * the agent's per-run limit. No cap: the per-run limit, nothing reserved. A used-up cap: skip
 * (the first used up, in the order given). Otherwise the run gets the smallest of the per-run
 * limit and each cap's remainder, and reserves all of it: a run without a per-run limit takes
 * the whole remainder, so that two runs can never both spend the same dollars.
 */
export function decideRun(caps: readonly CapState[], perRunLimitUsd: number | null): RunDecision {
  if (caps.length === 0) return { kind: 'run', maxBudgetUsd: perRunLimitUsd, reservedUsd: 0 };
  const usedUp = caps.find(isUsedUp);
  if (usedUp) return { kind: 'skip', cap: usedUp };
  const allowed = Math.min(perRunLimitUsd ?? Number.POSITIVE_INFINITY, ...caps.map(remainingUsd));
  return { kind: 'run', maxBudgetUsd: allowed, reservedUsd: allowed };
}

/** The coalescing key of the skips a used-up cap causes (runs' `skip_cause`): one per cap and window. */
export function capSkipCause(cap: CapState): string {
  return `cap:${cap.scope}:${cap.window}:${cap.windowStart}`;
}

/** USD as people read it: cents for whole amounts, up to four decimals for small ones ($5.00, $0.0123). */
export function formatUsd(usd: number): string {
  const fixed = usd.toFixed(4).replace(/0{1,2}$/, '');
  return `$${fixed}`;
}

/** The window as a date label: `2026-01-05 (UTC)` or `2026-01 (UTC)`. */
export function windowLabel(window: BudgetWindow, start: number): string {
  const date = iso(start);
  return `${window === 'day' ? date.slice(0, 10) : date.slice(0, 7)} (UTC)`;
}

function capName(cap: Pick<CapState, 'scope' | 'window'>): string {
  const which = cap.window === 'day' ? 'daily' : 'monthly';
  return cap.scope === 'agent' ? `the agent's ${which} spend cap` : `the deployment's ${which} spend cap`;
}

/** The output of a run a used-up cap stopped: the cap, its amount and the spend. */
export function capSkipOutput(cap: CapState): string {
  const held = cap.reservedUsd > USED_UP_EPSILON_USD ? ` and ${formatUsd(cap.reservedUsd)} reserved by runs in progress` : '';
  const when = cap.window === 'day' ? 'today' : 'this month';
  return `Skipped: ${capName(cap)} of ${formatUsd(cap.capUsd)} is used up (${formatUsd(cap.spentUsd)} spent${held} ${when}, ${windowLabel(cap.window, cap.windowStart)})`;
}

/** The share of a cap spent, as a percentage with one decimal (a cap of 0 is 100% used). */
export function percentOf(spentUsd: number, capUsd: number): number {
  if (capUsd <= 0) return 100;
  return Math.round((spentUsd / capUsd) * 1000) / 10;
}

/** The alert levels the spent money of a window has reached (each is sent once per window: the store keeps which were). */
export function alertLevels(cap: CapState, warnAtPercent: number): BudgetAlertLevel[] {
  const levels: BudgetAlertLevel[] = [];
  if (cap.spentUsd >= (cap.capUsd * warnAtPercent) / 100 - USED_UP_EPSILON_USD) levels.push('warning');
  if (cap.capUsd - cap.spentUsd <= USED_UP_EPSILON_USD) levels.push('exhausted');
  return levels;
}

/** What a budget event says: its agent (null for the deployment's caps) and the cap's state. */
export interface BudgetAlertData {
  agent: { id: string; name: string } | null;
  budget: {
    scope: BudgetScope;
    window: BudgetWindow;
    capUsd: number;
    spentUsd: number;
    percent: number;
    /** ISO instants: the window is [windowStart, windowEnd). */
    windowStart: string;
    windowEnd: string;
  };
}

/** The outbox event of an alert level reached for a cap. */
export function budgetEvent(level: BudgetAlertLevel, cap: CapState, agent: { id: string; name: string } | null): NewOutboxEvent {
  const data: BudgetAlertData = {
    // Only the id and name, whatever the caller holds (an Agent carries its prompt).
    agent: cap.scope === 'agent' && agent ? { id: agent.id, name: agent.name } : null,
    budget: {
      scope: cap.scope,
      window: cap.window,
      capUsd: cap.capUsd,
      spentUsd: roundUsd(cap.spentUsd),
      percent: percentOf(cap.spentUsd, cap.capUsd),
      windowStart: iso(cap.windowStart),
      windowEnd: iso(cap.windowEnd),
    },
  };
  return { type: level === 'warning' ? 'budget.warning' : 'budget.exhausted', agentId: data.agent?.id ?? null, runId: null, data: { ...data } };
}

/** Sums of float costs carry noise (0.30000000000000004): a millionth of a cent is below any price. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e8) / 1e8;
}

/** Whether an event's data is a budget event's (as the store wrote it). */
export function isBudgetAlertData(data: Record<string, unknown>): data is Record<string, unknown> & BudgetAlertData {
  const budget = data.budget;
  return typeof budget === 'object' && budget !== null && 'capUsd' in budget && 'spentUsd' in budget && 'window' in budget && 'scope' in budget;
}

/** One line for people (a Slack message's text): what was reached, of which cap, and how much is spent. */
export function budgetAlertText(type: 'budget.warning' | 'budget.exhausted', data: BudgetAlertData): string {
  const { budget } = data;
  const which = budget.window === 'day' ? 'daily' : 'monthly';
  const whose = data.agent ? `Agent ${data.agent.name}` : 'The deployment';
  const what = type === 'budget.exhausted' ? 'has used up' : `has spent ${budget.percent}% of`;
  const start = Date.parse(budget.windowStart);
  return `${whose} ${what} its ${which} spend cap of ${formatUsd(budget.capUsd)}: ${formatUsd(budget.spentUsd)} spent in ${windowLabel(budget.window, start)}`;
}

/** A deployment budget as a request gives it: checked (the route's schema checks too; the CLI and tests come here directly). */
export function checkBudgetSettings(input: { dailyUsd: number | null; monthlyUsd: number | null; warnAtPercent?: number }): BudgetSettings {
  for (const field of ['dailyUsd', 'monthlyUsd'] as const) {
    const value = input[field];
    if (value === null) continue;
    if (!Number.isFinite(value) || value < 0 || value > LIMITS.spendCapUsd) {
      throw ValidationError.field(field, `must be null or a number of USD from 0 to ${LIMITS.spendCapUsd}`);
    }
  }
  const warnAtPercent = input.warnAtPercent ?? DEFAULT_WARN_AT_PERCENT;
  if (!Number.isInteger(warnAtPercent) || warnAtPercent < 1 || warnAtPercent > 100) {
    throw ValidationError.field('warnAtPercent', 'must be a whole number from 1 to 100');
  }
  return { dailyUsd: input.dailyUsd, monthlyUsd: input.monthlyUsd, warnAtPercent };
}

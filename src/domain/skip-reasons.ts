import { iso } from './run-json.js';
import { formatDuration } from './schedule-interval.js';
import type { OverlapPolicy } from './types.js';

/**
 * Why a slot did not run, as a skipped run's coalescing key (`skip_cause`) and its output.
 *
 * Skips with one cause are one row: while a row's cause is open, each further skip of that cause
 * adds to its `skippedSlots` instead of writing a row. A run of the agent starting closes its open
 * causes (but the overlap cause naming that very run, which may go on blocking slots).
 *
 * - `overlap:<run id>`: the run that was queued or running when the slot came (overlapPolicy skip,
 *   or queue with a slot already waiting).
 * - `cap:<agent|deployment>:<day|month>:<window start ms>`: a spend cap used up (budgets.ts writes it).
 * - `missed:<instant>`: slots missed while the service was down or behind, keyed by the instant the
 *   scheduler (or the start-up recovery) of this process started, so one outage makes one row.
 */

/** The cause of slots skipped because the run `runId` was still active. */
export function overlapCause(runId: string): string {
  return `overlap:${runId}`;
}

/** The cause of slots missed during the outage that ended at `since` (a process start). */
export function missedCause(since: number): string {
  return `missed:${since}`;
}

/** The blocking run as a skip's output names it. */
export interface BlockingRun {
  id: string;
  status: string;
  trigger: string;
}

/** The output of a slot skipped because another run of the agent was active. */
export function overlapOutput(blocking: BlockingRun, policy: OverlapPolicy): string {
  const what = blocking.status === 'running' ? 'still running' : 'still waiting to start';
  const kind = blocking.trigger === 'retry' ? 'retry' : blocking.trigger === 'manual' ? 'manual run' : 'run';
  if (policy === 'queue') {
    return `Skipped: a slot was already waiting for the agent's previous run to end (overlapPolicy "queue" keeps one waiting); the ${kind} ${blocking.id} was ${what}.`;
  }
  return `Skipped: the agent's previous ${kind} ${blocking.id} was ${what} (overlapPolicy "skip").`;
}

/** Slots missed while the service was down, or its scheduler too far behind to run them. */
export interface MissedSlots {
  /** How many slots; exact unless `approximate` (a long outage of a frequent schedule is counted up to a bound, then estimated). */
  count: number;
  approximate: boolean;
  /** The first and the last of them. */
  first: number;
  last: number;
}

/** The output of a row of missed slots. */
export function missedOutput(slots: number, approximate: boolean, first: number | null, last: number | null, catchupWindowMs: number | null): string {
  const count = `${approximate ? 'about ' : ''}${slots} slot${slots === 1 ? '' : 's'}`;
  const span = first === null || last === null ? '' : first === last ? ` (${iso(first)})` : ` (from ${iso(first)} to ${iso(last)})`;
  const window =
    catchupWindowMs === null
      ? ''
      : ` After downtime only the latest missed slot runs, and only when it is less than the catch-up window (${formatDuration(catchupWindowMs)}, CRON_AGENTS_CATCHUP_WINDOW) old.`;
  return `Missed while the service was down (or too busy to fire them): ${count}${span} did not run.${window}`;
}

/** The output of a queued scheduled run whose slot became too old while the service was down. */
export const STALE_QUEUED_OUTPUT =
  'Missed while the service was down: the run was queued for its slot, which was older than the catch-up window when the service started again.';

/** Slots counted one by one before the rest of a long outage is estimated from their spacing. */
export const MISSED_COUNT_LIMIT = 500;

/**
 * The slots of `nextAfter` from `first` (a slot) to `last` (a slot at or after it), both
 * included: exact up to MISSED_COUNT_LIMIT, then estimated from the mean spacing of those counted.
 */
export function countSlots(nextAfter: (instant: number) => number | null, first: number, last: number): { count: number; approximate: boolean } {
  let count = 1;
  let slot = first;
  while (slot < last && count < MISSED_COUNT_LIMIT) {
    const next = nextAfter(slot);
    if (next === null || next > last) return { count, approximate: false };
    slot = next;
    count++;
  }
  if (slot >= last) return { count, approximate: false };
  const spacing = (slot - first) / (count - 1);
  return { count: count + Math.max(1, Math.round((last - slot) / spacing)), approximate: true };
}

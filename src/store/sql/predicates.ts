import { sql, type RawBuilder } from 'kysely';
import { ACTIVE_RUN_STATUSES, type FinalRunStatus, type RunStatus } from '../../domain/types.js';

/**
 * Whether a run has ended, defined once, from the domain's ACTIVE_RUN_STATUSES. In SQL it is a
 * literal on purpose: a planner can only prove that a query may use the partial index
 * `runs_active_idx` (migration 0001: `status in ('queued', 'running')`) when the query repeats
 * its predicate with the same constants; a bound parameter would hide them, and turn the queue
 * lookup into a scan of every run.
 */
const ACTIVE_STATUS_LIST = sql.raw(`(${ACTIVE_RUN_STATUSES.map((status) => `'${status}'`).join(', ')})`);

/** `<column> in ('queued', 'running')`: the run has not ended. `column` is the code's own, never input. */
export function activeRun(column: 'status' | 'runs.status' = 'status'): RawBuilder<boolean> {
  return sql<boolean>`${sql.raw(column)} in ${ACTIVE_STATUS_LIST}`;
}

/** `status not in ('queued', 'running')`: the run has ended (and so belongs in the totals ledger). */
export function finishedRun(column: 'status' = 'status'): RawBuilder<boolean> {
  return sql<boolean>`${sql.raw(column)} not in ${ACTIVE_STATUS_LIST}`;
}

/** The predicate of `runs_active_idx`, for queries of runs not yet ended. */
export const ACTIVE = activeRun();

/** Runs that have ended. */
export const FINISHED = finishedRun();

const ACTIVE_STATUSES: ReadonlySet<RunStatus> = new Set(ACTIVE_RUN_STATUSES);

/** The same rule for a row already read. */
export function isFinished(status: RunStatus): status is FinalRunStatus {
  return !ACTIVE_STATUSES.has(status);
}

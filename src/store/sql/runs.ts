import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { NewAuditEntry } from '../../domain/audit.js';
import type { Run, RunOutcome, RunUsage } from '../../domain/types.js';
import { overlapCause } from '../../domain/skip-reasons.js';
import { isFailedStatus } from '../../domain/webhook-events.js';
import { bigint, durationUntil, num, type DialectTraits } from '../dialect.js';
import type { Database, RunsTable } from '../schema.js';
import type { AbandonedRunsOptions, CancelResult, ClaimedRun, RunQuery, RunsStore } from '../store.js';
import type { SqlAgents } from './agents.js';
import type { SqlBudgets } from './budgets.js';
import { claimCandidate, mayStart } from './claim-rules.js';
import { ACTIVE } from './predicates.js';
import type { SqlOutbox } from './outbox.js';
import { toRun } from './run-rows.js';
import { withAudit, writeAudit } from './audit.js';
import type { SqlRunEndings } from './run-endings.js';
import type { SqlRunTotals } from './run-totals.js';
import type { SqlSkips } from './skips.js';

/**
 * Runs through their lifecycle: queued (manual runs here; scheduled ones in ticks.ts), claimed
 * by an executor under a lease, the lease renewed, ended by their executor, by a cancel or by
 * recovery. Every statement that ends a run adds it to the totals ledger, and writes its events
 * to the outbox (outbox.ts), in its transaction.
 */
export class SqlRuns implements RunsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly traits: DialectTraits,
    private readonly agents: SqlAgents,
    private readonly totals: SqlRunTotals,
    private readonly outbox: SqlOutbox,
    private readonly budgets: SqlBudgets,
    private readonly skips: SqlSkips,
    private readonly endings: SqlRunEndings,
  ) {}

  async enqueueManualRun(agentId: string, runId: string, now: number, audit?: NewAuditEntry): Promise<Run | null> {
    const enqueue = (db: Kysely<Database>) =>
      db
        .insertInto('runs')
        .columns(['id', 'agent_id', 'status', 'trigger', 'queued_at', 'agent_version'])
        .expression((eb) =>
          eb
            .selectFrom('agents')
            .select([
              sql.val(runId).as('id'),
              'agents.id as agent_id',
              sql.val('queued').as('status'),
              sql.val('manual').as('trigger'),
              bigint(now).as('queued_at'),
              'agents.version as agent_version',
            ])
            .where('agents.id', '=', agentId),
        )
        .returning('agent_version')
        .executeTakeFirst();
    const inserted = await withAudit(this.db, audit && { ...audit, details: { ...audit.details, runId } }, enqueue, (row) => row !== undefined);
    if (!inserted) return null;
    return toRun({ ...NEW_RUN, id: runId, agent_id: agentId, trigger: 'manual', queued_at: now, agent_version: inserted.agent_version });
  }

  /**
   * Claims the oldest queued run that may start, in one transaction with its spend reservation:
   * a run a used-up cap stops is recorded as skipped (naming the cap), and the next is tried.
   */
  async claimQueuedRun(executorId: string, now: number, leaseUntil: number): Promise<ClaimedRun | null> {
    for (;;) {
      const result = await this.claimOne(executorId, now, leaseUntil);
      if (result !== 'skipped') return result;
    }
  }

  /**
   * One claim, writing the claimed row once: on PostgreSQL a second update of a row another
   * transaction is waiting for (a cancel, a delete) deadlocks, so the agent, the retry rule and
   * the reservation are all decided while the run is still queued (its row locked by the claim).
   */
  private async claimOne(executorId: string, now: number, leaseUntil: number): Promise<ClaimedRun | null | 'skipped'> {
    let deliveries = 0;
    const result = await this.db.transaction().execute(async (trx): Promise<ClaimedRun | null | 'skipped'> => {
      // The oldest run that may start (claim-rules.ts: retries' not_before, held-back slots of a busy agent).
      const candidate = await claimCandidate(trx, this.traits, now);
      if (!candidate) return null;
      const agent = await this.agents.readAgent(trx, candidate.agentId);
      if (!agent) throw new Error(`run ${candidate.id} claimed for a missing agent`);
      if (candidate.trigger === 'retry' && !agent.enabled) {
        deliveries += await this.endings.cancelClaimedRetry(trx, candidate.id, now);
        return 'skipped';
      }
      const reservation = await this.budgets.reserve(trx, agent, candidate.id, now);
      deliveries = reservation.deliveries;
      if (reservation.kind === 'skip') {
        // Scheduled slots a cap stops coalesce into one row per cap and window; a manual run or a retry is a row of its own (skips.ts).
        const run = { id: candidate.id, agentId: candidate.agentId, scheduledFor: candidate.scheduledFor };
        const cause = candidate.trigger === 'schedule' ? reservation.cause : null;
        deliveries += (await this.skips.skipQueuedRun(trx, run, cause, () => reservation.output, now)).deliveries;
        return 'skipped';
      }
      const claimed = await trx
        .updateTable('runs')
        // The agent's version as the claim reads it: the one the run runs, whatever it was when queued.
        .set((eb) => ({
          status: 'running',
          executor_id: executorId,
          started_at: now,
          lease_expires_at: leaseUntil,
          reserved_usd: reservation.reservedUsd,
          agent_version: eb.selectFrom('agents').select('agents.version').whereRef('agents.id', '=', 'runs.agent_id'),
        }))
        .where('id', '=', candidate.id)
        .where('status', '=', 'queued')
        .where(mayStart(now))
        .returningAll()
        .executeTakeFirst();
      // Held back after all (another instance started a run of its agent meanwhile): the next pass passes it over.
      if (!claimed) return 'skipped';
      // A run of the agent starts: the skips it had piled up are closed (but those this run itself may cause).
      await this.skips.closeCauses(trx, claimed.agent_id, overlapCause(claimed.id));
      return { run: toRun(claimed), agent, maxBudgetUsd: reservation.maxBudgetUsd };
    });
    if (deliveries > 0) this.outbox.written();
    return result;
  }

  async renewLeases(executorId: string, runIds: string[], leaseUntil: number): Promise<{ held: string[]; cancelRequested: string[] }> {
    if (runIds.length === 0) return { held: [], cancelRequested: [] };
    const rows = await this.db
      .updateTable('runs')
      .set({ lease_expires_at: leaseUntil })
      .where('id', 'in', runIds)
      .where('executor_id', '=', executorId)
      .where('status', '=', 'running')
      .returning(['id', 'cancel_requested'])
      .execute();
    return {
      held: rows.map((r) => r.id),
      cancelRequested: rows.filter((r) => num(r.cancel_requested) === 1).map((r) => r.id),
    };
  }

  async recordUsage(runId: string, executorId: string, usage: RunUsage): Promise<void> {
    await this.db
      .updateTable('runs')
      .set(usageColumns(usage))
      .where('id', '=', runId)
      .where('executor_id', '=', executorId)
      .where('status', '=', 'running')
      .execute();
  }

  async finishRun(runId: string, executorId: string, outcome: RunOutcome, now: number): Promise<boolean> {
    let deliveries = 0;
    const finished = await this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('runs')
        .set({
          status: outcome.status,
          output: outcome.output,
          ...usageColumns(outcome),
          structured_output: outcome.structuredOutput === undefined || outcome.structuredOutput === null ? null : JSON.stringify(outcome.structuredOutput),
          completed_at: now,
          duration_ms: durationUntil(now),
          lease_expires_at: null,
        })
        .where('id', '=', runId)
        .where('executor_id', '=', executorId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await this.totals.addEndedRun(trx, runId);
      deliveries += await this.budgets.addEndedSpend(trx, [runId], now);
      deliveries += await this.outbox.emitRunsEnded(trx, [runId], now);
      // Its retry (maxRetries), or the agent's pause (pauseAfterFailures): run-endings.ts. Only a
      // failed run has either, so a success (most runs) reads nothing more.
      if (isFailedStatus(outcome.status)) deliveries += await this.endings.afterRunsEnded(trx, [runId], now);
      return true;
    });
    if (deliveries > 0) this.outbox.written();
    return finished;
  }

  async requestCancel(agentId: string, now: number, audit?: NewAuditEntry): Promise<CancelResult> {
    let deliveries = 0;
    const result = await this.db.transaction().execute(async (trx) => {
      await this.agents.lockAgent(trx, agentId);
      const queued = await trx
        .updateTable('runs')
        .set({ status: 'cancelled', output: 'Cancelled before it started', completed_at: now, duration_ms: 0 })
        .where('agent_id', '=', agentId)
        .where(ACTIVE)
        .where('status', '=', 'queued')
        .returning('id')
        .execute();
      await this.totals.addEndedRuns(
        trx,
        queued.map((r) => r.id),
      );
      deliveries += await this.budgets.addEndedSpend(
        trx,
        queued.map((r) => r.id),
        now,
      );
      deliveries += await this.outbox.emitRunsEnded(
        trx,
        queued.map((r) => r.id),
        now,
      );
      const running = await trx
        .updateTable('runs')
        .set({ cancel_requested: 1 })
        .where('agent_id', '=', agentId)
        .where(ACTIVE)
        .where('status', '=', 'running')
        .returning('id')
        .execute();
      const cancelled = { cancelledQueued: queued.map((r) => r.id), runningIds: running.map((r) => r.id) };
      if (audit && queued.length + running.length > 0) await writeAudit(trx, { ...audit, details: { ...audit.details, ...cancelled } });
      return cancelled;
    });
    if (deliveries > 0) this.outbox.written();
    return result;
  }

  async endAbandonedRuns(now: number, options: AbandonedRunsOptions): Promise<string[]> {
    let deliveries = 0;
    const result = await this.db.transaction().execute(async (trx) => {
      const ended = await this.endRunningAbandoned(trx, now, options.everything);
      await this.totals.addEndedRuns(trx, ended);
      deliveries += await this.budgets.addEndedSpend(trx, ended, now);
      deliveries += await this.outbox.emitRunsEnded(trx, ended, now);
      // Interrupted, not failed by the agent: retried when its maxRetries allows (run-endings.ts).
      deliveries += await this.endings.afterRunsEnded(trx, ended, now);
      // Queued runs lost nothing and stay queued, but scheduled slots too old to catch up.
      if (!options.everything || options.staleSlotsBefore === undefined) return ended;
      const stale = await this.endings.skipStaleQueued(trx, options.staleSlotsBefore, now);
      deliveries += stale.deliveries;
      return [...ended, ...stale.skipped];
    });
    if (deliveries > 0) this.outbox.written();
    return result;
  }

  async getRun(id: string): Promise<Run | null> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRun(row) : null;
  }

  async listRuns(agentId: string, query: RunQuery): Promise<Run[]> {
    let q = this.db.selectFrom('runs').selectAll().where('agent_id', '=', agentId);
    if (query.since !== null) q = q.where('queued_at', '>=', query.since);
    const rows = await q.orderBy('queued_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(toRun);
  }

  /** Ends as error the running runs whose lease has expired, or, with `everything`, all of them. */
  private async endRunningAbandoned(trx: Transaction<Database>, now: number, everything: boolean): Promise<string[]> {
    let running = trx
      .updateTable('runs')
      .set({
        status: 'error',
        output: everything
          ? 'The service stopped during the run (it was restarted or crashed); the run did not finish.'
          : 'The run lost its executor: the instance running it stopped renewing its lease.',
        completed_at: now,
        duration_ms: durationUntil(now),
        lease_expires_at: null,
      })
      .where(ACTIVE)
      .where('status', '=', 'running');
    if (!everything) running = running.where('lease_expires_at', '<', now);
    return (await running.returning('id').execute()).map((r) => r.id);
  }
}

/** A queued run as its insert leaves it, but for its id, agent, trigger and time. */
const NEW_RUN: Omit<Selectable<RunsTable>, 'id' | 'agent_id' | 'trigger' | 'queued_at'> = {
  status: 'queued',
  scheduled_for: null,
  output: null,
  cost_usd: 0,
  input_tokens: 0,
  output_tokens: 0,
  cache_read_input_tokens: 0,
  cache_creation_input_tokens: 0,
  num_turns: 0,
  started_at: null,
  completed_at: null,
  duration_ms: null,
  executor_id: null,
  lease_expires_at: null,
  cancel_requested: 0,
  structured_output: null,
  agent_version: null,
  retry_of: null,
  attempt: 1,
  not_before: null,
  skipped_slots: null,
  last_skipped_for: null,
  skip_cause: null,
  reserved_usd: 0,
};

function usageColumns(usage: RunUsage) {
  return {
    cost_usd: usage.costUsd,
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cacheReadInputTokens,
    cache_creation_input_tokens: usage.cacheCreationInputTokens,
    num_turns: usage.numTurns,
  };
}

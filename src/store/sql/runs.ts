import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Run, RunOutcome, RunUsage } from '../../domain/types.js';
import { bigint, durationUntil, num, type DialectTraits } from '../dialect.js';
import type { Database, RunsTable } from '../schema.js';
import type { CancelResult, ClaimedRun, RunQuery, RunsStore } from '../store.js';
import type { SqlAgents } from './agents.js';
import { ACTIVE } from './predicates.js';
import type { SqlOutbox } from './outbox.js';
import { toRun } from './run-rows.js';
import type { SqlRunTotals } from './run-totals.js';

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
  ) {}

  async enqueueManualRun(agentId: string, runId: string, now: number): Promise<Run | null> {
    const inserted = await this.db
      .insertInto('runs')
      .columns(['id', 'agent_id', 'status', 'trigger', 'queued_at'])
      .expression((eb) =>
        eb
          .selectFrom('agents')
          .select([
            sql.val(runId).as('id'),
            'agents.id as agent_id',
            sql.val('queued').as('status'),
            sql.val('manual').as('trigger'),
            bigint(now).as('queued_at'),
          ])
          .where('agents.id', '=', agentId),
      )
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return null;
    return toRun({ ...NEW_RUN, id: runId, agent_id: agentId, trigger: 'manual', queued_at: now });
  }

  async claimQueuedRun(executorId: string, now: number, leaseUntil: number): Promise<ClaimedRun | null> {
    return this.db.transaction().execute(async (trx) => {
      let oldest = trx.selectFrom('runs').select('id').where(ACTIVE).where('status', '=', 'queued').orderBy('queued_at').orderBy('id').limit(1);
      if (this.traits.skipLocked) oldest = oldest.forUpdate().skipLocked();
      const claimed = await trx
        .updateTable('runs')
        .set({ status: 'running', executor_id: executorId, started_at: now, lease_expires_at: leaseUntil })
        .where('id', '=', (eb) => eb.selectFrom(oldest.as('oldest')).select('oldest.id'))
        .where('status', '=', 'queued')
        .returningAll()
        .executeTakeFirst();
      if (!claimed) return null;
      const agent = await this.agents.readAgent(trx, claimed.agent_id);
      if (!agent) throw new Error(`run ${claimed.id} claimed for a missing agent`);
      return { run: toRun(claimed), agent };
    });
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
      deliveries = await this.outbox.emitRunsEnded(trx, [runId], now);
      return true;
    });
    if (deliveries > 0) this.outbox.written();
    return finished;
  }

  async requestCancel(agentId: string, now: number): Promise<CancelResult> {
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
      deliveries = await this.outbox.emitRunsEnded(
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
      return { cancelledQueued: queued.map((r) => r.id), runningIds: running.map((r) => r.id) };
    });
    if (deliveries > 0) this.outbox.written();
    return result;
  }

  async endAbandonedRuns(now: number, options: { everything: boolean }): Promise<string[]> {
    let deliveries = 0;
    const result = await this.db.transaction().execute(async (trx) => {
      const ended = await this.endRunningAbandoned(trx, now, options.everything);
      if (options.everything) ended.push(...(await this.endAllQueued(trx, now)));
      await this.totals.addEndedRuns(trx, ended);
      deliveries = await this.outbox.emitRunsEnded(trx, ended, now);
      return ended;
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

  /** Ends as error every queued run (the embedded single-process case at start-up). */
  private async endAllQueued(trx: Transaction<Database>, now: number): Promise<string[]> {
    const queued = await trx
      .updateTable('runs')
      .set({
        status: 'error',
        output: 'The service stopped before the run could start (it was restarted or crashed).',
        completed_at: now,
        duration_ms: 0,
      })
      .where(ACTIVE)
      .where('status', '=', 'queued')
      .returning('id')
      .execute();
    return queued.map((r) => r.id);
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

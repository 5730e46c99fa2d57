import { sql, type Transaction } from 'kysely';
import { newId } from '../../domain/ids.js';
import { iso } from '../../domain/run-json.js';
import { retryDelayMs, pausedReason } from '../../domain/run-policies.js';
import { STALE_QUEUED_OUTPUT, missedCause } from '../../domain/skip-reasons.js';
import type { Run } from '../../domain/types.js';
import { SYSTEM_ACTOR } from '../../domain/audit.js';
import { agentPausedEvent, isFailedStatus as isFailure } from '../../domain/webhook-events.js';
import { bigint, num } from '../dialect.js';
import type { Database } from '../schema.js';
import { writeAudit } from './audit.js';
import type { SqlBudgets } from './budgets.js';
import type { SqlOutbox } from './outbox.js';
import { isFinished } from './predicates.js';
import { toRun } from './run-rows.js';
import type { SqlRunTotals } from './run-totals.js';
import type { SqlSkips } from './skips.js';

/** Run ids per statement (well under every dialect's parameter limit). */
const IDS_PER_STATEMENT = 500;

/** An ended run with its agent's policies, as the retry and pause rules read it. */
interface EndedRun {
  run: Run;
  agentName: string;
  enabled: boolean;
  maxRetries: number;
  retryDelaySeconds: number;
  pauseAfterFailures: number | null;
}

/**
 * What follows a run's end (issue 11), in the transaction that ended it, whoever ended it (its
 * executor, recovery at start-up, the lease reaper):
 * - pause: after `pauseAfterFailures` failed runs in a row (error, budget_exceeded; cancelled
 *   and skipped runs neither count nor break the row) the agent is disabled, says why, emits
 *   `agent.paused`, and its queued retries end as cancelled.
 * - retry: a run that ended as `error` with attempt <= maxRetries queues its retry, a durable row
 *   (trigger `retry`, retryOf the chain's first run, attempt + 1) that no claim starts before
 *   `not_before`. Not for a disabled (or just paused) agent.
 * Also the queued runs that will not run: stale scheduled runs at start-up, retries of an agent
 * disabled meanwhile.
 */
export class SqlRunEndings {
  constructor(private readonly parts: { totals: SqlRunTotals; outbox: SqlOutbox; budgets: SqlBudgets; skips: SqlSkips }) {}

  /** Pauses and retries after `runIds` ended in `trx`; returns the deliveries its events made (SqlOutbox.emit). */
  async afterRunsEnded(trx: Transaction<Database>, runIds: readonly string[], now: number): Promise<number> {
    if (runIds.length === 0) return 0;
    const ended = await this.readEnded(trx, runIds);
    let deliveries = 0;
    const paused = new Set<string>();
    const failing = new Map<string, EndedRun>();
    for (const row of ended) if (row.pauseAfterFailures !== null && row.enabled && isFailure(row.run.status)) failing.set(row.run.agentId, row);
    for (const row of failing.values()) {
      const result = await this.pauseIfFailing(trx, row, now);
      if (result === null) continue;
      paused.add(row.run.agentId);
      deliveries += result;
    }
    const retries = ended.filter((r) => r.run.status === 'error' && r.enabled && !paused.has(r.run.agentId) && r.run.attempt <= r.maxRetries);
    for (const row of retries) await this.queueRetry(trx, row, now);
    return deliveries;
  }

  /**
   * At start-up of the embedded database: the queued scheduled runs whose slot is before
   * `staleBefore` become one skipped row per agent ("missed while the service was down").
   * Returns the ids of the rows written (a run added to a row is deleted) and the deliveries.
   */
  async skipStaleQueued(trx: Transaction<Database>, staleBefore: number, now: number): Promise<{ skipped: string[]; deliveries: number }> {
    const stale = await trx
      .selectFrom('runs')
      .select(['id', 'agent_id', 'scheduled_for'])
      .where(sql<boolean>`status in ('queued', 'running')`)
      .where('status', '=', 'queued')
      .where('trigger', '=', 'schedule')
      .where('scheduled_for', '<', staleBefore)
      .orderBy('scheduled_for')
      .execute();
    const skipped: string[] = [];
    let deliveries = 0;
    for (const row of stale) {
      const run = { id: row.id, agentId: row.agent_id, scheduledFor: row.scheduled_for === null ? null : num(row.scheduled_for) };
      const result = await this.parts.skips.skipQueuedRun(trx, run, missedCause(now), staleOutput, now);
      skipped.push(...result.created);
      deliveries += result.deliveries;
    }
    return { skipped, deliveries };
  }

  /** A retry claimed for an agent that was disabled after it was queued ends as cancelled instead; returns the deliveries. */
  async cancelClaimedRetry(trx: Transaction<Database>, runId: string, now: number): Promise<number> {
    await trx
      .updateTable('runs')
      .set({
        status: 'cancelled',
        output: 'Cancelled: the agent was disabled before the retry could start.',
        executor_id: null,
        started_at: null,
        lease_expires_at: null,
        completed_at: now,
        duration_ms: 0,
      })
      .where('id', '=', runId)
      .execute();
    await this.parts.totals.addEndedRun(trx, runId);
    const deliveries = await this.parts.budgets.addEndedSpend(trx, [runId], now);
    return deliveries + (await this.parts.outbox.emitRunsEnded(trx, [runId], now));
  }

  private async readEnded(trx: Transaction<Database>, runIds: readonly string[]): Promise<EndedRun[]> {
    const ended: EndedRun[] = [];
    for (let i = 0; i < runIds.length; i += IDS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('runs')
        .innerJoin('agents', 'agents.id', 'runs.agent_id')
        .selectAll('runs')
        .select([
          'agents.name as agent_name',
          'agents.enabled as agent_enabled',
          'agents.max_retries',
          'agents.retry_delay_seconds',
          'agents.pause_after_failures',
        ])
        .where('runs.id', 'in', runIds.slice(i, i + IDS_PER_STATEMENT))
        .execute();
      for (const row of rows) {
        ended.push({
          run: toRun(row),
          agentName: row.agent_name,
          enabled: num(row.agent_enabled) === 1,
          maxRetries: num(row.max_retries),
          retryDelaySeconds: num(row.retry_delay_seconds),
          pauseAfterFailures: row.pause_after_failures === null ? null : num(row.pause_after_failures),
        });
      }
    }
    return ended;
  }

  /** Pauses the agent of `row` if its last `pauseAfterFailures` runs all failed; returns the deliveries, or null when it did not pause it. */
  private async pauseIfFailing(trx: Transaction<Database>, row: EndedRun, now: number): Promise<number | null> {
    const limit = row.pauseAfterFailures ?? 0;
    const agentId = row.run.agentId;
    // The agent's latest runs that count, newest first (runs_agent_queued_idx: agent, queued_at, status).
    const latest = await trx
      .selectFrom('runs')
      .select('status')
      .where('agent_id', '=', agentId)
      .where('status', 'in', ['success', 'error', 'budget_exceeded'])
      .orderBy('queued_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    if (latest.length < limit || !latest.every((r) => isFailure(r.status))) return null;
    const reason = pausedReason(limit, row.run);
    const updated = await trx
      .updateTable('agents')
      .set({
        enabled: 0,
        next_fire_at: null,
        paused_reason: reason,
        paused_at: now,
        updated_at: sql<number>`case when updated_at > ${bigint(now)} then updated_at else ${bigint(now)} end`,
      })
      .where('id', '=', agentId)
      .where('enabled', '=', 1)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return null;
    // The audit trail says the service disabled it, and why, in the same transaction.
    await writeAudit(trx, {
      at: now,
      action: 'agent.disable',
      actor: SYSTEM_ACTOR,
      agentId,
      targetType: 'agent',
      targetId: agentId,
      targetName: row.agentName,
      details: { reason, pausedAfterFailures: limit },
    });
    const cancelled = (
      await trx
        .updateTable('runs')
        .set({ status: 'cancelled', output: `Cancelled: the agent was paused before this retry could start. ${reason}`, completed_at: now, duration_ms: 0 })
        .where('agent_id', '=', agentId)
        .where(sql<boolean>`status in ('queued', 'running')`)
        .where('status', '=', 'queued')
        .where('trigger', '=', 'retry')
        .returning('id')
        .execute()
    ).map((r) => r.id);
    await this.parts.totals.addEndedRuns(trx, cancelled);
    let deliveries = await this.parts.budgets.addEndedSpend(trx, cancelled, now);
    deliveries += await this.parts.outbox.emitRunsEnded(trx, cancelled, now);
    const status = row.run.status;
    const last = isFinished(status) ? { ...row.run, status } : null;
    deliveries += await this.parts.outbox.emit(trx, [agentPausedEvent({ id: agentId, name: row.agentName }, reason, iso(now), limit, last)], now);
    return deliveries;
  }

  private async queueRetry(trx: Transaction<Database>, row: EndedRun, now: number): Promise<void> {
    const { run } = row;
    await trx
      .insertInto('runs')
      .values({
        id: newId(now),
        agent_id: run.agentId,
        status: 'queued',
        trigger: 'retry',
        queued_at: now,
        retry_of: run.retryOf ?? run.id,
        attempt: run.attempt + 1,
        not_before: now + retryDelayMs(row.retryDelaySeconds, run.attempt),
        agent_version: sql<number | null>`(select a.version from agents a where a.id = ${run.agentId})`,
      })
      .execute();
  }
}

const staleOutput = (slots: number): string => (slots === 1 ? STALE_QUEUED_OUTPUT : `${STALE_QUEUED_OUTPUT} (${slots} queued slots)`);

import { sql, type Kysely, type Transaction } from 'kysely';
import { decodeEventData } from '../../domain/webhook-events.js';
import { num, numOrNull, type DialectTraits } from '../dialect.js';
import type { Database } from '../schema.js';
import type { AttemptRecorded, ClaimedDelivery, DeliveryAttempt, DeliveryClaimsStore } from '../store.js';
import { failPendingDeliveries } from './webhooks.js';

/** `status = 'pending'` as a literal: a planner can use the partial index of pending deliveries only for its own constants. */
const PENDING = sql<boolean>`status = 'pending'`;

/** No sender holds the delivery: never claimed, or its claim has run out (the sender died mid-send). */
const UNCLAIMED = (now: number) => sql<boolean>`(claim_expires_at is null or claim_expires_at <= ${now})`;

/**
 * The senders' side of the outbox. A sender claims due deliveries for a while (`claimed_by`,
 * `claim_expires_at`): on PostgreSQL with FOR UPDATE SKIP LOCKED, so instances claiming at once
 * take different rows; on SQLite, whose one process serialises writers, the UPDATE's own `where`
 * is the compare-and-set. An attempt's result is written only while its sender still holds the
 * claim (fencing), so a delivery is counted, and a webhook's failures, once per attempt.
 */
export class SqlDeliveryClaims implements DeliveryClaimsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly traits: DialectTraits,
  ) {}

  async claimDeliveries(claimer: string, now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]> {
    if (limit <= 0) return [];
    return this.db.transaction().execute(async (trx) => {
      let due = trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where(PENDING)
        .where('next_attempt_at', '<=', now)
        .where(UNCLAIMED(now))
        .orderBy('next_attempt_at')
        .limit(limit);
      if (this.traits.skipLocked) due = due.forUpdate().skipLocked();
      const claimed = await trx
        .updateTable('webhook_deliveries')
        .set({ claimed_by: claimer, claim_expires_at: claimUntil })
        .where('id', 'in', (eb) => eb.selectFrom(due.as('due')).select('due.id'))
        .where(PENDING)
        .where(UNCLAIMED(now))
        .returning('id')
        .execute();
      if (claimed.length === 0) return [];
      const rows = await trx
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
        .innerJoin('outbox_events as e', 'e.id', 'd.event_id')
        .select([
          'd.id',
          'd.attempts',
          'w.id as webhook_id',
          'w.url',
          'w.format',
          'w.enabled',
          'w.secret',
          'e.id as event_id',
          'e.type',
          'e.agent_id',
          'e.run_id',
          'e.data',
          'e.created_at',
        ])
        .where(
          'd.id',
          'in',
          claimed.map((r) => r.id),
        )
        .orderBy('d.next_attempt_at')
        .execute();
      return rows.map((row) => ({
        id: row.id,
        attempts: num(row.attempts),
        webhook: { id: row.webhook_id, url: row.url, format: row.format, enabled: num(row.enabled) === 1, encryptedSecret: row.secret },
        event: { id: row.event_id, type: row.type, agentId: row.agent_id, runId: row.run_id, data: decodeEventData(row.data), createdAt: num(row.created_at) },
      }));
    });
  }

  async recordDeliveryAttempt(deliveryId: string, claimer: string, attempt: DeliveryAttempt, now: number, failuresLimit: number): Promise<AttemptRecorded> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          status: attempt.outcome === 'delivered' ? 'delivered' : attempt.outcome === 'retry' ? 'pending' : 'failed',
          attempts: attempt.outcome === 'abandoned' ? eb.ref('attempts') : eb('attempts', '+', 1),
          last_status_code: attempt.outcome === 'abandoned' ? null : attempt.statusCode,
          last_error: attempt.outcome === 'delivered' ? null : attempt.error,
          next_attempt_at: attempt.outcome === 'retry' ? attempt.nextAttemptAt : null,
          delivered_at: attempt.outcome === 'delivered' ? now : null,
          claimed_by: null,
          claim_expires_at: null,
        }))
        .where('id', '=', deliveryId)
        .where('claimed_by', '=', claimer)
        .where(PENDING)
        .returning('webhook_id')
        .executeTakeFirst();
      if (!row) return { recorded: false, webhookDisabled: null };
      const webhookId = row.webhook_id;
      if (attempt.outcome === 'delivered') {
        await trx.updateTable('webhooks').set({ consecutive_failures: 0 }).where('id', '=', webhookId).execute();
        return { recorded: true, webhookDisabled: null };
      }
      if (attempt.outcome !== 'failed') return { recorded: true, webhookDisabled: null };
      if (attempt.disableReason !== null) return { recorded: true, webhookDisabled: await this.disable(trx, webhookId, attempt.disableReason, now) };
      const counted = await trx
        .updateTable('webhooks')
        .set((eb) => ({ consecutive_failures: eb('consecutive_failures', '+', 1) }))
        .where('id', '=', webhookId)
        .returning('consecutive_failures')
        .executeTakeFirst();
      if (!counted || num(counted.consecutive_failures) < failuresLimit) return { recorded: true, webhookDisabled: null };
      const reason = `${failuresLimit} deliveries in a row failed; the last: ${attempt.error}`;
      return { recorded: true, webhookDisabled: await this.disable(trx, webhookId, reason, now) };
    });
  }

  async nextDeliveryDueAt(now: number): Promise<number | null> {
    // The first unclaimed pending delivery in the partial index's order: a walk that stops at once
    // (passing only the few deliveries senders hold now). A claim that runs out is found by the poll.
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select('next_attempt_at')
      .where(PENDING)
      .where(UNCLAIMED(now))
      .orderBy('next_attempt_at')
      .limit(1)
      .executeTakeFirst();
    return numOrNull(row?.next_attempt_at);
  }

  /** Disables the webhook (if it still is enabled) and fails its pending deliveries; the reason, or null if it was disabled already. */
  private async disable(trx: Transaction<Database>, webhookId: string, reason: string, now: number): Promise<string | null> {
    const result = await trx
      .updateTable('webhooks')
      .set({ enabled: 0, disabled_reason: reason, updated_at: now })
      .where('id', '=', webhookId)
      .where('enabled', '=', 1)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return null;
    await failPendingDeliveries(trx, webhookId, `the webhook was disabled: ${reason}`);
    return reason;
  }
}

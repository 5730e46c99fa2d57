import { randomUUID } from 'node:crypto';
import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import { runEndedEvents, type NewOutboxEvent, type WebhookEventType } from '../../domain/webhook-events.js';
import type { WebhookDelivery } from '../../domain/webhooks.js';
import type { Database, WebhookDeliveriesTable } from '../schema.js';
import type { OutboxStore, RetryResult } from '../store.js';
import { isFinished } from './predicates.js';
import { toRun } from './run-rows.js';
import { toDelivery } from './webhooks.js';

/** Rows per insert statement (well under every dialect's parameter limit). */
const ROWS_PER_STATEMENT = 200;

/** An enabled webhook, as matching an event needs it. */
interface Subscriber {
  id: string;
  events: ReadonlySet<string>;
  agentIds: ReadonlySet<string> | null;
}

const RUN_ENDED_TYPES: readonly WebhookEventType[] = ['run.succeeded', 'run.failed', 'run.cancelled', 'run.skipped', 'agent.recovered'];

/**
 * The outbox: events are written in the transaction of the change that caused them (a run's end
 * here, through emitRunsEnded; any later kind through emit), each with one pending delivery per
 * enabled webhook that wants it, so an event exists exactly when its cause does. An event no
 * webhook wants is not written at all. Listeners on this instance hear of new deliveries once
 * their transaction has committed (the sender wakes at once; other instances poll).
 */
export class SqlOutbox implements OutboxStore {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly db: Kysely<Database>) {}

  onOutboxWritten(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells this instance's listeners that deliveries were committed. */
  written(): void {
    for (const listener of this.listeners) listener();
  }

  /**
   * Writes `events` in `trx` with their deliveries; returns how many deliveries. Call written()
   * once `trx` has committed when it returns more than 0.
   */
  async emit(trx: Transaction<Database>, events: readonly NewOutboxEvent[], now: number): Promise<number> {
    if (events.length === 0) return 0;
    const subscribers = await this.subscribers(trx);
    return subscribers.length === 0 ? 0 : this.insert(trx, events, subscribers, now);
  }

  /** The events of runs the caller has just ended in `trx` (see emit). */
  async emitRunsEnded(trx: Transaction<Database>, runIds: readonly string[], now: number): Promise<number> {
    if (runIds.length === 0) return 0;
    const subscribers = (await this.subscribers(trx)).filter((s) => RUN_ENDED_TYPES.some((type) => s.events.has(type)));
    if (subscribers.length === 0) return 0;
    const wantsRecovered = (agentId: string) => subscribers.some((s) => s.events.has('agent.recovered') && (s.agentIds === null || s.agentIds.has(agentId)));
    let written = 0;
    for (let i = 0; i < runIds.length; i += ROWS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('runs')
        .innerJoin('agents', 'agents.id', 'runs.agent_id')
        .selectAll('runs')
        .select('agents.name as agent_name')
        .where('runs.id', 'in', runIds.slice(i, i + ROWS_PER_STATEMENT))
        .execute();
      const events: NewOutboxEvent[] = [];
      for (const row of rows) {
        const run = toRun(row);
        if (!isFinished(run.status)) continue;
        const status = run.status;
        const previous = status === 'success' && wantsRecovered(run.agentId) ? await this.previousStatus(trx, run.agentId, run.id, run.queuedAt) : null;
        events.push(...runEndedEvents({ ...run, status }, row.agent_name, previous));
      }
      written += await this.insert(trx, events, subscribers, now);
    }
    return written;
  }

  async emitTestEvent(webhookId: string, event: NewOutboxEvent, now: number): Promise<WebhookDelivery | null> {
    const delivery = await this.db.transaction().execute(async (trx) => {
      const webhook = await trx.selectFrom('webhooks').select('id').where('id', '=', webhookId).executeTakeFirst();
      if (!webhook) return null;
      const eventId = await this.insertEvent(trx, event, now);
      const id = randomUUID();
      await trx
        .insertInto('webhook_deliveries')
        .values(newDelivery(id, webhookId, eventId, now))
        .execute();
      return this.readDelivery(trx, id);
    });
    if (delivery) this.written();
    return delivery;
  }

  async retryDelivery(webhookId: string, deliveryId: string, now: number): Promise<RetryResult> {
    const result = await this.db.transaction().execute(async (trx): Promise<RetryResult> => {
      const row = await trx
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhooks as w', 'w.id', 'd.webhook_id')
        .select(['d.status', 'w.enabled'])
        .where('d.id', '=', deliveryId)
        .where('d.webhook_id', '=', webhookId)
        .executeTakeFirst();
      if (!row) return null;
      if (row.status !== 'failed') return { refused: 'not_failed' };
      if (Number(row.enabled) !== 1) return { refused: 'webhook_disabled' };
      // One more attempt, now: attempts go on counting, so a retry that fails is failed again at once.
      await trx
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: now, claimed_by: null, claim_expires_at: null })
        .where('id', '=', deliveryId)
        .where('status', '=', 'failed')
        .execute();
      const delivery = await this.readDelivery(trx, deliveryId);
      return delivery ? { delivery } : null;
    });
    if (result && 'delivery' in result) this.written();
    return result;
  }

  /**
   * Deletes up to `limit` events created before `createdBefore` that have no pending delivery,
   * with their deliveries (cascade); returns how many events.
   */
  async pruneOutboxBatch(createdBefore: number, limit: number): Promise<number> {
    const oldest = this.db
      .selectFrom('outbox_events as e')
      .select('e.id')
      .where('e.created_at', '<', createdBefore)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('webhook_deliveries as d')
              .select('d.id')
              .whereRef('d.event_id', '=', 'e.id')
              .where(sql<boolean>`d.status = 'pending'`),
          ),
        ),
      )
      .orderBy('e.created_at')
      .limit(limit);
    const result = await this.db.deleteFrom('outbox_events').where('id', 'in', oldest).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** The enabled webhooks, read in the event's transaction. */
  private async subscribers(trx: Transaction<Database>): Promise<Subscriber[]> {
    const rows = await trx.selectFrom('webhooks').select(['id', 'events', 'agent_ids']).where('enabled', '=', 1).execute();
    return rows.map((row) => ({
      id: row.id,
      events: new Set(parseStrings(row.events)),
      agentIds: row.agent_ids === null ? null : new Set(parseStrings(row.agent_ids)),
    }));
  }

  /** The status of the agent's last finished run before this one, cancelled runs aside. */
  private async previousStatus(trx: Transaction<Database>, agentId: string, runId: string, queuedAt: number): Promise<string | null> {
    const row = await trx
      .selectFrom('runs')
      .select('status')
      .where('agent_id', '=', agentId)
      .where('id', '<>', runId)
      .where('queued_at', '<=', queuedAt)
      .where('status', 'in', ['success', 'error', 'budget_exceeded'])
      .orderBy('queued_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.status ?? null;
  }

  private async insert(trx: Transaction<Database>, events: readonly NewOutboxEvent[], subscribers: readonly Subscriber[], now: number): Promise<number> {
    const deliveries: Insertable<WebhookDeliveriesTable>[] = [];
    for (const event of events) {
      const wanted = subscribers.filter((s) => s.events.has(event.type) && (s.agentIds === null || event.agentId === null || s.agentIds.has(event.agentId)));
      if (wanted.length === 0) continue;
      const eventId = await this.insertEvent(trx, event, now);
      for (const subscriber of wanted) deliveries.push(newDelivery(randomUUID(), subscriber.id, eventId, now));
    }
    for (let i = 0; i < deliveries.length; i += ROWS_PER_STATEMENT) {
      await trx
        .insertInto('webhook_deliveries')
        .values(deliveries.slice(i, i + ROWS_PER_STATEMENT))
        .execute();
    }
    return deliveries.length;
  }

  private async insertEvent(trx: Transaction<Database>, event: NewOutboxEvent, now: number): Promise<string> {
    const id = `evt_${randomUUID().replace(/-/g, '')}`;
    await trx
      .insertInto('outbox_events')
      .values({ id, type: event.type, agent_id: event.agentId, run_id: event.runId, data: JSON.stringify(event.data), created_at: now })
      .execute();
    return id;
  }

  private async readDelivery(trx: Transaction<Database>, id: string): Promise<WebhookDelivery | null> {
    const row = await trx
      .selectFrom('webhook_deliveries as d')
      .innerJoin('outbox_events as e', 'e.id', 'd.event_id')
      .selectAll('d')
      .select('e.type as event_type')
      .where('d.id', '=', id)
      .executeTakeFirst();
    return row ? toDelivery(row) : null;
  }
}

function newDelivery(id: string, webhookId: string, eventId: string, now: number): Insertable<WebhookDeliveriesTable> {
  return { id, webhook_id: webhookId, event_id: eventId, status: 'pending', attempts: 0, next_attempt_at: now, created_at: now };
}

/** A JSON list of strings the store wrote. */
function parseStrings(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

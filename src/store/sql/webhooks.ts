import type { Kysely, Selectable, Transaction } from 'kysely';
import { changedFields, type NewAuditEntry } from '../../domain/audit.js';
import type { WebhookEventType } from '../../domain/webhook-events.js';
import type { Webhook, WebhookDelivery, WebhookFields } from '../../domain/webhooks.js';
import { num, numOrNull } from '../dialect.js';
import { withAudit, writeAudit } from './audit.js';
import type { Database, WebhookDeliveriesTable, WebhooksTable } from '../schema.js';
import type { NewWebhook, WebhooksStore, WebhookUpdate } from '../store.js';

/**
 * Webhooks and their delivery log. A webhook that is disabled (by a person, or by the sender
 * after a 410 or too many failures) has no pending deliveries: they fail in the same transaction,
 * so enabling it again never floods its receiver with old events.
 */
export class SqlWebhooks implements WebhooksStore {
  constructor(private readonly db: Kysely<Database>) {}

  async listWebhooks(): Promise<Webhook[]> {
    const rows = await this.db.selectFrom('webhooks').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toWebhook);
  }

  async getWebhook(id: string): Promise<Webhook | null> {
    const row = await this.db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toWebhook(row) : null;
  }

  async getWebhookSecret(id: string): Promise<string | null> {
    const row = await this.db.selectFrom('webhooks').select('secret').where('id', '=', id).executeTakeFirst();
    return row?.secret ?? null;
  }

  async countWebhooks(): Promise<number> {
    const row = await this.db
      .selectFrom('webhooks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return num(row.n);
  }

  async createWebhook(input: NewWebhook, now: number, audit?: NewAuditEntry): Promise<Webhook> {
    const row = { id: input.id, ...webhookColumns(input.fields), secret: input.encryptedSecret, created_at: now, updated_at: now };
    await withAudit(
      this.db,
      audit,
      (db) => db.insertInto('webhooks').values(row).execute(),
      () => true,
    );
    return { id: input.id, ...input.fields, disabledReason: null, createdAt: now, updatedAt: now };
  }

  async updateWebhook(id: string, update: WebhookUpdate, now: number, audit?: NewAuditEntry): Promise<Webhook | null> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      const current = toWebhook(row);
      const fields = update(current);
      const enabling = fields.enabled && !current.enabled;
      await trx
        .updateTable('webhooks')
        .set({
          ...webhookColumns(fields),
          updated_at: Math.max(now, current.updatedAt),
          // Enabled again by a person: the record of why it was disabled, and the failure count, start over.
          ...(enabling ? { disabled_reason: null, consecutive_failures: 0 } : {}),
        })
        .where('id', '=', id)
        .execute();
      if (!fields.enabled && current.enabled) await failPendingDeliveries(trx, id, 'the webhook was disabled');
      const changes = changedFields(current, fields);
      if (audit && Object.keys(changes).length > 0) await writeAudit(trx, { ...audit, targetName: fields.name, details: { ...audit.details, changes } });
      return toWebhook(await trx.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirstOrThrow());
    });
  }

  async setWebhookSecret(id: string, encryptedSecret: string, now: number, audit?: NewAuditEntry): Promise<boolean> {
    const rotate = async (db: Kysely<Database>) => {
      const row = await db.updateTable('webhooks').set({ secret: encryptedSecret, updated_at: now }).where('id', '=', id).returning('name').executeTakeFirst();
      return row?.name ?? null;
    };
    const name = await withAudit(
      this.db,
      audit,
      rotate,
      (found) => found !== null,
      (entry, found) => ({ ...entry, targetName: found }),
    );
    return name !== null;
  }

  async deleteWebhook(id: string, audit?: NewAuditEntry): Promise<{ id: string; name: string } | null> {
    // Its deliveries go with it (on delete cascade); its events stay for other webhooks, until retention.
    const remove = async (db: Kysely<Database>) => (await db.deleteFrom('webhooks').where('id', '=', id).returning(['id', 'name']).executeTakeFirst()) ?? null;
    return withAudit(
      this.db,
      audit,
      remove,
      (row) => row !== null,
      (entry, row) => ({ ...entry, targetName: row?.name ?? null }),
    );
  }

  async listDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]> {
    const rows = await this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('outbox_events as e', 'e.id', 'd.event_id')
      .selectAll('d')
      .select('e.type as event_type')
      .where('d.webhook_id', '=', webhookId)
      .orderBy('d.created_at', 'desc')
      .orderBy('d.id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toDelivery);
  }
}

/**
 * Ends a webhook's pending deliveries as failed, saying why (it was disabled). One a sender is
 * sending right now is failed too: that sender's result is then refused (it no longer is pending).
 */
export async function failPendingDeliveries(trx: Transaction<Database>, webhookId: string, reason: string): Promise<void> {
  await trx
    .updateTable('webhook_deliveries')
    .set({ status: 'failed', last_error: reason, next_attempt_at: null, claimed_by: null, claim_expires_at: null })
    .where('webhook_id', '=', webhookId)
    .where('status', '=', 'pending')
    .execute();
}

function webhookColumns(fields: WebhookFields) {
  return {
    name: fields.name,
    url: fields.url,
    events: JSON.stringify(fields.events),
    agent_ids: fields.agentIds === null ? null : JSON.stringify(fields.agentIds),
    format: fields.format,
    enabled: fields.enabled ? 1 : 0,
  };
}

/** JSON text the store wrote from a typed value (webhookColumns). */
function parseList<T extends string>(text: string): T[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is T => typeof v === 'string') : [];
}

export function toWebhook(row: Selectable<WebhooksTable>): Webhook {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    events: parseList<WebhookEventType>(row.events),
    agentIds: row.agent_ids === null ? null : parseList<string>(row.agent_ids),
    format: row.format,
    enabled: num(row.enabled) === 1,
    disabledReason: row.disabled_reason,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

export function toDelivery(row: Selectable<WebhookDeliveriesTable> & { event_type: WebhookEventType }): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.webhook_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: num(row.attempts),
    lastStatusCode: numOrNull(row.last_status_code),
    lastError: row.last_error,
    nextAttemptAt: numOrNull(row.next_attempt_at),
    deliveredAt: numOrNull(row.delivered_at),
    createdAt: num(row.created_at),
  };
}

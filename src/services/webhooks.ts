import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { LIMITS } from '../defaults.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { SecretCipher } from '../domain/secret-cipher.js';
import { generateWebhookSecret } from '../domain/standard-webhooks.js';
import type { NewOutboxEvent, WebhookEventType } from '../domain/webhook-events.js';
import { checkWebhookFields } from '../domain/webhook-fields.js';
import { WEBHOOK_SECRET_NAME, type Webhook, type WebhookDelivery, type WebhookFields, type WebhookFormat } from '../domain/webhooks.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { auditEntry } from './audit.js';

/** Where webhooks may point: CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE. */
export interface WebhookPolicy {
  allowPrivate: boolean;
}

export interface WebhooksDeps {
  store: Store;
  clock: Clock;
  cipher: SecretCipher;
  webhookPolicy?: WebhookPolicy;
}

/** A webhook as a request creates it; absent fields take their defaults. */
export interface WebhookInput {
  name: string;
  url: string;
  events: WebhookEventType[];
  agentIds?: string[] | null;
  format?: WebhookFormat;
  enabled?: boolean;
}

/** A webhook with its signing secret: only a create or a rotation returns one. */
export interface WebhookWithSecret {
  webhook: Webhook;
  secret: string;
}

/**
 * Webhooks: create, change, delete, rotate the signing secret, send a test, and read and retry
 * their deliveries. The signing secret is stored encrypted like agents' secrets (under the
 * webhook's id) and shown only when it is made; the sender (engine/outbox-sender.ts) decrypts it.
 */
export class Webhooks {
  constructor(private readonly deps: WebhooksDeps) {}

  private get allowPrivate(): boolean {
    return this.deps.webhookPolicy?.allowPrivate ?? false;
  }

  list(): Promise<Webhook[]> {
    return this.deps.store.listWebhooks();
  }

  async get(id: string): Promise<Webhook> {
    const webhook = await this.deps.store.getWebhook(id);
    if (!webhook) throw new NotFoundError(`webhook ${id} not found`);
    return webhook;
  }

  async create(input: WebhookInput, by: Actor): Promise<WebhookWithSecret> {
    const { store, clock, cipher } = this.deps;
    const fields = checkWebhookFields(
      {
        name: input.name,
        url: input.url,
        events: input.events,
        agentIds: input.agentIds ?? null,
        format: input.format ?? 'standard',
        enabled: input.enabled ?? true,
      },
      this.allowPrivate,
    );
    await this.checkAgents(fields.agentIds);
    const count = await store.countWebhooks();
    if (count >= LIMITS.webhooks) throw new ConflictError(`there are ${count} webhooks, the most there may be: delete one first`);
    const id = randomUUID();
    const secret = generateWebhookSecret();
    const now = clock.now();
    // Its fields, never its signing secret.
    const entry = auditEntry(by, now, 'webhook.create', { targetType: 'webhook', targetId: id, targetName: fields.name }, { fields });
    const webhook = await store.createWebhook({ id, fields, encryptedSecret: cipher.encrypt(id, WEBHOOK_SECRET_NAME, secret) }, now, entry);
    by.log.info({ webhookId: id, name: webhook.name, events: webhook.events }, 'webhook created');
    return { webhook, secret };
  }

  async update(id: string, patch: Partial<WebhookInput>, by: Actor): Promise<Webhook> {
    if (patch.agentIds !== undefined) await this.checkAgents(patch.agentIds);
    const merge = (current: Webhook): WebhookFields =>
      checkWebhookFields(
        {
          name: patch.name ?? current.name,
          url: patch.url ?? current.url,
          events: patch.events ?? current.events,
          agentIds: patch.agentIds === undefined ? current.agentIds : patch.agentIds,
          format: patch.format ?? current.format,
          enabled: patch.enabled ?? current.enabled,
        },
        this.allowPrivate,
      );
    const now = this.deps.clock.now();
    const webhook = await this.deps.store.updateWebhook(id, merge, now, auditEntry(by, now, 'webhook.update', { targetType: 'webhook', targetId: id }));
    if (!webhook) throw new NotFoundError(`webhook ${id} not found`);
    by.log.info({ webhookId: id, fields: Object.keys(patch) }, 'webhook updated');
    return webhook;
  }

  async delete(id: string, by: Actor): Promise<{ id: string; name: string }> {
    const deleted = await this.deps.store.deleteWebhook(id, auditEntry(by, this.deps.clock.now(), 'webhook.delete', { targetType: 'webhook', targetId: id }));
    if (!deleted) throw new NotFoundError(`webhook ${id} not found`);
    by.log.info({ webhookId: id }, 'webhook deleted');
    return deleted;
  }

  /** A new signing secret; the old one stops signing at once. */
  async rotateSecret(id: string, by: Actor): Promise<WebhookWithSecret> {
    const secret = generateWebhookSecret();
    const { store, clock, cipher } = this.deps;
    const now = clock.now();
    const entry = auditEntry(by, now, 'webhook.rotate_secret', { targetType: 'webhook', targetId: id });
    if (!(await store.setWebhookSecret(id, cipher.encrypt(id, WEBHOOK_SECRET_NAME, secret), now, entry))) throw new NotFoundError(`webhook ${id} not found`);
    by.log.info({ webhookId: id }, 'webhook secret rotated');
    return { webhook: await this.get(id), secret };
  }

  async deliveries(id: string, limit: number = LIMITS.deliveriesLimitDefault): Promise<WebhookDelivery[]> {
    await this.get(id);
    return this.deps.store.listDeliveries(id, limit);
  }

  /** Sends a `webhook.test` event to this webhook now (whatever events it subscribes to). */
  async test(id: string, by: Actor): Promise<WebhookDelivery> {
    const webhook = await this.get(id);
    if (!webhook.enabled) throw new ConflictError(`webhook ${id} is disabled: enable it first`);
    const event: NewOutboxEvent = {
      type: 'webhook.test',
      agentId: null,
      runId: null,
      data: { webhook: { id, name: webhook.name }, message: 'A test event from cron-agents.' },
    };
    const delivery = await this.deps.store.emitTestEvent(id, event, this.deps.clock.now());
    if (!delivery) throw new NotFoundError(`webhook ${id} not found`);
    by.log.info({ webhookId: id, deliveryId: delivery.id }, 'webhook test queued');
    return delivery;
  }

  /** Sends a failed delivery again, now. */
  async retry(id: string, deliveryId: string, by: Actor): Promise<WebhookDelivery> {
    const result = await this.deps.store.retryDelivery(id, deliveryId, this.deps.clock.now());
    if (!result) throw new NotFoundError(`webhook ${id} has no delivery ${deliveryId}`);
    if ('refused' in result) {
      throw new ConflictError(
        result.refused === 'not_failed'
          ? `delivery ${deliveryId} has not failed: only a failed delivery is sent again`
          : `webhook ${id} is disabled: enable it first`,
      );
    }
    by.log.info({ webhookId: id, deliveryId }, 'webhook delivery retried');
    return result.delivery;
  }

  /** Every named agent exists (a 400 naming the first that does not). */
  private async checkAgents(agentIds: readonly string[] | null): Promise<void> {
    if (agentIds === null) return;
    const found = await Promise.all(agentIds.map((agentId) => this.deps.store.getAgent(agentId)));
    const missing = found.findIndex((agent) => agent === null);
    if (missing >= 0) throw ValidationError.field(`agentIds[${missing}]`, `agent ${agentIds[missing]} not found`);
  }
}

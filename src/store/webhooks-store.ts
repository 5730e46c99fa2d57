import type { NewAuditEntry } from '../domain/audit.js';
import type { NewOutboxEvent, OutboxEvent } from '../domain/webhook-events.js';
import type { Webhook, WebhookDelivery, WebhookFields, WebhookFormat } from '../domain/webhooks.js';

/** The Store's part for webhooks and the outbox (store.ts composes it into the Store). */
/** A webhook to create: its fields and its signing secret, encrypted by the services. */
export interface NewWebhook {
  id: string;
  fields: WebhookFields;
  encryptedSecret: string;
}

/** How a webhook's fields change, from the webhook as it is (read in the update's transaction). */
export type WebhookUpdate = (current: Webhook) => WebhookFields;

/** sql/webhooks.ts */
export interface WebhooksStore {
  listWebhooks(): Promise<Webhook[]>;
  getWebhook(id: string): Promise<Webhook | null>;
  /** The webhook's signing secret as stored (encrypted); null for an unknown webhook. */
  getWebhookSecret(id: string): Promise<string | null>;
  countWebhooks(): Promise<number>;
  /** With `audit`, its entry is written in the change's transaction (so below; an update's gets the changed fields as `changes`). */
  createWebhook(input: NewWebhook, now: number, audit?: NewAuditEntry): Promise<Webhook>;
  /**
   * Reads, merges through `update` and writes in one transaction; null when the webhook is gone.
   * Disabling it fails its pending deliveries; enabling it clears `disabledReason` and its count of failures.
   */
  updateWebhook(id: string, update: WebhookUpdate, now: number, audit?: NewAuditEntry): Promise<Webhook | null>;
  setWebhookSecret(id: string, encryptedSecret: string, now: number, audit?: NewAuditEntry): Promise<boolean>;
  /** Deletes the webhook and its deliveries. */
  deleteWebhook(id: string, audit?: NewAuditEntry): Promise<{ id: string; name: string } | null>;
  /** The webhook's deliveries, newest first. */
  listDeliveries(webhookId: string, limit: number): Promise<WebhookDelivery[]>;
}

/** A retry of a delivery: done, refused (it is not failed, or its webhook is disabled), or null for an unknown delivery. */
export type RetryResult = { delivery: WebhookDelivery } | { refused: 'not_failed' | 'webhook_disabled' } | null;

/** sql/outbox.ts: what the services ask of the outbox (runs' events are written by sql/runs.ts itself). */
export interface OutboxStore {
  /** Writes a `webhook.test` event with one delivery, to this webhook only; null for an unknown webhook. */
  emitTestEvent(webhookId: string, event: NewOutboxEvent, now: number): Promise<WebhookDelivery | null>;
  /** Makes a failed delivery pending again, due now (one more attempt). */
  retryDelivery(webhookId: string, deliveryId: string, now: number): Promise<RetryResult>;
  /** Calls `listener` (on this instance) after a transaction that wrote deliveries has committed; returns an unsubscribe. */
  onOutboxWritten(listener: () => void): () => void;
  /** Deletes up to `limit` events older than `createdBefore` that have no pending delivery, with their deliveries; returns how many events. */
  pruneOutboxBatch(createdBefore: number, limit: number): Promise<number>;
}

/** A pending delivery claimed by a sender: what to send, and where. */
export interface ClaimedDelivery {
  id: string;
  /** Attempts made before this one. */
  attempts: number;
  webhook: { id: string; url: string; format: WebhookFormat; enabled: boolean; encryptedSecret: string };
  event: OutboxEvent;
}

/**
 * What became of one attempt. retry: pending again, due at `nextAttemptAt`; failed: its attempts
 * are spent, or (`disableReason`) the receiver asked to be left alone (410) and the webhook is
 * disabled; abandoned: not attempted (its webhook was disabled meanwhile).
 */
export type DeliveryAttempt =
  | { outcome: 'delivered'; statusCode: number }
  | { outcome: 'retry'; statusCode: number | null; error: string; nextAttemptAt: number }
  | { outcome: 'failed'; statusCode: number | null; error: string; disableReason: string | null }
  | { outcome: 'abandoned'; error: string };

/** recorded: false when the sender no longer held the claim (nothing written). webhookDisabled: why the attempt disabled its webhook. */
export interface AttemptRecorded {
  recorded: boolean;
  webhookDisabled: string | null;
}

/** sql/delivery-claims.ts: the senders' side. */
export interface DeliveryClaimsStore {
  /** Claims up to `limit` due pending deliveries until `claimUntil`, oldest due first. */
  claimDeliveries(claimer: string, now: number, claimUntil: number, limit: number): Promise<ClaimedDelivery[]>;
  /**
   * Records an attempt of a delivery `claimer` holds, and releases it. A failed delivery counts
   * against its webhook; `failuresLimit` of them in a row disable it (and say why).
   */
  recordDeliveryAttempt(deliveryId: string, claimer: string, attempt: DeliveryAttempt, now: number, failuresLimit: number): Promise<AttemptRecorded>;
  /** When the earliest pending delivery no sender holds at `now` is due; null when there is none. */
  nextDeliveryDueAt(now: number): Promise<number | null>;
}

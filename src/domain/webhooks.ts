import type { WebhookEventType } from './webhook-events.js';

/** The name a webhook's signing secret is encrypted under, with the webhook's id (SecretCipher's additional data). */
export const WEBHOOK_SECRET_NAME = 'webhook-signing-secret';

/** `standard`: signed Standard Webhooks JSON; `slack`: a Slack incoming-webhook message, unsigned. */
export const WEBHOOK_FORMATS = ['standard', 'slack'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/** pending: waiting for its next attempt; delivered: a receiver answered 2xx; failed: attempts spent, or the webhook went away. */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The fields a person sets on a webhook. */
export interface WebhookFields {
  name: string;
  url: string;
  events: WebhookEventType[];
  /** The agents it covers; null: all, those created later included. */
  agentIds: string[] | null;
  format: WebhookFormat;
  enabled: boolean;
}

/** A webhook as stored (its signing secret aside: only the services and the sender see it). */
export interface Webhook extends WebhookFields {
  id: string;
  /** Why the service disabled it (410 Gone, too many failed deliveries); null otherwise. */
  disabledReason: string | null;
  createdAt: number;
  updatedAt: number;
}

/** One event's delivery to one webhook, as the delivery log shows it. */
export interface WebhookDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: WebhookEventType;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  /** When the next attempt is due; null unless pending. */
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  createdAt: number;
}

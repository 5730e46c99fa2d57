import { iso } from './run-json.js';
import { slackMessage } from './slack-message.js';
import { signWebhook } from './standard-webhooks.js';
import type { OutboxEvent } from './webhook-events.js';
import type { WebhookFormat } from './webhooks.js';

/** What one attempt posts: its headers and its JSON body. */
export interface WebhookMessage {
  headers: Record<string, string>;
  body: string;
}

/** The dashboard page an event is about: its run, else its agent, else the dashboard itself. */
export function eventLink(event: OutboxEvent, publicUrl: string): string {
  const base = publicUrl.replace(/\/+$/, '');
  if (event.runId !== null) return `${base}/runs/${encodeURIComponent(event.runId)}`;
  if (event.agentId !== null) return `${base}/agents/${encodeURIComponent(event.agentId)}`;
  return `${base}/`;
}

/**
 * The Standard Webhooks body: `{"type", "timestamp", "data": {...the event's data, "url"}}`. It
 * depends on the event only, so every attempt posts the same bytes (only the timestamp header and
 * the signature change).
 */
export function standardBody(event: OutboxEvent, publicUrl: string): string {
  return JSON.stringify({ type: event.type, timestamp: iso(event.createdAt), data: { ...event.data, url: eventLink(event, publicUrl) } });
}

/**
 * One attempt's request. `standard`: signed (webhook-id is the event's id, the same on every
 * attempt; webhook-timestamp is `nowSeconds`); `slack`: Slack's message shape, unsigned.
 */
export function webhookMessage(event: OutboxEvent, webhook: { format: WebhookFormat; secret: string }, publicUrl: string, nowSeconds: number): WebhookMessage {
  if (webhook.format === 'slack') {
    return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(slackMessage(event, eventLink(event, publicUrl))) };
  }
  const body = standardBody(event, publicUrl);
  return {
    headers: {
      'content-type': 'application/json',
      'webhook-id': event.id,
      'webhook-timestamp': String(nowSeconds),
      'webhook-signature': signWebhook(webhook.secret, event.id, nowSeconds, body),
    },
    body,
  };
}

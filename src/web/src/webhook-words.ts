import { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../../domain/webhook-events';
import type { WebhookFormat } from '../../domain/webhooks';
import type { Agent, Webhook } from './api';

/** Webhooks in words: event types, formats and the agents a webhook covers, as the dashboard names them. */

export const EVENT_TYPES = WEBHOOK_EVENT_TYPES;
export type EventType = WebhookEventType;

export const EVENT_LABELS: Record<EventType, string> = {
  'run.succeeded': 'Run succeeded',
  'run.failed': 'Run failed (error or budget exceeded)',
  'run.cancelled': 'Run cancelled',
  'agent.recovered': 'Agent recovered (first success after failures)',
  'webhook.test': 'Test event',
  'run.skipped': 'Scheduled run skipped',
  'agent.paused': 'Agent paused automatically',
  'budget.warning': 'Budget warning',
  'budget.exhausted': 'Budget exhausted',
};

export const FORMAT_LABELS: Record<WebhookFormat, string> = {
  standard: 'Standard Webhooks (signed JSON)',
  slack: 'Slack incoming webhook',
};

/** Whether a webhook sends events of this agent. */
export function covers(webhook: Webhook, agentId: string): boolean {
  return webhook.agentIds === null || webhook.agentIds.includes(agentId);
}

/** "All agents", or the named agents (an id that is gone is shown as it is). */
export function agentsCovered(webhook: Webhook, agents: readonly Agent[]): string {
  if (webhook.agentIds === null) return 'All agents';
  const names = new Map(agents.map((a) => [a.id, a.name]));
  return webhook.agentIds.map((id) => names.get(id) ?? id).join(', ');
}

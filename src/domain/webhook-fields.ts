import net from 'node:net';
import { ValidationError } from './errors.js';
import { isPrivateAddress } from './private-addresses.js';
import type { WebhookFields } from './webhooks.js';

/** The URL's host as an address or name: no brackets around IPv6, no trailing dot. */
export function urlHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * Why a webhook may not be sent to `url` by what it says (no DNS): not http(s), an address that
 * is loopback, private or link-local, or `localhost`; null when it may. The sender checks again,
 * after resolving the name, on every attempt.
 */
export function refusedWebhookUrl(text: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `must be an http:// or https:// URL, not ${url.protocol}`;
  const host = urlHost(url).toLowerCase();
  if (host === '') return 'must name a host';
  if (allowPrivate) return null;
  const local = net.isIP(host) !== 0 ? isPrivateAddress(host) : host === 'localhost' || host.endsWith('.localhost');
  return local ? `${host} is a loopback, private or link-local address (CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE=true allows it)` : null;
}

/**
 * Checks a webhook's fields as a whole (the request schema has checked each one's type) and
 * returns them normalized: the name trimmed, events and agents each once. A ValidationError
 * names the first field that is wrong. Whether the agents exist is the services' to check.
 */
export function checkWebhookFields(fields: WebhookFields, allowPrivate: boolean): WebhookFields {
  const name = fields.name.trim();
  if (name === '') throw ValidationError.field('name', 'must not be empty or blank');
  const refused = refusedWebhookUrl(fields.url, allowPrivate);
  if (refused !== null) throw ValidationError.field('url', refused);
  if (fields.events.length === 0) throw ValidationError.field('events', 'must list at least one event type');
  if (fields.agentIds !== null && fields.agentIds.length === 0) {
    throw ValidationError.field('agentIds', 'must list at least one agent, or be null for all agents');
  }
  return {
    ...fields,
    name,
    events: [...new Set(fields.events)],
    agentIds: fields.agentIds === null ? null : [...new Set(fields.agentIds)],
  };
}

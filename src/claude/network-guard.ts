import dns from 'node:dns/promises';
import net from 'node:net';
import type { HookCallbackMatcher, HookJSONOutput } from '@anthropic-ai/claude-agent-sdk';
import { isPrivateAddress } from '../domain/private-addresses.js';

/**
 * What a run may not reach over the network from inside this service's machine: loopback,
 * private, link-local (the cloud metadata service, 169.254.169.254) and other special-purpose
 * addresses, unless the operator opts in (CRON_AGENTS_RUN_ALLOW_PRIVATE). Tool commands are held by
 * the sandbox's proxy; this file covers what the sandbox does not see: WebFetch, which runs inside
 * the `claude` process (a PreToolUse hook, run in this process), the agent's http/sse MCP servers
 * and its allowedDomains (checked when the run starts).
 *
 * A host name is resolved and refused if any of its addresses is one of those. A name whose
 * records change between this check and the connection (DNS rebinding) is not caught.
 */

/** Resolves a host name to its addresses. */
export type Lookup = (hostname: string) => Promise<string[]>;

const systemLookup: Lookup = async (hostname) => (await dns.lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

const LOOKUP_TIMEOUT_MS = 5000;

// The ranges themselves are the domain's (private-addresses.ts), shared with webhooks' sends.
export { isPrivateAddress };

async function resolve(hostname: string, lookup: Lookup): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), LOOKUP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([lookup(hostname), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Why a run may not reach `hostname` (as in a URL: IPv6 in brackets), or null when it may. */
export async function refusedHost(hostname: string, lookup: Lookup = systemLookup): Promise<string | null> {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (host === '') return 'the URL has no host';
  if (net.isIP(host) !== 0) return isPrivateAddress(host) ? `${host} is a private or local address` : null;
  let addresses: string[];
  try {
    addresses = await resolve(host, lookup);
  } catch {
    return `${host} could not be resolved`;
  }
  if (addresses.length === 0) return `${host} could not be resolved`;
  const found = addresses.find(isPrivateAddress);
  return found === undefined ? null : `${host} resolves to ${found}, a private or local address`;
}

/** Why a run may not fetch `url`, or null when it may. */
export async function refusedUrl(url: string, lookup: Lookup = systemLookup): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(parsed.protocol)) return `${parsed.protocol} URLs are not allowed`;
  return refusedHost(parsed.hostname, lookup);
}

function urlOf(toolInput: unknown): string | null {
  if (typeof toolInput !== 'object' || toolInput === null || !('url' in toolInput)) return null;
  return typeof toolInput.url === 'string' ? toolInput.url : null;
}

/**
 * A PreToolUse hook that denies WebFetch calls to refused addresses. It runs in this process
 * before the tool does; `onFailure: 'block'` makes a hook that throws or times out deny the call
 * instead of letting it through.
 */
export function webFetchGuard(lookup: Lookup = systemLookup): HookCallbackMatcher {
  const deny = (reason: string): HookJSONOutput => ({
    hookSpecificOutput: {
      hookEventName: 'PreToolUse',
      permissionDecision: 'deny',
      permissionDecisionReason: `Blocked by cron-agents: ${reason}. Runs may not reach loopback, private, link-local or metadata addresses.`,
    },
  });
  return {
    matcher: 'WebFetch',
    onFailure: 'block',
    timeout: 30,
    hooks: [
      async (input) => {
        if (input.hook_event_name !== 'PreToolUse') return {};
        const url = urlOf(input.tool_input);
        const reason = url === null ? 'the call has no URL' : await refusedUrl(url, lookup);
        return reason === null ? {} : deny(reason);
      },
    ],
  };
}

/**
 * The agent's allowedDomains without the entries that name a refused address (an IP literal, or a
 * name resolving to one such as `localhost`), with a note for each. Wildcards (`*.example.com`)
 * cannot be resolved and are kept.
 */
export async function screenAllowedDomains(domains: readonly string[], lookup: Lookup = systemLookup): Promise<{ domains: string[]; notes: string[] }> {
  const verdicts = await Promise.all(domains.map(async (domain) => (domain.includes('*') ? null : refusedHost(domain, lookup))));
  const notes: string[] = [];
  const kept = domains.filter((domain, i) => {
    const reason = verdicts[i];
    if (reason) notes.push(`allowedDomains entry "${domain}" was left out: ${reason} (CRON_AGENTS_RUN_ALLOW_PRIVATE=true allows it).`);
    return !reason;
  });
  return { domains: kept, notes };
}

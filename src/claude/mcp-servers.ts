import type { McpServerConfig } from '@anthropic-ai/claude-agent-sdk';
import type { McpServerSpec } from '../domain/types.js';
import { refusedUrl, type Lookup } from './network-guard.js';

export interface McpServersInput {
  servers: Readonly<Record<string, McpServerSpec>>;
  /** Model credentials in the `claude` environment, which a stdio server would otherwise inherit. */
  credentialNames: readonly string[];
  /** CRON_AGENTS_RUN_ALLOW_PRIVATE: http/sse servers may be on private addresses. */
  allowPrivate: boolean;
  lookup?: Lookup;
}

/**
 * The agent's MCP servers as the SDK takes them, and a note for each one left out.
 *
 * A stdio server runs outside the sandbox as a child of `claude`, with its environment: the model's
 * credentials are blanked there (its own `env` still wins, for a server given a key on purpose).
 * An http/sse server whose URL is refused by network-guard.ts is left out, and the run goes on
 * without it.
 */
export async function mcpServersFor(input: McpServersInput): Promise<{ servers: Record<string, McpServerConfig>; notes: string[] }> {
  const blanks = Object.fromEntries(input.credentialNames.map((name) => [name, '']));
  const entries = await Promise.all(
    Object.entries(input.servers).map(async ([name, spec]): Promise<[string, McpServerConfig | string]> => {
      if (spec.type === 'stdio') {
        return [name, { type: 'stdio', command: spec.command, args: [...(spec.args ?? [])], env: { ...blanks, ...spec.env } }];
      }
      const reason = input.allowPrivate ? null : await refusedUrl(spec.url, input.lookup);
      if (reason !== null) return [name, `MCP server "${name}" was left out: ${reason} (CRON_AGENTS_RUN_ALLOW_PRIVATE=true allows it).`];
      return [name, { type: spec.type, url: spec.url, ...(spec.headers ? { headers: { ...spec.headers } } : {}) }];
    }),
  );
  const servers: Record<string, McpServerConfig> = {};
  const notes: string[] = [];
  for (const [name, result] of entries) {
    if (typeof result === 'string') notes.push(result);
    else servers[name] = result;
  }
  return { servers, notes };
}

/** Notes for the servers the `system/init` message reports as not running (a command that failed, a URL that did not answer). */
export function mcpStatusNotes(statuses: readonly { name: string; status: string }[]): string[] {
  return statuses
    .filter((s) => s.status !== 'connected' && s.status !== 'pending')
    .map((s) => `MCP server "${s.name}" is not available (${s.status}); the run went on without it.`);
}

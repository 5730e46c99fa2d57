import { ForbiddenError, ValidationError } from './errors.js';
import { sameMcpServer } from './mcp-servers.js';
import type { AgentFields } from './types.js';

/**
 * Who may grant what. Admins may grant anything. Members:
 * - may put in allowedTools only the rules CRON_AGENTS_MEMBER_TOOLS lists (all, when it is unset);
 * - may not define or change a stdio MCP server: its command runs on the host, outside the
 *   sandbox that holds tool commands, with the run's environment (secrets included).
 * Only what a write adds or changes is checked, so a member may still edit the other fields
 * (and remove grants) of an agent an admin gave more.
 */

/**
 * Whether `grants` cover `rule`: the same rule; a grant ending in `*` covers every rule that
 * starts with what precedes it (`mcp__*`); a bare tool name covers its scoped forms (`Bash`
 * covers `Bash(git log:*)`).
 */
export function ruleCovered(rule: string, grants: readonly string[]): boolean {
  return grants.some((grant) => {
    if (grant.endsWith('*')) return rule.startsWith(grant.slice(0, -1));
    return rule === grant || (!grant.includes('(') && rule.startsWith(`${grant}(`));
  });
}

/**
 * Refuses what a member may not grant: 400 naming the first allowedTools rule that
 * `memberTools` (null: no limit) does not cover, 403 naming the first stdio MCP server defined
 * or changed. `current` is null for a new agent.
 */
export function checkMemberGrants(current: AgentFields | null, next: AgentFields, memberTools: readonly string[] | null): void {
  if (memberTools !== null) {
    const had = new Set(current?.allowedTools ?? []);
    next.allowedTools.forEach((rule, i) => {
      if (had.has(rule) || ruleCovered(rule, memberTools)) return;
      throw ValidationError.field(`allowedTools[${i}]`, `members may not grant "${rule}" (allowed: ${memberTools.join(', ') || 'none'}; ask an admin)`);
    });
  }
  for (const [name, server] of Object.entries(next.mcpServers)) {
    if (server.type !== 'stdio') continue;
    const before = current?.mcpServers[name];
    if (before !== undefined && sameMcpServer(before, server)) continue;
    const field = `mcpServers.${name}`;
    const message = 'only admins may define or change a stdio MCP server (its command runs outside the sandbox)';
    throw new ForbiddenError(`${field}: ${message}`, [{ field, message }]);
  }
}

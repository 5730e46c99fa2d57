import type { AgentRunRequest } from '../../src/engine/agent-runner.js';

/** What every test run request names itself; the rest is an agent with no run options. */
export type RunRequestFields = Pick<AgentRunRequest, 'runId' | 'agentId' | 'prompt' | 'cwd' | 'signal'> & Partial<AgentRunRequest>;

/**
 * A request for a runner called directly (no executor in between): no limits beyond one turn, no
 * tools, no secrets, no MCP servers, the agent's own folder, unless `fields` says otherwise.
 */
export function runRequest(fields: RunRequestFields): AgentRunRequest {
  return {
    maxTurns: 1,
    maxBudgetUsd: null,
    model: null,
    allowedTools: [],
    disallowedTools: [],
    allowedDomains: [],
    systemPrompt: null,
    effort: null,
    fallbackModel: null,
    mcpServers: {},
    secrets: {},
    workspace: null,
    ...fields,
  };
}

import { resolveMcpServerSecrets } from '../domain/mcp-servers.js';
import type { SecretValues } from '../domain/secret-refs.js';
import type { AgentFields } from '../domain/types.js';
import { resolveWorkspaceSecrets, workspaceHostPath } from '../domain/workspace-spec.js';
import { checkHostPath, type HostPathPolicy } from '../host-paths.js';
import type { AgentRunRequest } from './agent-runner.js';

/** The part of a run request that comes from the agent's run options. */
export type AgentRunOptions = Pick<
  AgentRunRequest,
  'disallowedTools' | 'allowedDomains' | 'systemPrompt' | 'effort' | 'fallbackModel' | 'mcpServers' | 'workspace' | 'outputSchema'
>;

/**
 * The agent's run options as one run gets them: every `${secret:NAME}` resolved from the agent's
 * secrets, and a host folder checked again against the operator's list (it, a link in it, or the
 * list may have changed since the agent was written). Throws, naming the secret or the folder,
 * when the run cannot have them; the executor then ends the run as `error` with that message.
 */
export async function agentRunOptions(agent: AgentFields, secrets: SecretValues, hostPaths: HostPathPolicy): Promise<AgentRunOptions> {
  const folder = workspaceHostPath(agent.workspace);
  if (folder) await checkHostPath(folder.path, folder.field, hostPaths);
  return {
    disallowedTools: [...agent.disallowedTools],
    allowedDomains: [...agent.allowedDomains],
    systemPrompt: agent.systemPrompt,
    effort: agent.effort,
    fallbackModel: agent.fallbackModel,
    mcpServers: resolveMcpServerSecrets(agent.mcpServers, secrets),
    workspace: resolveWorkspaceSecrets(agent.workspace, secrets),
    outputSchema: agent.outputSchema,
  };
}

import type { ComponentChildren } from 'preact';
import type { Agent } from '../api';

function Tags({ values }: { values: readonly string[] }) {
  return (
    <span class="tags">
      {values.map((value) => (
        <code key={value} class="tag">
          {value}
        </code>
      ))}
    </span>
  );
}

function Entry({ term, testId, children }: { term: string; testId: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

function WorkspaceWords({ workspace }: { workspace: Agent['workspace'] }) {
  if (workspace === null) return <span class="muted">The agent's own folder</span>;
  if (workspace.git) {
    const { url, ref, depth } = workspace.git;
    return (
      <>
        <div>Git repository</div>
        <div class="muted small">
          <code>{url}</code>
          {ref ? ` · ${ref}` : ''}
          {depth ? ` · depth ${depth}` : ''}
        </div>
      </>
    );
  }
  return (
    <>
      <div>Host folder{workspace.readOnly ? ' (read-only)' : ''}</div>
      <div class="muted small">
        <code>{workspace.hostPath}</code>
      </div>
    </>
  );
}

/** What an output schema asks for, in a few words: its top-level properties. */
function schemaFields(schema: Record<string, unknown>): string {
  const properties = typeof schema.properties === 'object' && schema.properties !== null ? Object.keys(schema.properties) : [];
  return properties.length > 0 ? `An object with ${properties.join(', ')}` : 'An object (JSON Schema)';
}

/**
 * The run options of the agent's settings list: its workspace always, the others when set (an
 * agent with none of them reads as before).
 */
export function RunOptionsDetails({ agent }: { agent: Agent }) {
  const servers = Object.entries(agent.mcpServers);
  return (
    <>
      <Entry term="Workspace" testId="agent-workspace">
        <WorkspaceWords workspace={agent.workspace} />
      </Entry>
      {servers.length > 0 ? (
        <Entry term="MCP servers" testId="agent-mcp-servers">
          <Tags values={servers.map(([name, server]) => `${name} (${server.type})`)} />
        </Entry>
      ) : null}
      {agent.allowedDomains.length > 0 ? (
        <Entry term="Allowed domains" testId="agent-allowed-domains">
          <Tags values={agent.allowedDomains} />
        </Entry>
      ) : null}
      {agent.disallowedTools.length > 0 ? (
        <Entry term="Disallowed tools" testId="agent-disallowed-tools">
          <Tags values={agent.disallowedTools} />
        </Entry>
      ) : null}
      {agent.effort || agent.fallbackModel ? (
        <Entry term="Effort · fallback" testId="agent-effort">
          {agent.effort ?? <span class="muted">default</span>} · {agent.fallbackModel ?? <span class="muted">no fallback model</span>}
        </Entry>
      ) : null}
      {agent.outputSchema ? (
        <Entry term="Structured output" testId="agent-output-schema">
          {schemaFields(agent.outputSchema)}
        </Entry>
      ) : null}
    </>
  );
}

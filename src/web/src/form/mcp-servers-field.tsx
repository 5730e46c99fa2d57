import { useMemo } from 'preact/hooks';
import { useForm } from './form-state';
import { parseMcpServersJson } from './mcp-servers-json';
import { JsonField } from './json-field';

const EXAMPLE = `{
  "docs": {
    "type": "http",
    "url": "https://mcp.example.com/mcp",
    "headers": { "Authorization": "Bearer \${secret:DOCS_TOKEN}" }
  }
}`;

/**
 * The agent's MCP servers as JSON. What is typed is checked at once with the server's rules: a
 * problem shows beside the field while typing (and keeps the form from being sent), a valid box
 * says which servers it holds.
 */
export function McpServersField() {
  const { form } = useForm();
  const parsed = useMemo(() => parseMcpServersJson(form.mcpServers), [form.mcpServers]);
  const servers = parsed.ok ? Object.entries(parsed.servers) : [];
  return (
    <JsonField
      name="mcpServers"
      label="MCP servers"
      placeholder={EXAMPLE}
      problem={parsed.ok ? undefined : parsed.error}
      hint={
        <>
          JSON: each server's name and either <code>{'{"type": "stdio", "command", "args", "env"}'}</code> or{' '}
          <code>{'{"type": "http" | "sse", "url", "headers"}'}</code>. <code>{'${secret:NAME}'}</code> stands for a secret of this agent in args, env, url and
          headers. A server's tools run only when Allowed tools lists them (<code>mcp__docs</code> or <code>mcp__docs__search</code>). Only admins may add or
          change a stdio server. Empty: none.
        </>
      }
      summary={
        servers.length > 0
          ? {
              idSuffix: 'servers',
              testId: 'mcp-servers-summary',
              text: `${servers.length === 1 ? '1 server' : `${servers.length} servers`}: ${servers.map(([name, server]) => `${name} (${server.type})`).join(', ')}`,
            }
          : null
      }
    />
  );
}

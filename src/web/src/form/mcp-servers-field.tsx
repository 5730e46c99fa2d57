import { useMemo } from 'preact/hooks';
import { useForm } from './form-state';
import { parseMcpServersJson } from './mcp-servers-json';
import { Field, fieldWiring } from './text-field';

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
  const { form, errors, set } = useForm();
  const parsed = useMemo(() => parseMcpServersJson(form.mcpServers), [form.mcpServers]);
  // The server's complaint after a save, else what is wrong with the text as it stands.
  const wiring = fieldWiring('mcpServers', { mcpServers: errors.mcpServers ?? (parsed.ok ? undefined : parsed.error) }, true);
  const servers = parsed.ok ? Object.entries(parsed.servers) : [];
  return (
    <Field
      id={wiring.id}
      label="MCP servers"
      error={wiring.error}
      hint={
        <>
          JSON: each server's name and either <code>{'{"type": "stdio", "command", "args", "env"}'}</code> or{' '}
          <code>{'{"type": "http" | "sse", "url", "headers"}'}</code>. <code>{'${secret:NAME}'}</code> stands for a secret of this agent in args, env, url and
          headers. A server's tools run only when Allowed tools lists them (<code>mcp__docs</code> or <code>mcp__docs__search</code>). Only admins may add or
          change a stdio server. Empty: none.
        </>
      }
    >
      <textarea
        id={wiring.id}
        class="mono"
        rows={8}
        spellcheck={false}
        value={form.mcpServers}
        placeholder={EXAMPLE}
        onInput={(e) => set('mcpServers', e.currentTarget.value)}
        aria-invalid={wiring.invalid}
        aria-describedby={servers.length > 0 ? `${wiring.describedBy ?? ''} ${wiring.id}-servers`.trim() : wiring.describedBy}
      />
      {servers.length > 0 ? (
        <p class="hint field-ok" id={`${wiring.id}-servers`} data-testid="mcp-servers-summary">
          {servers.length === 1 ? '1 server' : `${servers.length} servers`}: {servers.map(([name, server]) => `${name} (${server.type})`).join(', ')}
        </p>
      ) : null}
    </Field>
  );
}

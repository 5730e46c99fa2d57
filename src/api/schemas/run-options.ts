import { Type } from 'typebox';
import { LIMITS } from '../../defaults.js';
import { EFFORTS } from '../../domain/types.js';
import { MCP_SERVER_NAME_PATTERN } from '../../domain/mcp-servers.js';
import { NonBlank, OrNull, StringEnum } from './common.js';

/**
 * An agent's run options (MCP servers, workspace, tool and network limits, system prompt, effort,
 * fallback model, output schema): request fields and response properties, spread into the agent schemas. The
 * schema checks types and sizes; src/domain (mcp-servers.ts, workspace-spec.ts,
 * allowed-domains.ts) checks the rest and names the field of any problem.
 */

const SECRET_NOTE = "`${secret:NAME}` stands for the agent's secret NAME, resolved just before each run";
const MCP_TYPES = ['stdio', 'http', 'sse'] as const;

const RuleList = (description: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.allowedToolLength, pattern: '\\S' }), { maxItems: LIMITS.allowedTools, description });

const StringMap = (description: string) =>
  Type.Record(Type.String(), Type.String({ maxLength: LIMITS.mcpValueLength }), { maxProperties: LIMITS.mcpEntries, description });

const McpServerField = Type.Object(
  {
    type: StringEnum(MCP_TYPES, { description: 'stdio: a command the run starts; http or sse: a server at a URL' }),
    command: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.mcpCommandLength, description: 'stdio only (required): the program' })),
    args: Type.Optional(
      Type.Array(Type.String({ maxLength: LIMITS.mcpValueLength }), {
        maxItems: LIMITS.mcpArgs,
        description: `stdio only. ${SECRET_NOTE}; arguments are visible to local \`ps\`, so put credentials in env`,
      }),
    ),
    env: Type.Optional(StringMap(`stdio only: environment variables of the server. ${SECRET_NOTE}`)),
    url: Type.Optional(
      Type.String({ minLength: 1, maxLength: LIMITS.urlLength, description: `http and sse only (required): http:// or https:// URL. ${SECRET_NOTE}` }),
    ),
    headers: Type.Optional(StringMap(`http and sse only: request headers. ${SECRET_NOTE}`)),
  },
  { additionalProperties: false },
);

const McpServersField = Type.Record(Type.String(), McpServerField, {
  maxProperties: LIMITS.mcpServers,
  description:
    `MCP servers by name (${MCP_SERVER_NAME_PATTERN}); their tools run only when allowedTools lists them (mcp__<name>__<tool> or mcp__<name>). ` +
    'Only admins may define or change a stdio server. Default: none',
});

const WorkspaceField = Type.Object(
  {
    git: Type.Optional(
      Type.Object(
        {
          url: Type.String({
            minLength: 1,
            maxLength: LIMITS.urlLength,
            description: `https://, http:// or git:// URL; a file:// URL or absolute path only under CRON_AGENTS_ALLOWED_HOST_PATHS. ${SECRET_NOTE}`,
          }),
          ref: Type.Optional(
            Type.String({ minLength: 1, maxLength: LIMITS.gitRefLength, description: "Branch, tag or commit. Default: the remote's default branch" }),
          ),
          depth: Type.Optional(
            Type.Integer({ minimum: 1, maximum: LIMITS.gitDepth, description: 'Shallow fetch of this many commits. Default: full history' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    hostPath: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: LIMITS.hostPathLength,
        description: 'A folder of the host, under CRON_AGENTS_ALLOWED_HOST_PATHS (with readOnly)',
      }),
    ),
    readOnly: Type.Optional(Type.Boolean({ description: 'With hostPath (required): whether runs may only read it' })),
  },
  {
    additionalProperties: false,
    description:
      "Where runs work: {git: {url, ref?, depth?}} (fetched into the agent's folder before each run) or {hostPath, readOnly}. " +
      "Default (null): the agent's own folder",
  },
);

const AllowedDomainsField = Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.domainLength }), {
  maxItems: LIMITS.allowedDomains,
  description: 'Hosts tool commands may reach: example.com, *.example.com, or an IP address. Default: none',
});

const EffortField = StringEnum(EFFORTS, { description: 'Reasoning effort. Default: the SDK default' });

const FallbackModelField = Type.String({
  minLength: 1,
  maxLength: LIMITS.modelLength,
  pattern: '\\S',
  description: 'Model used when the model is overloaded (comma-separated to try several in order)',
});

const OUTPUT_SCHEMA_NOTE =
  `A JSON Schema of an object (top-level "type": "object", at most ${LIMITS.outputSchemaBytes} bytes as JSON) the answer of each run must satisfy: ` +
  "the run's structuredOutput is that answer, and a run whose answer does not satisfy it ends as error. Default: null (free text)";

/** Any JSON object: its contents are checked by src/domain/output-schema.ts (ajv compiles it). */
const OutputSchemaField = Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true, description: OUTPUT_SCHEMA_NOTE });

/** The run options of a create or update body (all optional; null clears a nullable one). */
export const RunOptionsBody = {
  disallowedTools: Type.Optional(RuleList('Permission rules removed from every run, even if allowed. Default: none')),
  mcpServers: Type.Optional(McpServersField),
  workspace: Type.Optional(Type.Union([WorkspaceField, Type.Null()])),
  allowedDomains: Type.Optional(AllowedDomainsField),
  systemPrompt: Type.Optional(Type.Union([NonBlank(LIMITS.systemPromptLength, "Appended to Claude Code's system prompt"), Type.Null()])),
  effort: Type.Optional(Type.Union([EffortField, Type.Null()])),
  fallbackModel: Type.Optional(Type.Union([FallbackModelField, Type.Null()])),
  outputSchema: Type.Optional(Type.Union([OutputSchemaField, Type.Null()])),
};

const McpServerJson = Type.Object({
  type: StringEnum(MCP_TYPES),
  command: Type.Optional(Type.String()),
  args: Type.Optional(Type.Array(Type.String())),
  env: Type.Optional(Type.Record(Type.String(), Type.String())),
  url: Type.Optional(Type.String()),
  headers: Type.Optional(Type.Record(Type.String(), Type.String())),
});

const WorkspaceJson = Type.Object({
  git: Type.Optional(Type.Object({ url: Type.String(), ref: Type.Optional(Type.String()), depth: Type.Optional(Type.Integer()) })),
  hostPath: Type.Optional(Type.String()),
  readOnly: Type.Optional(Type.Boolean()),
});

/** The run options of an agent in a response: as stored (secret references, never their values). */
export const RunOptionsJson = {
  disallowedTools: Type.Array(Type.String()),
  mcpServers: Type.Record(Type.String(), McpServerJson),
  workspace: OrNull(WorkspaceJson),
  allowedDomains: Type.Array(Type.String()),
  systemPrompt: OrNull(Type.String()),
  effort: OrNull(StringEnum(EFFORTS)),
  fallbackModel: OrNull(Type.String()),
  outputSchema: OrNull(Type.Unsafe<Record<string, unknown>>({ type: 'object', additionalProperties: true })),
};

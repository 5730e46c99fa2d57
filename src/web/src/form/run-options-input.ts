import type { Agent, AgentInput } from '../api';
import type { WorkspaceSpec } from '../../../domain/types';
import type { FieldErrors, FormState, WorkspaceKind } from './form-fields';
import { mcpServersText, parseMcpServersJson } from './mcp-servers-json';
import { outputSchemaText, parseOutputSchemaJson } from './output-schema-json';

/** The Advanced section's fields (workspace, MCP servers, tool and network limits, model options, output schema) both ways. */

type RunOptionsForm = Pick<
  FormState,
  | 'disallowedTools'
  | 'allowedDomains'
  | 'systemPrompt'
  | 'effort'
  | 'fallbackModel'
  | 'mcpServers'
  | 'outputSchema'
  | 'workspace'
  | 'gitUrl'
  | 'gitRef'
  | 'gitDepth'
  | 'hostPath'
  | 'hostReadOnly'
>;

type RunOptionsInput = Pick<
  AgentInput,
  'disallowedTools' | 'allowedDomains' | 'systemPrompt' | 'effort' | 'fallbackModel' | 'mcpServers' | 'outputSchema' | 'workspace'
>;

/** One entry per non-empty line. */
export function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function workspaceKind(spec: Agent['workspace']): WorkspaceKind {
  if (spec === null) return 'own';
  return spec.git ? 'git' : 'host';
}

/** The Advanced fields of a new agent (null) or as an agent has them. */
export function runOptionsForm(agent: Agent | null): RunOptionsForm {
  const workspace = agent?.workspace ?? null;
  const git = workspace?.git;
  return {
    disallowedTools: agent?.disallowedTools.join('\n') ?? '',
    allowedDomains: agent?.allowedDomains.join('\n') ?? '',
    systemPrompt: agent?.systemPrompt ?? '',
    effort: agent?.effort ?? '',
    fallbackModel: agent?.fallbackModel ?? '',
    mcpServers: mcpServersText(agent?.mcpServers ?? {}),
    outputSchema: outputSchemaText(agent?.outputSchema ?? null),
    workspace: workspaceKind(workspace),
    gitUrl: git?.url ?? '',
    gitRef: git?.ref ?? '',
    gitDepth: git?.depth === undefined ? '' : String(git.depth),
    hostPath: workspace?.hostPath ?? '',
    // A new host folder starts read-only: writing into the host is the choice to make on purpose.
    hostReadOnly: workspace?.readOnly ?? true,
  };
}

/** The workspace the form describes; only the chosen kind's settings are sent. */
function workspaceInput(form: RunOptionsForm, problems: FieldErrors): WorkspaceSpec | null {
  if (form.workspace === 'own') return null;
  if (form.workspace === 'host') return { hostPath: form.hostPath.trim(), readOnly: form.hostReadOnly };
  const depthText = form.gitDepth.trim();
  const depth = Number(depthText);
  if (depthText !== '' && (!Number.isInteger(depth) || depth < 1))
    problems.gitDepth = 'Enter a whole number of commits (1 or more), or leave it empty for the full history.';
  const ref = form.gitRef.trim();
  return { git: { url: form.gitUrl.trim(), ...(ref === '' ? {} : { ref }), ...(depthText === '' ? {} : { depth }) } };
}

/** The Advanced fields of the request, and the problems found before asking the server. */
export function runOptionsInput(form: RunOptionsForm): { input: RunOptionsInput; problems: FieldErrors } {
  const problems: FieldErrors = {};
  const mcp = parseMcpServersJson(form.mcpServers);
  if (!mcp.ok) problems.mcpServers = mcp.error;
  const outputSchema = parseOutputSchemaJson(form.outputSchema);
  if (!outputSchema.ok) problems.outputSchema = outputSchema.error;
  const fallbackModel = form.fallbackModel.trim();
  return {
    input: {
      workspace: workspaceInput(form, problems),
      mcpServers: mcp.ok ? mcp.servers : {},
      disallowedTools: lines(form.disallowedTools),
      allowedDomains: lines(form.allowedDomains),
      systemPrompt: form.systemPrompt.trim() === '' ? null : form.systemPrompt,
      effort: form.effort === '' ? null : form.effort,
      fallbackModel: fallbackModel === '' ? null : fallbackModel,
      outputSchema: outputSchema.ok ? outputSchema.schema : null,
    },
    problems,
  };
}

/** Which Advanced settings differ from the defaults, in words, for the section's summary. */
export function runOptionsInUse(form: RunOptionsForm): string[] {
  const used: [boolean, string][] = [
    [form.workspace === 'git', 'git workspace'],
    [form.workspace === 'host', 'host folder'],
    [form.mcpServers.trim() !== '', 'MCP servers'],
    [form.disallowedTools.trim() !== '', 'disallowed tools'],
    [form.allowedDomains.trim() !== '', 'allowed domains'],
    [form.systemPrompt.trim() !== '', 'system prompt'],
    [form.effort !== '', 'effort'],
    [form.fallbackModel.trim() !== '', 'fallback model'],
    [!['', 'null'].includes(form.outputSchema.trim()), 'output schema'],
  ];
  return used.filter(([on]) => on).map(([, words]) => words);
}

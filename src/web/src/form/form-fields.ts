import type { AgentInput } from '../api';
import type { Effort, OverlapPolicy } from '../../../domain/types';
import type { SchedulePreset } from '../schedule';

/** What the agent form holds and where each problem is shown: its fields, their labels and control ids. */

/** Where the runs work: the agent's own folder, a git repository fetched into it, or a host folder. */
export type WorkspaceKind = 'own' | 'git' | 'host';

/** The fields as typed (numbers too: an empty budget means "no limit"). */
export interface FormState {
  name: string;
  description: string;
  prompt: string;
  preset: SchedulePreset;
  timezone: string;
  maxTurns: string;
  maxBudgetUsd: string;
  model: string;
  allowedTools: string;
  enabled: boolean;
  disallowedTools: string;
  allowedDomains: string;
  systemPrompt: string;
  /** '': the SDK's default. */
  effort: Effort | '';
  fallbackModel: string;
  /** JSON as typed; empty means no server. */
  mcpServers: string;
  /** JSON as typed; empty (or `null`) means free-text answers. */
  outputSchema: string;
  workspace: WorkspaceKind;
  /** The git workspace's settings, kept while another kind is chosen (only the chosen one is sent). */
  gitUrl: string;
  gitRef: string;
  gitDepth: string;
  /** The host folder workspace's settings. */
  hostPath: string;
  hostReadOnly: boolean;
  /** Spend caps in dollars as typed; empty means none. */
  dailyBudgetUsd: string;
  monthlyBudgetUsd: string;
  overlapPolicy: OverlapPolicy;
  maxRetries: string;
  retryDelaySeconds: string;
  /** Empty: never paused. */
  pauseAfterFailures: string;
}

/** A field of the request; the server's complaints name these. */
export type FieldName = keyof AgentInput;

/** The parts of the workspace field that have controls of their own (`workspace.git.url` -> gitUrl). */
export const WORKSPACE_PARTS = ['gitUrl', 'gitRef', 'gitDepth', 'hostPath', 'hostReadOnly'] as const;
export type WorkspacePart = (typeof WORKSPACE_PARTS)[number];

/** Where a problem is shown: beside a field, or beside a part of the workspace. */
export type ErrorKey = FieldName | WorkspacePart;

export type FieldErrors = Partial<Record<ErrorKey, string>>;

/** The fields of the request, in the order of the form. */
export const FIELDS = [
  'name',
  'description',
  'prompt',
  'schedule',
  'timezone',
  'maxTurns',
  'maxBudgetUsd',
  'model',
  'allowedTools',
  'enabled',
  'dailyBudgetUsd',
  'monthlyBudgetUsd',
  'overlapPolicy',
  'maxRetries',
  'retryDelaySeconds',
  'pauseAfterFailures',
  'workspace',
  'mcpServers',
  'disallowedTools',
  'allowedDomains',
  'systemPrompt',
  'effort',
  'fallbackModel',
  'outputSchema',
] satisfies FieldName[];

// Fails to compile when AgentInput gains a field that FIELDS lacks (an edit of it would be dropped).
const everyField: Exclude<FieldName, (typeof FIELDS)[number]> extends never ? true : never = true;
void everyField;

/** Every place a problem may be shown, in the order of the form (which the error summary follows). */
export const ERROR_KEYS: readonly ErrorKey[] = FIELDS.flatMap((field): ErrorKey[] => (field === 'workspace' ? ['workspace', ...WORKSPACE_PARTS] : [field]));

export const FIELD_LABELS: Record<ErrorKey, string> = {
  name: 'Name',
  description: 'Description',
  prompt: 'Prompt',
  schedule: 'Schedule',
  timezone: 'Timezone',
  maxTurns: 'Max turns',
  maxBudgetUsd: 'Budget per run',
  model: 'Model',
  allowedTools: 'Allowed tools',
  enabled: 'Enabled',
  dailyBudgetUsd: 'Daily cap',
  monthlyBudgetUsd: 'Monthly cap',
  overlapPolicy: 'While a run is still going',
  maxRetries: 'Retries',
  retryDelaySeconds: 'First retry after',
  pauseAfterFailures: 'Pause after failures',
  workspace: 'Workspace',
  gitUrl: 'Repository URL',
  gitRef: 'Branch, tag or commit',
  gitDepth: 'Depth',
  hostPath: 'Host folder',
  hostReadOnly: 'Read-only',
  mcpServers: 'MCP servers',
  disallowedTools: 'Disallowed tools',
  allowedDomains: 'Allowed domains',
  systemPrompt: 'System prompt',
  effort: 'Effort',
  fallbackModel: 'Fallback model',
  outputSchema: 'Output schema',
};

/** The id of each field's control: its label, hint and error ids derive from it. */
export const FIELD_INPUT: Record<ErrorKey, string> = {
  name: 'agent-name',
  description: 'agent-description',
  prompt: 'agent-prompt',
  schedule: 'schedule-kind',
  timezone: 'agent-timezone',
  maxTurns: 'agent-max-turns',
  maxBudgetUsd: 'agent-budget',
  model: 'agent-model',
  allowedTools: 'agent-tools',
  enabled: 'agent-enabled',
  dailyBudgetUsd: 'agent-daily-cap',
  monthlyBudgetUsd: 'agent-monthly-cap',
  overlapPolicy: 'agent-overlap',
  maxRetries: 'agent-max-retries',
  retryDelaySeconds: 'agent-retry-delay',
  pauseAfterFailures: 'agent-pause-after',
  workspace: 'agent-workspace',
  gitUrl: 'agent-git-url',
  gitRef: 'agent-git-ref',
  gitDepth: 'agent-git-depth',
  hostPath: 'agent-host-path',
  hostReadOnly: 'agent-host-read-only',
  mcpServers: 'agent-mcp-servers',
  disallowedTools: 'agent-disallowed-tools',
  allowedDomains: 'agent-allowed-domains',
  systemPrompt: 'agent-system-prompt',
  effort: 'agent-effort',
  fallbackModel: 'agent-fallback-model',
  outputSchema: 'agent-output-schema',
};

/** The fields typed as free text, which <TextField> edits. */
export type TextFieldName = { [K in keyof FormState]: string extends FormState[K] ? K : never }[keyof FormState];

/** The fields of the Advanced section, which starts closed unless one of them has a problem. */
export const ADVANCED_KEYS: readonly ErrorKey[] = ERROR_KEYS.slice(ERROR_KEYS.indexOf('workspace'));

/** Models offered while typing a model's name (any other name may be typed). */
export const MODEL_SUGGESTIONS: readonly string[] = ['claude-sonnet-4-5', 'claude-opus-4-1', 'claude-haiku-4-5'];

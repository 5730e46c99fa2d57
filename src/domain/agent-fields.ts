import { normalizeAllowedDomains } from './allowed-domains.js';
import { normalizeTimezone, validateSchedule } from './cron.js';
import { parseMcpServers, type McpServerInput } from './mcp-servers.js';
import { parseOutputSchema } from './output-schema.js';
import type { Agent, AgentFields, Effort, OverlapPolicy } from './types.js';
import { parseWorkspace, type WorkspaceInput } from './workspace-spec.js';

/** The fields of a create request, after schema validation. */
export interface AgentInput {
  name: string;
  description?: string | null;
  schedule: string;
  prompt: string;
  enabled?: boolean;
  maxTurns?: number;
  maxBudgetUsd?: number | null;
  timezone?: string;
  model?: string | null;
  allowedTools?: string[];
  disallowedTools?: string[];
  mcpServers?: Record<string, McpServerInput>;
  workspace?: WorkspaceInput | null;
  allowedDomains?: string[];
  systemPrompt?: string | null;
  effort?: Effort | null;
  fallbackModel?: string | null;
  outputSchema?: Record<string, unknown> | null;
  dailyBudgetUsd?: number | null;
  monthlyBudgetUsd?: number | null;
  overlapPolicy?: OverlapPolicy;
  maxRetries?: number;
  retryDelaySeconds?: number;
  pauseAfterFailures?: number | null;
}

export const DEFAULT_MAX_TURNS = 50;
export const DEFAULT_TIMEZONE = 'UTC';
export const DEFAULT_OVERLAP_POLICY: OverlapPolicy = 'skip';
export const DEFAULT_RETRY_DELAY_SECONDS = 60;

/** The agent's fields with what the scheduler should do next. */
export interface PlannedAgent {
  fields: AgentFields;
  nextFireAt: number | null;
}

function firstSlot(fields: AgentFields, now: number): number | null {
  const schedule = validateSchedule(fields.schedule, fields.timezone, now);
  return fields.enabled ? schedule.nextAfter(now) : null;
}

/**
 * Applies the defaults, checks schedule, timezone, the run options (MCP servers, workspace,
 * allowed domains) and the output schema, and plans the first fire time. Who may grant what is tool-grants.ts's.
 */
export function planNewAgent(input: AgentInput, now: number): PlannedAgent {
  const timezone = normalizeTimezone(input.timezone ?? DEFAULT_TIMEZONE);
  const fields: AgentFields = {
    name: input.name.trim(),
    description: input.description ?? null,
    schedule: input.schedule.trim(),
    timezone,
    prompt: input.prompt,
    enabled: input.enabled ?? true,
    maxTurns: input.maxTurns ?? DEFAULT_MAX_TURNS,
    maxBudgetUsd: input.maxBudgetUsd ?? null,
    model: input.model?.trim() ?? null,
    allowedTools: input.allowedTools ?? [],
    disallowedTools: input.disallowedTools ?? [],
    mcpServers: parseMcpServers(input.mcpServers ?? {}),
    workspace: parseWorkspace(input.workspace ?? null),
    allowedDomains: normalizeAllowedDomains(input.allowedDomains ?? []),
    systemPrompt: input.systemPrompt ?? null,
    effort: input.effort ?? null,
    fallbackModel: input.fallbackModel?.trim() ?? null,
    outputSchema: parseOutputSchema(input.outputSchema ?? null),
    dailyBudgetUsd: input.dailyBudgetUsd ?? null,
    monthlyBudgetUsd: input.monthlyBudgetUsd ?? null,
    overlapPolicy: input.overlapPolicy ?? DEFAULT_OVERLAP_POLICY,
    maxRetries: input.maxRetries ?? 0,
    retryDelaySeconds: input.retryDelaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS,
    pauseAfterFailures: input.pauseAfterFailures ?? null,
  };
  return { fields, nextFireAt: firstSlot(fields, now) };
}

/**
 * Applies a partial update. A change of schedule, timezone or enabled reschedules from `now`
 * (slots that passed while disabled never run); any other change keeps the planned slot.
 */
export function planAgentUpdate(current: Agent, patch: Partial<AgentInput>, now: number): PlannedAgent {
  const fields: AgentFields = {
    name: patch.name !== undefined ? patch.name.trim() : current.name,
    description: patch.description !== undefined ? patch.description : current.description,
    schedule: patch.schedule !== undefined ? patch.schedule.trim() : current.schedule,
    timezone: patch.timezone !== undefined ? normalizeTimezone(patch.timezone) : current.timezone,
    prompt: patch.prompt ?? current.prompt,
    enabled: patch.enabled ?? current.enabled,
    maxTurns: patch.maxTurns ?? current.maxTurns,
    maxBudgetUsd: patch.maxBudgetUsd !== undefined ? patch.maxBudgetUsd : current.maxBudgetUsd,
    model: patch.model !== undefined ? (patch.model?.trim() ?? null) : current.model,
    allowedTools: patch.allowedTools ?? current.allowedTools,
    disallowedTools: patch.disallowedTools ?? current.disallowedTools,
    mcpServers: patch.mcpServers !== undefined ? parseMcpServers(patch.mcpServers) : current.mcpServers,
    workspace: patch.workspace !== undefined ? parseWorkspace(patch.workspace) : current.workspace,
    allowedDomains: patch.allowedDomains !== undefined ? normalizeAllowedDomains(patch.allowedDomains) : current.allowedDomains,
    systemPrompt: patch.systemPrompt !== undefined ? patch.systemPrompt : current.systemPrompt,
    effort: patch.effort !== undefined ? patch.effort : current.effort,
    fallbackModel: patch.fallbackModel !== undefined ? (patch.fallbackModel?.trim() ?? null) : current.fallbackModel,
    outputSchema: patch.outputSchema !== undefined ? parseOutputSchema(patch.outputSchema) : current.outputSchema,
    dailyBudgetUsd: patch.dailyBudgetUsd !== undefined ? patch.dailyBudgetUsd : current.dailyBudgetUsd,
    monthlyBudgetUsd: patch.monthlyBudgetUsd !== undefined ? patch.monthlyBudgetUsd : current.monthlyBudgetUsd,
    overlapPolicy: patch.overlapPolicy ?? current.overlapPolicy,
    maxRetries: patch.maxRetries ?? current.maxRetries,
    retryDelaySeconds: patch.retryDelaySeconds ?? current.retryDelaySeconds,
    pauseAfterFailures: patch.pauseAfterFailures !== undefined ? patch.pauseAfterFailures : current.pauseAfterFailures,
  };
  const timingChanged = fields.schedule !== current.schedule || fields.timezone !== current.timezone || fields.enabled !== current.enabled;
  if (!timingChanged) return { fields, nextFireAt: current.nextFireAt };
  return { fields, nextFireAt: firstSlot(fields, now) };
}

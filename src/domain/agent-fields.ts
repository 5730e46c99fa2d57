import { normalizeTimezone, validateSchedule } from './cron.js';
import type { Agent, AgentFields } from './types.js';

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
}

export const DEFAULT_MAX_TURNS = 50;
export const DEFAULT_TIMEZONE = 'UTC';

/** The agent's fields with what the scheduler should do next. */
export interface PlannedAgent {
  fields: AgentFields;
  nextFireAt: number | null;
}

function firstSlot(fields: AgentFields, now: number): number | null {
  const schedule = validateSchedule(fields.schedule, fields.timezone, now);
  return fields.enabled ? schedule.nextAfter(now) : null;
}

/** Applies the defaults, checks schedule and timezone, and plans the first fire time. */
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
  };
  const timingChanged = fields.schedule !== current.schedule || fields.timezone !== current.timezone || fields.enabled !== current.enabled;
  if (!timingChanged) return { fields, nextFireAt: current.nextFireAt };
  return { fields, nextFireAt: firstSlot(fields, now) };
}

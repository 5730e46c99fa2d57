import type { Agent, AgentStats, GlobalStats, Run } from '../domain/types.js';
import type { AgentJson, RunJson } from './schemas.js';

const iso = (instant: number) => new Date(instant).toISOString();
const isoOrNull = (instant: number | null) => (instant === null ? null : iso(instant));

/** An agent as the API shows it. */
export function presentAgent(agent: Agent): AgentJson {
  return {
    id: agent.id,
    name: agent.name,
    description: agent.description,
    schedule: agent.schedule,
    timezone: agent.timezone,
    prompt: agent.prompt,
    enabled: agent.enabled,
    maxTurns: agent.maxTurns,
    maxBudgetUsd: agent.maxBudgetUsd,
    model: agent.model,
    allowedTools: agent.allowedTools,
    nextRunAt: agent.enabled ? isoOrNull(agent.nextFireAt) : null,
    lastRunAt: isoOrNull(agent.lastRunAt),
    lastStatus: agent.lastStatus,
    creator: agent.creator,
    createdAt: iso(agent.createdAt),
    updatedAt: iso(agent.updatedAt),
  };
}

/** A run as the API shows it. */
export function presentRun(run: Run): RunJson {
  return {
    id: run.id,
    agentId: run.agentId,
    status: run.status,
    trigger: run.trigger,
    scheduledFor: isoOrNull(run.scheduledFor),
    output: run.output,
    costUsd: run.costUsd,
    inputTokens: run.inputTokens,
    outputTokens: run.outputTokens,
    cacheReadInputTokens: run.cacheReadInputTokens,
    cacheCreationInputTokens: run.cacheCreationInputTokens,
    numTurns: run.numTurns,
    queuedAt: iso(run.queuedAt),
    startedAt: isoOrNull(run.startedAt),
    completedAt: isoOrNull(run.completedAt),
    durationMs: run.durationMs,
    executorId: run.executorId,
  };
}

export function presentAgentStats(stats: AgentStats) {
  return { ...stats, lastRunAt: isoOrNull(stats.lastRunAt) };
}

export function presentGlobalStats(stats: GlobalStats) {
  return stats;
}

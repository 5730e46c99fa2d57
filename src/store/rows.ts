import type { Selectable } from 'kysely';
import type { Agent, Role, Run, RunStatus, RunTrigger, User } from '../domain/types.js';
import type { AgentsTable, RunsTable, UsersTable } from './database.js';
import type { TokenInfo } from './store.js';

/** PostgreSQL's driver hands BIGINT back as strings unless told otherwise; accept both. */
export function num(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

export function numOrNull(value: number | string | bigint | null | undefined): number | null {
  return value === null || value === undefined ? null : num(value);
}

export function toUser(row: Selectable<UsersTable>): User {
  return { id: row.id, name: row.name, role: row.role as Role, createdAt: num(row.created_at) };
}

/** An agent row joined with its creator's name and its latest run. */
export type AgentRow = Selectable<AgentsTable> & {
  creator_name: string | null;
  /** `status:epochMs` of the agent's latest run, or null. */
  latest_run: string | null;
};

export function toAgent(row: AgentRow): Agent {
  const separator = row.latest_run?.indexOf(':') ?? -1;
  const lastStatus = separator > 0 ? (row.latest_run!.slice(0, separator) as RunStatus) : null;
  const lastRunAt = separator > 0 ? Number(row.latest_run!.slice(separator + 1)) : null;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    schedule: row.schedule,
    timezone: row.timezone,
    prompt: row.prompt,
    enabled: num(row.enabled) === 1,
    maxTurns: num(row.max_turns),
    maxBudgetUsd: numOrNull(row.max_budget_usd),
    model: row.model,
    allowedTools: JSON.parse(row.allowed_tools) as string[],
    nextFireAt: numOrNull(row.next_fire_at),
    lastRunAt,
    lastStatus,
    creator: row.creator_id && row.creator_name ? { id: row.creator_id, name: row.creator_name } : null,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

export function toRun(row: Selectable<RunsTable>): Run {
  return {
    id: row.id,
    agentId: row.agent_id,
    status: row.status as RunStatus,
    trigger: row.trigger as RunTrigger,
    scheduledFor: numOrNull(row.scheduled_for),
    output: row.output,
    costUsd: num(row.cost_usd),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cacheReadInputTokens: num(row.cache_read_input_tokens),
    cacheCreationInputTokens: num(row.cache_creation_input_tokens),
    numTurns: num(row.num_turns),
    queuedAt: num(row.queued_at),
    startedAt: numOrNull(row.started_at),
    completedAt: numOrNull(row.completed_at),
    durationMs: numOrNull(row.duration_ms),
    executorId: row.executor_id,
    leaseExpiresAt: numOrNull(row.lease_expires_at),
  };
}

export type TokenRow = {
  id: string;
  user_id: string;
  user_name: string;
  label: string;
  prefix: string;
  created_at: number | string;
  last_used_at: number | string | null;
  revoked_at: number | string | null;
};

export function toTokenInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    userId: row.user_id,
    userName: row.user_name,
    label: row.label,
    prefix: row.prefix,
    createdAt: num(row.created_at),
    lastUsedAt: numOrNull(row.last_used_at),
    revokedAt: numOrNull(row.revoked_at),
  };
}

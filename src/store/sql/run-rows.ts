import type { Selectable } from 'kysely';
import type { Run } from '../../domain/types.js';
import { num, numOrNull } from '../dialect.js';
import type { RunsTable } from '../schema.js';

/** A runs row as the domain's Run (runs.ts, and the outbox's events of ended runs, read them). */
export function toRun(row: Selectable<RunsTable>): Run {
  return {
    id: row.id,
    agentId: row.agent_id,
    status: row.status,
    trigger: row.trigger,
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
    structuredOutput: row.structured_output === null ? null : parseJson(row.structured_output),
    retryOf: row.retry_of,
    attempt: num(row.attempt),
    skippedSlots: numOrNull(row.skipped_slots),
    lastSkippedFor: numOrNull(row.last_skipped_for),
    reservedUsd: num(row.reserved_usd),
    notBefore: numOrNull(row.not_before),
    agentVersion: numOrNull(row.agent_version),
  };
}

/** A stored JSON text (the store wrote it with JSON.stringify). */
function parseJson(text: string): unknown {
  return JSON.parse(text);
}

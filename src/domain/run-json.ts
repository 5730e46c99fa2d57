import type { Run, RunStatus, RunTrigger } from './types.js';

/**
 * Here rather than in src/api so that everything that shows a run (the API, the CLI, the events
 * webhooks carry) shares one date format and one field list: the layers above may use the domain,
 * never the reverse.
 */

/** An instant (epoch ms) as ISO 8601 in UTC, the one date format of the API and the CLI; null stays null. */
export function iso(instant: number): string;
export function iso(instant: number | null): string | null;
export function iso(instant: number | null): string | null {
  return instant === null ? null : new Date(instant).toISOString();
}

/** A run as the API shows it (src/api/schemas/agents.ts RunJson, which presentRun checks it against). */
export interface RunJsonShape {
  id: string;
  agentId: string;
  status: RunStatus;
  trigger: RunTrigger;
  scheduledFor: string | null;
  output: string | null;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  numTurns: number;
  queuedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  executorId: string | null;
  structuredOutput: unknown;
  retryOf: string | null;
  attempt: number;
  skippedSlots: number | null;
  lastSkippedFor: string | null;
  notBefore: string | null;
  agentVersion: number | null;
}

/** A run as JSON: its instants as ISO, its lease left out. */
export function runJson(run: Run): RunJsonShape {
  return {
    id: run.id,
    agentId: run.agentId,
    status: run.status,
    trigger: run.trigger,
    scheduledFor: iso(run.scheduledFor),
    output: run.output,
    costUsd: run.costUsd,
    inputTokens: run.inputTokens,
    outputTokens: run.outputTokens,
    cacheReadInputTokens: run.cacheReadInputTokens,
    cacheCreationInputTokens: run.cacheCreationInputTokens,
    numTurns: run.numTurns,
    queuedAt: iso(run.queuedAt),
    startedAt: iso(run.startedAt),
    completedAt: iso(run.completedAt),
    durationMs: run.durationMs,
    executorId: run.executorId,
    structuredOutput: run.structuredOutput,
    retryOf: run.retryOf,
    attempt: run.attempt,
    skippedSlots: run.skippedSlots,
    lastSkippedFor: iso(run.lastSkippedFor),
    notBefore: iso(run.notBefore),
    agentVersion: run.agentVersion,
  };
}

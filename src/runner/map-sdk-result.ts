import type { ModelUsage, SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import type { RunOutcome, RunUsage } from '../domain/types.js';
import { ZERO_USAGE } from '../domain/types.js';

/** The token fields of a per-model usage entry (`modelUsage` of a result, `model_usage` of a usage report). */
export type ModelUsageLike = Pick<ModelUsage, 'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheCreationInputTokens'>;

/** The token fields of an API usage object (`usage` of a result or of an assistant message). */
export interface ApiUsageLike {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

/** The fields of an SDK result message that the mapping reads; every `SDKResultMessage` is one. */
export interface ResultLike {
  subtype: string;
  is_error: boolean;
  /** Final text (subtype `success`), or the API error text when `is_error` is true. */
  result?: string;
  /** Why an error subtype stopped. */
  errors?: string[];
  num_turns: number;
  total_cost_usd: number;
  usage?: ApiUsageLike;
  modelUsage?: Record<string, ModelUsageLike>;
  api_error_status?: number | null;
}

// Compile-time check that the SDK's result messages fit ResultLike.
const _resultFits = (r: SDKResultMessage): ResultLike => r;
void _resultFits;

export interface MapResultInput {
  /** The result message the run ended with, if one arrived. */
  result: ResultLike | null;
  /** Usage accrued while running (assistant messages, usage snapshots); a floor for the final usage. */
  accrued?: RunUsage;
  /** The run was cancelled through its signal (before it produced a result of its own). */
  cancelled?: boolean;
  /** What the SDK threw, if anything. Ignored when a result arrived. */
  thrown?: unknown;
  /** Limits of the run, for the messages. */
  maxTurns?: number;
  maxBudgetUsd?: number | null;
}

const n = (v: number | null | undefined): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Sums per-model usage; `inputTokens` of the outcome counts uncached input, cache writes and cache reads. */
export function usageFromModelUsage(modelUsage: Record<string, ModelUsageLike>, costUsd: number, numTurns: number): RunUsage {
  const u = { ...ZERO_USAGE, costUsd: n(costUsd), numTurns: n(numTurns) };
  for (const m of Object.values(modelUsage)) {
    u.inputTokens += n(m.inputTokens) + n(m.cacheReadInputTokens) + n(m.cacheCreationInputTokens);
    u.outputTokens += n(m.outputTokens);
    u.cacheReadInputTokens += n(m.cacheReadInputTokens);
    u.cacheCreationInputTokens += n(m.cacheCreationInputTokens);
  }
  return u;
}

/** Usage of one API usage object (e.g. one assistant message). */
export function usageFromApiUsage(usage: ApiUsageLike | undefined, costUsd = 0, numTurns = 0): RunUsage {
  const cacheRead = n(usage?.cache_read_input_tokens);
  const cacheCreation = n(usage?.cache_creation_input_tokens);
  return {
    costUsd: n(costUsd),
    inputTokens: n(usage?.input_tokens) + cacheRead + cacheCreation,
    outputTokens: n(usage?.output_tokens),
    cacheReadInputTokens: cacheRead,
    cacheCreationInputTokens: cacheCreation,
    numTurns: n(numTurns),
  };
}

/**
 * Usage of a result message. `modelUsage` is preferred: it covers every model call of the query
 * (subagents and side calls included), while `usage` covers the main loop only and is zeroed on
 * some error results (e.g. `error_max_budget_usd`).
 */
export function usageFromResult(result: ResultLike): RunUsage {
  const fromModels = result.modelUsage && Object.keys(result.modelUsage).length > 0;
  const fromModelUsage = fromModels ? usageFromModelUsage(result.modelUsage ?? {}, result.total_cost_usd, result.num_turns) : null;
  const fromUsage = usageFromApiUsage(result.usage, result.total_cost_usd, result.num_turns);
  return fromModelUsage ? maxUsage(fromModelUsage, fromUsage) : fromUsage;
}

/** Field-wise maximum: both arguments are lower bounds of the same cumulative usage. */
export function maxUsage(a: RunUsage, b: RunUsage): RunUsage {
  return {
    costUsd: Math.max(a.costUsd, b.costUsd),
    inputTokens: Math.max(a.inputTokens, b.inputTokens),
    outputTokens: Math.max(a.outputTokens, b.outputTokens),
    cacheReadInputTokens: Math.max(a.cacheReadInputTokens, b.cacheReadInputTokens),
    cacheCreationInputTokens: Math.max(a.cacheCreationInputTokens, b.cacheCreationInputTokens),
    numTurns: Math.max(a.numTurns, b.numTurns),
  };
}

export function usageEquals(a: RunUsage, b: RunUsage): boolean {
  return (
    a.costUsd === b.costUsd &&
    a.inputTokens === b.inputTokens &&
    a.outputTokens === b.outputTokens &&
    a.cacheReadInputTokens === b.cacheReadInputTokens &&
    a.cacheCreationInputTokens === b.cacheCreationInputTokens &&
    a.numTurns === b.numTurns
  );
}

function errorMessage(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message || thrown.name || 'The agent failed';
  if (typeof thrown === 'string' && thrown) return thrown;
  return 'The agent failed';
}

function joinErrors(errors: string[] | undefined): string {
  return (errors ?? []).filter((e) => typeof e === 'string' && e.trim() !== '').join('\n');
}

/**
 * Maps how an SDK query ended to a run outcome:
 * - cancelled (signal) -> `cancelled`, "Cancelled";
 * - result `success` with `is_error` false -> `success`, the result text;
 * - `error_max_budget_usd` -> `budget_exceeded`;
 * - `error_max_turns`, `error_during_execution`, any other error subtype, `is_error` true with
 *   subtype `success` (an API error), a thrown SDK error, or no result at all -> `error`.
 * Usage is the result's usage, never below what had accrued.
 */
export function mapResult(input: MapResultInput): RunOutcome {
  const { result } = input;
  const accrued = input.accrued ?? ZERO_USAGE;
  const usage = result ? maxUsage(accrued, usageFromResult(result)) : { ...accrued };

  if (input.cancelled) return { status: 'cancelled', output: 'Cancelled', ...usage };

  if (!result) {
    const output = input.thrown !== undefined ? errorMessage(input.thrown) : 'The agent ended without a result';
    return { status: 'error', output, ...usage };
  }

  switch (result.subtype) {
    case 'success': {
      if (!result.is_error) return { status: 'success', output: result.result ?? '', ...usage };
      const text = result.result?.trim();
      const status = result.api_error_status;
      return { status: 'error', output: text || (status ? `API error ${status}` : 'The agent ended with an error'), ...usage };
    }
    case 'error_max_budget_usd': {
      const limit = input.maxBudgetUsd != null ? ` ($${input.maxBudgetUsd})` : '';
      return { status: 'budget_exceeded', output: `Stopped after reaching the budget limit${limit}`, ...usage };
    }
    case 'error_max_turns': {
      const limit = input.maxTurns !== undefined ? ` (${input.maxTurns})` : '';
      return { status: 'error', output: `Stopped after reaching the turn limit${limit}`, ...usage };
    }
    case 'error_during_execution': {
      const errors = joinErrors(result.errors);
      return { status: 'error', output: `The agent failed during execution${errors ? `: ${errors}` : ''}`, ...usage };
    }
    default: {
      const errors = joinErrors(result.errors);
      return { status: 'error', output: errors || `The agent stopped: ${result.subtype}`, ...usage };
    }
  }
}

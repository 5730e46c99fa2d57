import type { ModelUsage, SDKAssistantMessage } from '@anthropic-ai/claude-agent-sdk';
import type { RunUsage } from '../domain/types.js';
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

/** The fields of an SDK result message that carry its cost and usage. */
export interface ResultUsageLike {
  num_turns: number;
  total_cost_usd: number;
  usage?: ApiUsageLike;
  modelUsage?: Record<string, ModelUsageLike>;
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
export function usageFromResult(result: ResultUsageLike): RunUsage {
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

/** Usage accrued while a query runs, from its assistant messages and its usage snapshots. */
export class UsageAccumulator {
  /** Latest usage per API response (several assistant messages can share one message id). */
  private readonly perMessage = new Map<string, RunUsage>();
  private readonly mainTurns = new Set<string>();
  private snapshot: RunUsage = { ...ZERO_USAGE };

  onAssistant(m: SDKAssistantMessage): void {
    const id = m.message?.id ?? m.uuid;
    const u = usageFromApiUsage(m.message?.usage);
    const prev = this.perMessage.get(id);
    this.perMessage.set(id, prev ? maxUsage(prev, u) : u);
    // A synthetic message standing for an API error (m.error set) is not a model turn.
    if (m.parent_tool_use_id === null && m.message?.id && !m.error) this.mainTurns.add(m.message.id);
  }

  onSnapshot(u: RunUsage): void {
    this.snapshot = maxUsage(this.snapshot, u);
  }

  current(): RunUsage {
    const sum: RunUsage = { ...ZERO_USAGE, numTurns: this.mainTurns.size };
    for (const u of this.perMessage.values()) {
      sum.inputTokens += u.inputTokens;
      sum.outputTokens += u.outputTokens;
      sum.cacheReadInputTokens += u.cacheReadInputTokens;
      sum.cacheCreationInputTokens += u.cacheCreationInputTokens;
    }
    return maxUsage(sum, { ...this.snapshot, numTurns: 0 });
  }
}

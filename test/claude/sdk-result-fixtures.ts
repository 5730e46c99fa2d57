import type { ResultLike } from '../../src/claude/outcome.js';
import type { RunUsage } from '../../src/domain/types.js';

/** A successful SDK result message, with fields overridden. */
export function result(overrides: Partial<ResultLike> = {}): ResultLike {
  return {
    subtype: 'success',
    is_error: false,
    result: 'final text',
    num_turns: 2,
    total_cost_usd: 0.5,
    usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 30, cache_creation_input_tokens: 40 },
    ...overrides,
  };
}

/** Usage accrued while a run ran, below its result's. */
export const accrued: RunUsage = {
  costUsd: 0.1,
  inputTokens: 50,
  outputTokens: 5,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
  numTurns: 1,
};

import { describe, expect, it } from 'vitest';
import { mapResult } from '../../src/claude/outcome.js';
import { maxUsage, usageFromApiUsage, usageFromModelUsage, usageFromResult } from '../../src/claude/usage.js';
import { accrued, result } from './sdk-result-fixtures.js';

describe('usage arithmetic', () => {
  it('input tokens add uncached input, cache writes and cache reads', () => {
    expect(usageFromApiUsage({ input_tokens: 1000, output_tokens: 200, cache_read_input_tokens: 50, cache_creation_input_tokens: 20 }, 0.01, 3)).toEqual({
      costUsd: 0.01,
      inputTokens: 1070,
      outputTokens: 200,
      cacheReadInputTokens: 50,
      cacheCreationInputTokens: 20,
      numTurns: 3,
    });
    expect(usageFromApiUsage({ input_tokens: 5, cache_read_input_tokens: null })).toMatchObject({ inputTokens: 5, outputTokens: 0, cacheReadInputTokens: 0 });
    expect(usageFromApiUsage(undefined)).toMatchObject({ inputTokens: 0, outputTokens: 0 });
  });

  it('modelUsage is summed over models', () => {
    const u = usageFromModelUsage(
      {
        big: { inputTokens: 1000, outputTokens: 200, cacheReadInputTokens: 50, cacheCreationInputTokens: 20 },
        small: { inputTokens: 10, outputTokens: 2, cacheReadInputTokens: 1, cacheCreationInputTokens: 0 },
      },
      0.2,
      4,
    );
    expect(u).toEqual({ costUsd: 0.2, inputTokens: 1081, outputTokens: 202, cacheReadInputTokens: 51, cacheCreationInputTokens: 20, numTurns: 4 });
  });

  it('a result prefers modelUsage (the usage field is zeroed on some error results)', () => {
    const r = result({
      subtype: 'error_max_budget_usd',
      is_error: true,
      total_cost_usd: 0.008,
      num_turns: 1,
      usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
      modelUsage: { m: { inputTokens: 1000, outputTokens: 200, cacheReadInputTokens: 0, cacheCreationInputTokens: 0 } },
    });
    expect(usageFromResult(r)).toEqual({
      costUsd: 0.008,
      inputTokens: 1000,
      outputTokens: 200,
      cacheReadInputTokens: 0,
      cacheCreationInputTokens: 0,
      numTurns: 1,
    });
    expect(mapResult({ result: r }).inputTokens).toBe(1000);
  });

  it('the outcome never reports less than what had accrued', () => {
    const zeroed = result({ subtype: 'error_during_execution', is_error: true, total_cost_usd: 0, num_turns: 0, usage: {} });
    expect(mapResult({ result: zeroed, accrued })).toMatchObject({ costUsd: 0.1, inputTokens: 50, outputTokens: 5, numTurns: 1 });
    expect(maxUsage(accrued, { ...accrued, costUsd: 0.2, outputTokens: 1 })).toEqual({ ...accrued, costUsd: 0.2 });
  });

  it('ignores non-finite numbers', () => {
    expect(usageFromApiUsage({ input_tokens: Number.NaN, output_tokens: 3 }, Number.POSITIVE_INFINITY)).toMatchObject({
      costUsd: 0,
      inputTokens: 0,
      outputTokens: 3,
    });
  });
});

import { describe, expect, it } from 'vitest';
import type { RunUsage } from '../../src/domain/types.js';
import {
  mapResult,
  maxUsage,
  usageFromApiUsage,
  usageFromModelUsage,
  usageFromResult,
  type ResultLike,
} from '../../src/runner/map-sdk-result.js';

function result(overrides: Partial<ResultLike> = {}): ResultLike {
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

const accrued: RunUsage = {
  costUsd: 0.1,
  inputTokens: 50,
  outputTokens: 5,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
  numTurns: 1,
};

describe('mapResult status mapping', () => {
  it('success only when subtype is success and is_error is false', () => {
    expect(mapResult({ result: result() })).toEqual({
      status: 'success',
      output: 'final text',
      costUsd: 0.5,
      inputTokens: 170,
      outputTokens: 20,
      cacheReadInputTokens: 30,
      cacheCreationInputTokens: 40,
      numTurns: 2,
    });
  });

  it('is_error with subtype success (an API error) is an error carrying the API text', () => {
    const out = mapResult({ result: result({ is_error: true, result: 'API Error: 400 bad model', api_error_status: 400 }) });
    expect(out.status).toBe('error');
    expect(out.output).toBe('API Error: 400 bad model');
  });

  it('is_error with an empty text falls back to the status code', () => {
    expect(mapResult({ result: result({ is_error: true, result: '', api_error_status: 400 }) }).output).toBe('API error 400');
    expect(mapResult({ result: result({ is_error: true, result: '  ' }) }).output).toBe('The agent ended with an error');
  });

  it('error_max_budget_usd is budget_exceeded', () => {
    const out = mapResult({
      result: result({ subtype: 'error_max_budget_usd', is_error: true, result: undefined, errors: ['Reached maximum budget ($0.01)'] }),
      maxBudgetUsd: 0.01,
    });
    expect(out.status).toBe('budget_exceeded');
    expect(out.output).toBe('Stopped after reaching the budget limit ($0.01)');
    expect(mapResult({ result: result({ subtype: 'error_max_budget_usd', is_error: true }) }).output).toBe(
      'Stopped after reaching the budget limit',
    );
  });

  it('error_max_turns is an error naming the limit', () => {
    const out = mapResult({ result: result({ subtype: 'error_max_turns', is_error: true, errors: ['Reached maximum number of turns (3)'] }), maxTurns: 3 });
    expect(out).toMatchObject({ status: 'error', output: 'Stopped after reaching the turn limit (3)' });
    expect(mapResult({ result: result({ subtype: 'error_max_turns', is_error: true }) }).output).toBe('Stopped after reaching the turn limit');
  });

  it('error_during_execution is an error with the errors', () => {
    expect(mapResult({ result: result({ subtype: 'error_during_execution', is_error: true, errors: ['boom', '', 'bang'] }) })).toMatchObject({
      status: 'error',
      output: 'The agent failed during execution: boom\nbang',
    });
    expect(mapResult({ result: result({ subtype: 'error_during_execution', is_error: true, errors: [] }) }).output).toBe(
      'The agent failed during execution',
    );
  });

  it('an unknown error subtype is an error', () => {
    expect(mapResult({ result: result({ subtype: 'error_max_structured_output_retries', is_error: true, errors: ['x'] }) })).toMatchObject({
      status: 'error',
      output: 'x',
    });
    expect(mapResult({ result: result({ subtype: 'error_new_kind', is_error: true }) }).output).toBe('The agent stopped: error_new_kind');
  });

  it('a thrown SDK error without a result is an error with its message', () => {
    expect(mapResult({ result: null, thrown: new Error('spawn claude ENOENT'), accrued })).toEqual({ status: 'error', output: 'spawn claude ENOENT', ...accrued });
    expect(mapResult({ result: null, thrown: 'text thrown' }).output).toBe('text thrown');
    expect(mapResult({ result: null, thrown: new Error('') }).output).toBe('Error');
    expect(mapResult({ result: null, thrown: 42 }).output).toBe('The agent failed');
  });

  it('a result wins over an error thrown after it', () => {
    expect(mapResult({ result: result(), thrown: new Error('Claude Code returned an error result') }).status).toBe('success');
  });

  it('a stream that ends without a result is an error', () => {
    expect(mapResult({ result: null })).toMatchObject({ status: 'error', output: 'The agent ended without a result', costUsd: 0, numTurns: 0 });
  });

  it('cancelled wins over any result and keeps the usage', () => {
    expect(mapResult({ result: null, cancelled: true, accrued })).toEqual({ status: 'cancelled', output: 'Cancelled', ...accrued });
    const interrupted = result({ subtype: 'error_during_execution', is_error: true, total_cost_usd: 0.3, num_turns: 1 });
    expect(mapResult({ result: interrupted, cancelled: true, accrued })).toMatchObject({ status: 'cancelled', output: 'Cancelled', costUsd: 0.3, inputTokens: 170 });
  });
});

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
    expect(usageFromResult(r)).toEqual({ costUsd: 0.008, inputTokens: 1000, outputTokens: 200, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, numTurns: 1 });
    expect(mapResult({ result: r }).inputTokens).toBe(1000);
  });

  it('the outcome never reports less than what had accrued', () => {
    const zeroed = result({ subtype: 'error_during_execution', is_error: true, total_cost_usd: 0, num_turns: 0, usage: {} });
    expect(mapResult({ result: zeroed, accrued })).toMatchObject({ costUsd: 0.1, inputTokens: 50, outputTokens: 5, numTurns: 1 });
    expect(maxUsage(accrued, { ...accrued, costUsd: 0.2, outputTokens: 1 })).toEqual({ ...accrued, costUsd: 0.2 });
  });

  it('ignores non-finite numbers', () => {
    expect(usageFromApiUsage({ input_tokens: Number.NaN, output_tokens: 3 }, Number.POSITIVE_INFINITY)).toMatchObject({ costUsd: 0, inputTokens: 0, outputTokens: 3 });
  });
});

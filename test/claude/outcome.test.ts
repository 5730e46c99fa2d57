import { describe, expect, it } from 'vitest';
import { mapResult } from '../../src/claude/outcome.js';
import { accrued, result } from './sdk-result-fixtures.js';

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
    expect(mapResult({ result: result({ subtype: 'error_max_budget_usd', is_error: true }) }).output).toBe('Stopped after reaching the budget limit');
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
    expect(mapResult({ result: result({ subtype: 'error_during_execution', is_error: true, errors: [] }) }).output).toBe('The agent failed during execution');
  });

  it('an unknown error subtype is an error', () => {
    expect(mapResult({ result: result({ subtype: 'error_max_structured_output_retries', is_error: true, errors: ['x'] }) })).toMatchObject({
      status: 'error',
      output: 'x',
    });
    expect(mapResult({ result: result({ subtype: 'error_new_kind', is_error: true }) }).output).toBe('The agent stopped: error_new_kind');
  });

  it('a thrown SDK error without a result is an error with its message', () => {
    expect(mapResult({ result: null, thrown: new Error('spawn claude ENOENT'), accrued })).toEqual({
      status: 'error',
      output: 'spawn claude ENOENT',
      ...accrued,
    });
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
    expect(mapResult({ result: interrupted, cancelled: true, accrued })).toMatchObject({
      status: 'cancelled',
      output: 'Cancelled',
      costUsd: 0.3,
      inputTokens: 170,
    });
  });
});

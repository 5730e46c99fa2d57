import { describe, expect, it } from 'vitest';
import { mapResult } from '../../src/claude/outcome.js';
import { result } from './sdk-result-fixtures.js';

const SCHEMA = { type: 'object', properties: { summary: { type: 'string' }, count: { type: 'integer' } }, required: ['summary', 'count'] };

describe('mapResult with an outputSchema', () => {
  it('a success whose structured output satisfies the schema carries it', () => {
    const answer = { summary: 'ok', count: 2 };
    const outcome = mapResult({ result: result({ result: JSON.stringify(answer), structured_output: answer }), outputSchema: SCHEMA });
    expect(outcome).toMatchObject({ status: 'success', output: JSON.stringify(answer), structuredOutput: answer, costUsd: 0.5 });
  });

  it('a success without structured output, or with one that does not satisfy the schema, is an error saying why', () => {
    expect(mapResult({ result: result(), outputSchema: SCHEMA })).toMatchObject({
      status: 'error',
      output: 'The agent answered without the structured output its outputSchema asks for',
      costUsd: 0.5,
    });
    const wrong = mapResult({ result: result({ structured_output: { summary: 'ok', count: 'two' } }), outputSchema: SCHEMA });
    expect(wrong).toMatchObject({ status: 'error', output: "The agent's answer does not match its outputSchema: output/count must be integer" });
    expect(wrong.structuredOutput).toBeUndefined();
  });

  it('the SDK giving up on structured output is an error in its own words', () => {
    const gaveUp = result({
      subtype: 'error_max_structured_output_retries',
      is_error: true,
      errors: ['Failed to provide valid structured output after 5 attempts'],
    });
    expect(mapResult({ result: gaveUp, outputSchema: SCHEMA })).toMatchObject({
      status: 'error',
      output: 'Failed to provide valid structured output after 5 attempts',
    });
    expect(mapResult({ result: { ...gaveUp, errors: [] }, outputSchema: SCHEMA }).output).toBe("The agent's answer did not match its outputSchema");
  });

  it('without a schema, a structured output is not looked at', () => {
    const outcome = mapResult({ result: result({ structured_output: { x: 1 } }) });
    expect(outcome.status).toBe('success');
    expect('structuredOutput' in outcome).toBe(false);
  });
});

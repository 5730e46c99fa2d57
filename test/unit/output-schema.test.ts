import { describe, expect, it } from 'vitest';
import { planAgentUpdate, planNewAgent } from '../../src/domain/agent-fields.js';
import { ValidationError } from '../../src/domain/errors.js';
import { outputMismatch, parseOutputSchema } from '../../src/domain/output-schema.js';
import type { Agent } from '../../src/domain/types.js';

const NOW = Date.parse('2026-01-05T08:00:00Z');
const SCHEMA = { type: 'object', properties: { summary: { type: 'string' }, count: { type: 'integer' } }, required: ['summary', 'count'] };

function problemOf(value: unknown): { field: string; message: string } | undefined {
  try {
    parseOutputSchema(value);
  } catch (error) {
    if (error instanceof ValidationError) return error.details[0];
    throw error;
  }
  return undefined;
}

describe('parseOutputSchema', () => {
  it('takes null and an object schema ajv compiles', () => {
    expect(parseOutputSchema(null)).toBeNull();
    expect(parseOutputSchema(SCHEMA)).toEqual(SCHEMA);
    const draft2020 = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { s: { type: 'string' } },
      properties: { a: { $ref: '#/$defs/s' } },
    };
    expect(parseOutputSchema(draft2020)).toEqual(draft2020);
    expect(parseOutputSchema({ type: 'object', properties: { email: { type: 'string', format: 'email' } } })).toBeTruthy();
  });

  it('refuses what is not a schema of an object, naming outputSchema with the reason', () => {
    expect(problemOf([])).toEqual({ field: 'outputSchema', message: 'must be a JSON Schema object, or null' });
    expect(problemOf('x')?.field).toBe('outputSchema');
    expect(problemOf({ type: 'array' })?.message).toMatch(/"type": "object"/);
    const invalid = problemOf({ type: 'object', properties: { a: { type: 'strnig' } } });
    expect(invalid?.field).toBe('outputSchema');
    expect(invalid?.message).toMatch(/^is not a valid JSON Schema: outputSchema\/properties\/a\/type must be/);
    expect(problemOf({ type: 'object', required: 'a' })?.message).toMatch(/required must be array/);
    expect(problemOf({ type: 'object', properties: { a: { $ref: '#/definitions/missing' } } })?.message).toMatch(/can't resolve reference/);
  });

  it('refuses a schema over 64 KiB', () => {
    const big = { type: 'object', description: 'd'.repeat(70_000) };
    expect(problemOf(big)?.message).toMatch(/^must be at most 65536 bytes as JSON/);
  });
});

describe('outputMismatch', () => {
  it('is null for an answer that satisfies the schema, and says why otherwise', () => {
    expect(outputMismatch(SCHEMA, { summary: 'ok', count: 3 })).toBeNull();
    expect(outputMismatch(SCHEMA, { summary: 'ok', count: 'three' })).toBe('output/count must be integer');
    expect(outputMismatch(SCHEMA, { summary: 'ok' })).toBe("output must have required property 'count'");
  });
});

describe('outputSchema as an agent field', () => {
  it('defaults to null, is checked on create and update, and null clears it', () => {
    const created = planNewAgent({ name: 'a', schedule: '0 * * * *', prompt: 'p' }, NOW).fields;
    expect(created.outputSchema).toBeNull();
    const withSchema = planNewAgent({ name: 'a', schedule: '0 * * * *', prompt: 'p', outputSchema: SCHEMA }, NOW).fields;
    expect(withSchema.outputSchema).toEqual(SCHEMA);
    expect(() => planNewAgent({ name: 'a', schedule: '0 * * * *', prompt: 'p', outputSchema: { type: 'object', minProperties: -1 } }, NOW)).toThrow(
      ValidationError,
    );
    const current: Agent = {
      ...withSchema,
      id: 'a1',
      nextFireAt: null,
      lastRunAt: null,
      lastStatus: null,
      pausedReason: null,
      pausedAt: null,
      creator: null,
      createdAt: NOW,
      updatedAt: NOW,
    };
    expect(planAgentUpdate(current, { name: 'b' }, NOW).fields.outputSchema).toEqual(SCHEMA);
    expect(planAgentUpdate(current, { outputSchema: null }, NOW).fields.outputSchema).toBeNull();
  });
});

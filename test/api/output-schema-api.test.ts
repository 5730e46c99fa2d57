import { describe, expect, it } from 'vitest';
import { dialectsUnderTest } from '../support/dialects.js';
import type { TestApp } from '../support/test-app.js';
import {
  call,
  createAgent,
  expectError,
  expectRunShape,
  getAgent,
  triggerRun,
  useTestApp,
  waitForRunnerRuns,
  waitForRunStatus,
  type AgentJson,
} from './api-helpers.js';

/**
 * An agent's outputSchema through the API: it round-trips, is checked as a JSON Schema on write
 * (a 400 naming the field, with ajv's reason), reaches the run, and the run's structuredOutput is
 * shown; the OpenAPI document describes both.
 */
const SCHEMA = { type: 'object', properties: { summary: { type: 'string' }, count: { type: 'integer' } }, required: ['summary'] };

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`outputSchema and structuredOutput (${dialect.name})`, () => {
    let t: TestApp;
    useTestApp(
      'each',
      (app) => {
        t = app;
      },
      {},
      dialect,
    );

    const patch = (id: string, body: unknown) => call<{ data: AgentJson }>(t, 'PATCH', `/api/agents/${id}`, { body });

    it('round-trips through create, get and update; null clears it', async () => {
      const plain = await createAgent(t);
      expect(plain.outputSchema).toBeNull();
      const created = await createAgent(t, { outputSchema: SCHEMA });
      expect(created.outputSchema).toEqual(SCHEMA);
      expect(await getAgent(t, created.id)).toEqual(created);
      const renamed = await patch(created.id, { name: 'renamed' });
      expect(renamed.body.data.outputSchema).toEqual(SCHEMA);
      const cleared = await patch(created.id, { outputSchema: null });
      expect(cleared.status, cleared.text).toBe(200);
      expect(cleared.body.data.outputSchema).toBeNull();
    });

    it('refuses what is not a JSON Schema of an object with a 400 naming outputSchema, and changes nothing', async () => {
      const created = await createAgent(t, { outputSchema: SCHEMA });
      const invalid = await patch(created.id, { outputSchema: { type: 'object', properties: { a: { type: 'nope' } } } });
      const error = expectError(invalid, 400, 'validation_error', 'outputSchema');
      expect(error.error.details[0]?.message).toMatch(/^is not a valid JSON Schema: outputSchema\/properties\/a\/type must be/);
      expectError(await patch(created.id, { outputSchema: { type: 'array' } }), 400, 'validation_error', 'outputSchema');
      expectError(await patch(created.id, { outputSchema: 'text' }), 400, 'validation_error', 'outputSchema');
      const tooBig = { type: 'object', description: 'x'.repeat(70_000) };
      expectError(
        await call(t, 'POST', '/api/agents', { body: { name: 'a', schedule: '0 * * * *', prompt: 'p', outputSchema: tooBig } }),
        400,
        'validation_error',
        'outputSchema',
      );
      expect((await getAgent(t, created.id)).outputSchema).toEqual(SCHEMA);
    });

    it("gives the schema to the run and shows the run's structured output", async () => {
      const agent = await createAgent(t, { outputSchema: SCHEMA });
      const runId = await triggerRun(t, agent.id);
      await waitForRunnerRuns(t, 1);
      const pending = t.runner.runs[0]!;
      expect(pending.request.outputSchema).toEqual(SCHEMA);
      pending.finish({ output: '{"summary":"fine"}', structuredOutput: { summary: 'fine' } });
      const run = await waitForRunStatus(t, agent.id, runId, (s) => s === 'success');
      expectRunShape(run);
      expect(run.structuredOutput).toEqual({ summary: 'fine' });
    });

    it('is described in the OpenAPI document', async () => {
      const doc = await call<{ components: { schemas: Record<string, { properties: Record<string, { description?: string }> }> } }>(
        t,
        'GET',
        '/api/openapi.json',
      );
      const schemas = JSON.stringify(doc.body);
      expect(schemas).toContain('outputSchema');
      expect(schemas).toContain('structuredOutput');
    });
  });
}

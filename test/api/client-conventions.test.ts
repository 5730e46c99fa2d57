import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/test-app.js';
import { call, createAgent, expectError, useTestApp, type AgentJson } from './api-helpers.js';
import { dialectsUnderTest } from '../support/dialects.js';

/** What common HTTP clients do that the spec does not mention. */

for (const dialect of dialectsUnderTest()) {
  describe(dialect.name, () => {
    let t: TestApp;
    useTestApp(
      'each',
      (app) => {
        t = app;
      },
      {},
      dialect,
    );

    describe('client conventions', () => {
      it('treats an empty JSON body on a bodiless request as no body', async () => {
        const agent = await createAgent(t);
        const run = await call<{ message: string }>(t, 'POST', `/api/agents/${agent.id}/run`, { raw: '' });
        expect(run.status).toBe(200);
        expect(run.body.message).toBe('Agent started');
        const removed = await call(t, 'DELETE', `/api/agents/${agent.id}`, { raw: '' });
        expect(removed.status).toBe(200);
      });

      it('still refuses an empty body where one is required', async () => {
        const response = await call(t, 'POST', '/api/agents', { raw: '' });
        expectError(response, 400, 'validation_error');
        const list = await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents');
        expect(list.body.data).toEqual([]);
      });

      it('lists agents alphabetically regardless of case', async () => {
        for (const name of ['Zed', 'alpha', 'Beta', 'gamma']) await createAgent(t, { name });
        const list = await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents');
        expect(list.body.data.map((a) => a.name)).toEqual(['alpha', 'Beta', 'gamma', 'Zed']);
      });
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/test-app.js';
import { DATABASE_RETRY_AFTER_S } from '../../src/api/error-handler.js';
import { sqliteBusyError } from '../support/database-errors.js';
import { dialectsUnderTest } from '../support/dialects.js';
import { agentBody, call, createAgent, expectError, useTestApp, type AgentJson } from './api-helpers.js';

/** What common HTTP clients do that the spec does not mention. */

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
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

describe('when the database is busy or unreachable', () => {
  let t: TestApp;
  useTestApp('each', (app) => {
    t = app;
  });

  it('answers 503 database_unavailable with Retry-After, not a 500, and the request can be sent again', async () => {
    const busy = sqliteBusyError();
    // The store's own method, read past the test's tracking proxy (whose getter wraps it), to put back later.
    const original = Object.getOwnPropertyDescriptor(t.app.store, 'createAgent');
    t.app.store.createAgent = async () => {
      throw busy;
    };
    const refused = await call(t, 'POST', '/api/agents', { body: agentBody({ name: 'later' }) });
    expectError(refused, 503, 'database_unavailable');
    expect(refused.headers['retry-after']).toBe(String(DATABASE_RETRY_AFTER_S));
    expect((await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents')).body.data).toEqual([]);

    // The database is back: the store's own method again.
    if (original) Object.defineProperty(t.app.store, 'createAgent', original);
    else Reflect.deleteProperty(t.app.store, 'createAgent');
    const again = await call(t, 'POST', '/api/agents', { body: agentBody({ name: 'later' }) });
    expect(again.status, again.text).toBe(200);
  });

  it('reads too', async () => {
    const busy = sqliteBusyError();
    t.app.store.listAgents = async () => {
      throw busy;
    };
    expectError(await call(t, 'GET', '/api/agents'), 503, 'database_unavailable');
  });

  it('other failures stay 500 internal_error, with no detail of the error in the body', async () => {
    t.app.store.listAgents = async () => {
      throw new Error('secret internals');
    };
    const response = await call(t, 'GET', '/api/agents');
    expectError(response, 500, 'internal_error');
    expect(response.text).not.toContain('secret');
  });
});

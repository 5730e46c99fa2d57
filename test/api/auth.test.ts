import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/domain/tokens.js';
import type { Role } from '../../src/domain/types.js';
import type { TestApp } from '../support/test-app.js';
import {
  agentBody,
  call,
  createAgent,
  expectError,
  getAgent,
  listRuns,
  triggerRun,
  waitForRunStatus,
  waitForRunnerRuns,
  useTestApp,
  type AgentJson,
} from './api-helpers.js';
import { dialectsUnderTest } from '../support/dialects.js';

/** Authentication (401) and roles (403) on every endpoint of the agents API. */

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
    interface Endpoint {
      method: Method;
      path: (id: string) => string;
      body?: unknown;
    }

    const READS: Endpoint[] = [
      { method: 'GET', path: () => '/api/agents' },
      { method: 'GET', path: (id) => `/api/agents/${id}` },
      { method: 'GET', path: (id) => `/api/agents/${id}/runs` },
      { method: 'GET', path: (id) => `/api/agents/${id}/stats` },
      { method: 'GET', path: () => '/api/agents/stats' },
    ];

    const WRITES: Endpoint[] = [
      { method: 'POST', path: () => '/api/agents', body: agentBody({ name: 'Intruder' }) },
      { method: 'PATCH', path: (id) => `/api/agents/${id}`, body: { name: 'Hijacked' } },
      { method: 'DELETE', path: (id) => `/api/agents/${id}` },
      { method: 'POST', path: (id) => `/api/agents/${id}/run` },
      { method: 'POST', path: (id) => `/api/agents/${id}/cancel` },
    ];

    const ALL = [...READS, ...WRITES];
    const label = (e: Endpoint) => `${e.method} ${e.path(':id')}`;

    let t: TestApp;
    let agent: AgentJson;
    /** A test app holding one agent; `all` shares it among tests that must change nothing. */
    const useApp = (scope: 'each' | 'all') =>
      useTestApp(
        scope,
        async (app) => {
          t = app;
          agent = await createAgent(app);
        },
        {},
        dialect,
      );

    /** Everything a refused request must not have changed. */
    async function expectNothingChanged(): Promise<void> {
      const agents = await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents', { as: 'admin' });
      expect(agents.body.data).toEqual([agent]);
      expect(await listRuns(t, agent.id)).toEqual([]);
      expect(t.runner.runs).toHaveLength(0);
    }

    describe('401 without valid credentials', () => {
      useApp('all');

      const badHeaders: [string, Record<string, string>][] = [
        ['no Authorization header', {}],
        ['an unknown bearer token', { authorization: 'Bearer cat_not-a-real-token' }],
        ['an empty bearer token', { authorization: 'Bearer ' }],
        ['another scheme', { authorization: 'Basic YWRtaW46YWRtaW4=' }],
        ['a bare token without scheme', { authorization: 'cat_abcdef' }],
      ];

      for (const endpoint of ALL) {
        it.each(badHeaders)(`${label(endpoint)} answers 401 with %s`, async (_label, headers) => {
          const response = await call(t, endpoint.method, endpoint.path(agent.id), { as: null, headers, body: endpoint.body });
          expectError(response, 401, 'unauthorized');
          await expectNothingChanged();
        });
      }

      it('401 comes before 404 for an unknown agent, and for an unknown route under /api', async () => {
        expectError(await call(t, 'GET', '/api/agents/no-such-agent', { as: null }), 401, 'unauthorized');
        expectError(await call(t, 'GET', '/api/nothing-here', { as: null }), 401, 'unauthorized');
      });

      it.each(['/%61pi/agents', '/%61%70%69/agents', '/api%2Fagents', '/./api/agents', '/api/agents/'])(
        'an encoded or dotted path to a protected route (%s) still needs a token',
        async (url) => {
          expectError(await call(t, 'GET', url, { as: null }), 401, 'unauthorized');
          expectError(await call(t, 'POST', url, { as: null, body: agentBody({ name: 'Anonymous' }) }), 401, 'unauthorized');
          await expectNothingChanged();
        },
      );

      it('an encoded path to an agent route still needs a token', async () => {
        expectError(await call(t, 'GET', `/%61pi/agents/${agent.id}`, { as: null }), 401, 'unauthorized');
        expectError(await call(t, 'DELETE', `/%61pi/agents/${agent.id}`, { as: null }), 401, 'unauthorized');
        expectError(await call(t, 'POST', `/%61pi/agents/${agent.id}/run`, { as: null }), 401, 'unauthorized');
        expectError(await call(t, 'GET', '/%61pi/agents/stats', { as: null }), 401, 'unauthorized');
        await expectNothingChanged();
      });

      it('an encoded path is still subject to roles', async () => {
        expectError(await call(t, 'POST', '/%61pi/agents', { as: 'viewer', body: agentBody({ name: 'Sneaky' }) }), 403, 'forbidden');
        expect((await call(t, 'GET', '/%61pi/agents', { as: 'viewer' })).status).toBe(200);
        await expectNothingChanged();
      });

      it('401 comes before body validation', async () => {
        expectError(await call(t, 'POST', '/api/agents', { as: null, raw: '{bad json' }), 401, 'unauthorized');
      });

      it('the scheme is case-insensitive', async () => {
        const response = await call(t, 'GET', '/api/agents', { as: null, headers: { authorization: `bearer ${t.tokens.viewer}` } });
        expect(response.status).toBe(200);
      });

      it('health and the OpenAPI document need no token', async () => {
        expect((await call(t, 'GET', '/healthz', { as: null })).status).toBe(200);
        expect((await call(t, 'GET', '/api/openapi.json', { as: null })).status).toBe(200);
      });
    });

    describe('revoked tokens', () => {
      useApp('each');

      it('a revoked token is refused from then on', async () => {
        const token = t.tokens.member;
        expect((await call(t, 'GET', '/api/agents', { as: 'member' })).status).toBe(200);
        const info = await t.app.store.findTokenByHash(hashToken(token));
        expect(info).not.toBeNull();
        expect(await t.app.store.revokeToken(info?.id ?? '', t.clock.now())).toBe(true);
        for (const endpoint of ALL) {
          const response = await call(t, endpoint.method, endpoint.path(agent.id), { as: 'member', body: endpoint.body });
          expectError(response, 401, 'unauthorized');
        }
        await expectNothingChanged();
        // Other users' tokens still work.
        expect((await call(t, 'GET', '/api/agents', { as: 'viewer' })).status).toBe(200);
      });
    });

    describe('viewer', () => {
      useApp('all');

      for (const endpoint of READS) {
        it(`may ${label(endpoint)}`, async () => {
          const response = await call<{ data: unknown }>(t, endpoint.method, endpoint.path(agent.id), { as: 'viewer' });
          expect(response.status, response.text).toBe(200);
          expect(Object.keys(response.body as object)).toEqual(['data']);
        });
      }

      for (const endpoint of WRITES) {
        it(`may not ${label(endpoint)}: 403, nothing changes`, async () => {
          const response = await call(t, endpoint.method, endpoint.path(agent.id), { as: 'viewer', body: endpoint.body });
          expectError(response, 403, 'forbidden');
          await expectNothingChanged();
        });
      }

      it('gets 403 (not 404) for writes on an unknown agent, and 404 for reads', async () => {
        expectError(await call(t, 'PATCH', '/api/agents/no-such-agent', { as: 'viewer', body: { name: 'x' } }), 403, 'forbidden');
        expectError(await call(t, 'GET', '/api/agents/no-such-agent', { as: 'viewer' }), 404, 'not_found');
      });
    });

    describe('viewer and a run in progress', () => {
      useApp('each');

      it('may not cancel a run that is in progress', async () => {
        const runId = await triggerRun(t, agent.id);
        await waitForRunnerRuns(t, 1);
        expectError(await call(t, 'POST', `/api/agents/${agent.id}/cancel`, { as: 'viewer' }), 403, 'forbidden');
        const [run] = await listRuns(t, agent.id);
        expect(run?.id).toBe(runId);
        expect(run?.status).toBe('running');
        expect(t.runner.runs[0]?.request.signal.aborted).toBe(false);
      });
    });

    describe.each<Role>(['member', 'admin'])('%s', (role) => {
      useApp('each');

      it('may read everything', async () => {
        for (const endpoint of READS) {
          const response = await call(t, endpoint.method, endpoint.path(agent.id), { as: role });
          expect(response.status, `${label(endpoint)}: ${response.text}`).toBe(200);
        }
      });

      it('may create, update, run, cancel and delete agents', async () => {
        const created = await call<{ data: AgentJson }>(t, 'POST', '/api/agents', { as: role, body: agentBody({ name: `${role}'s agent` }) });
        expect(created.status, created.text).toBe(200);
        const id = created.body.data.id;
        expect(created.body.data.creator?.name).toBe(`${role}-user`);

        const patched = await call<{ data: AgentJson }>(t, 'PATCH', `/api/agents/${id}`, { as: role, body: { maxTurns: 5 } });
        expect(patched.status, patched.text).toBe(200);
        expect((await getAgent(t, id)).maxTurns).toBe(5);

        const run = await call<{ message: string; runId: string }>(t, 'POST', `/api/agents/${id}/run`, { as: role });
        expect(run.status, run.text).toBe(200);
        await waitForRunnerRuns(t, 1);

        const cancelled = await call(t, 'POST', `/api/agents/${id}/cancel`, { as: role });
        expect(cancelled.status, cancelled.text).toBe(200);
        await waitForRunStatus(t, id, run.body.runId, (status) => status === 'cancelled');

        const deleted = await call(t, 'DELETE', `/api/agents/${id}`, { as: role });
        expect(deleted.status, deleted.text).toBe(200);
        expectError(await call(t, 'GET', `/api/agents/${id}`, { as: role }), 404, 'not_found');
      });
    });
  });
}

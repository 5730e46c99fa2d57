import { describe, expect, it } from 'vitest';
import { SECRETS_PER_AGENT_MAX } from '../../src/domain/secret-fields.js';
import { dialectsUnderTest } from '../support/dialects.js';
import type { TestApp } from '../support/test-app.js';
import { call, createAgent, expectError, ISO, listRuns, triggerRun, useTestApp, waitForRunnerRuns, waitForRunStatus, type CallResult } from './api-helpers.js';

/**
 * An agent's secrets through the API: write-only (no response ever carries a value), validated,
 * by role, gone with their agent, handed to the agent's runs and redacted from what they leave.
 */

const VALUE = 'ghp_Secret-Value-0123456789abcdef';

interface SecretJson {
  name: string;
  updatedAt: string;
}

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

    /** Every response of the test, to check at the end that none carries the value. */
    let seen: string[] = [];
    async function request<T = unknown>(...args: Parameters<typeof call>): Promise<CallResult<T>> {
      const response = await call<T>(...args);
      seen.push(`${JSON.stringify(response.headers)}\n${response.text}`);
      return response;
    }
    function expectNoValueSeen(value = VALUE): void {
      expect(seen.length).toBeGreaterThan(0);
      for (const text of seen) expect(text).not.toContain(value);
      seen = [];
    }

    const url = (agentId: string, name?: string) => `/api/agents/${agentId}/secrets${name === undefined ? '' : `/${name}`}`;
    const put = (agentId: string, name: string, body: unknown, as: 'admin' | 'member' | 'viewer' | null = 'member') =>
      request<{ data: SecretJson }>(t, 'PUT', url(agentId, name), { body, as });
    const list = async (agentId: string): Promise<SecretJson[]> => {
      const response = await request<{ data: SecretJson[] }>(t, 'GET', url(agentId), { as: 'viewer' });
      expect(response.status, response.text).toBe(200);
      return response.body.data;
    };

    it('sets, replaces, lists (names only, sorted) and deletes', async () => {
      const agent = await createAgent(t);
      expect(await list(agent.id)).toEqual([]);

      const set = await put(agent.id, 'GITHUB_TOKEN', { value: VALUE });
      expect(set.status, set.text).toBe(200);
      expect(Object.keys(set.body)).toEqual(['data']);
      expect(Object.keys(set.body.data).sort()).toEqual(['name', 'updatedAt']);
      expect(set.body.data).toEqual({ name: 'GITHUB_TOKEN', updatedAt: new Date(t.clock.now()).toISOString() });
      expect(set.body.data.updatedAt).toMatch(ISO);

      await put(agent.id, 'SLACK_WEBHOOK', { value: 'https://hooks.example/T000/B000/xyz' });
      await put(agent.id, 'A_FIRST', { value: '' });
      expect((await list(agent.id)).map((s) => s.name)).toEqual(['A_FIRST', 'GITHUB_TOKEN', 'SLACK_WEBHOOK']);

      await t.advance(60_000);
      const replaced = await put(agent.id, 'GITHUB_TOKEN', { value: `${VALUE}-rotated` }, 'admin');
      expect(replaced.status, replaced.text).toBe(200);
      expect(replaced.body.data).toEqual({ name: 'GITHUB_TOKEN', updatedAt: new Date(t.clock.now()).toISOString() });
      const listed = await list(agent.id);
      expect(listed).toHaveLength(3);
      expect(listed.find((s) => s.name === 'GITHUB_TOKEN')).toEqual(replaced.body.data);
      for (const secret of listed) expect(Object.keys(secret).sort()).toEqual(['name', 'updatedAt']);

      const deleted = await request<{ data: { name: string } }>(t, 'DELETE', url(agent.id, 'SLACK_WEBHOOK'));
      expect(deleted.status, deleted.text).toBe(200);
      expect(deleted.body).toEqual({ data: { name: 'SLACK_WEBHOOK' } });
      expectError(await request(t, 'DELETE', url(agent.id, 'SLACK_WEBHOOK')), 404, 'not_found');
      expectError(await request(t, 'DELETE', url(agent.id, 'NEVER_SET')), 404, 'not_found');
      expect((await list(agent.id)).map((s) => s.name)).toEqual(['A_FIRST', 'GITHUB_TOKEN']);

      // Nothing else shows them either.
      await request(t, 'GET', `/api/agents/${agent.id}`);
      await request(t, 'GET', '/api/agents');
      expectNoValueSeen();
    });

    it('404 for an unknown agent, on every route', async () => {
      expectError(await request(t, 'GET', url('no-such-agent')), 404, 'not_found');
      expectError(await put('no-such-agent', 'TOKEN', { value: VALUE }), 404, 'not_found');
      expectError(await request(t, 'DELETE', url('no-such-agent', 'TOKEN')), 404, 'not_found');
      expectNoValueSeen();
    });

    it('validates the name: the pattern, then the reserved names, each a 400 naming `name`', async () => {
      const agent = await createAgent(t);
      for (const name of ['lower', 'Mixed_Case', '1STARTS_WITH_DIGIT', 'HAS-DASH', `A${'B'.repeat(64)}`, 'A%20B']) {
        expectError(await put(agent.id, name, { value: VALUE }), 400, 'validation_error', 'name');
      }
      expectError(await request(t, 'DELETE', url(agent.id, 'lower')), 400, 'validation_error', 'name');
      for (const name of [
        'PATH',
        'HOME',
        'LD_PRELOAD',
        'NODE_OPTIONS',
        'ANTHROPIC_API_KEY',
        'CLAUDE_CODE_OAUTH_TOKEN',
        'CRON_AGENTS_ADMIN_TOKEN',
        'DATABASE_URL',
        'PGPASSWORD',
        'HTTPS_PROXY',
        'GIT_SSH_COMMAND',
      ]) {
        const body = expectError(await put(agent.id, name, { value: VALUE }), 400, 'validation_error', 'name');
        expect(body.error.message).toContain(`${name} is reserved`);
      }
      expect(await list(agent.id)).toEqual([]);
      expectNoValueSeen();
    });

    it('validates the body strictly: a string value of at most 64 KiB, nothing else; never echoing the value', async () => {
      const agent = await createAgent(t);
      expectError(await put(agent.id, 'TOKEN', { value: 'x'.repeat(65_537) }), 400, 'validation_error', 'value');
      // Under the limit in characters, over it in bytes.
      expectError(await put(agent.id, 'TOKEN', { value: '\u00e9'.repeat(40_000) }), 400, 'validation_error', 'value');
      expectError(await put(agent.id, 'TOKEN', { value: `${VALUE}\u0000` }), 400, 'validation_error', 'value');
      expectError(await put(agent.id, 'TOKEN', { value: 42 }), 400, 'validation_error', 'value');
      expectError(await put(agent.id, 'TOKEN', { value: null }), 400, 'validation_error', 'value');
      expectError(await put(agent.id, 'TOKEN', {}), 400, 'validation_error', 'value');
      expectError(await put(agent.id, 'TOKEN', { value: VALUE, note: 'x' }), 400, 'validation_error', 'note');
      expectError(await put(agent.id, 'TOKEN', [VALUE]), 400, 'validation_error');
      expectError(await request(t, 'PUT', url(agent.id, 'TOKEN')), 400, null);
      expectError(await request(t, 'PUT', url(agent.id, 'TOKEN'), { raw: `{"value": ${VALUE}}` }), 400, 'invalid_json');
      expectError(await request(t, 'PUT', url(agent.id, 'TOKEN'), { raw: `{"value": "${VALUE}" "x"}` }), 400, 'invalid_json');
      expect(await list(agent.id)).toEqual([]);

      const exactly = await put(agent.id, 'TOKEN', { value: 'x'.repeat(65_536) });
      expect(exactly.status, exactly.text).toBe(200);
      expectNoValueSeen();
    });

    it(`refuses a secret beyond the ${SECRETS_PER_AGENT_MAX} an agent may hold (400 on name), still allows replacing`, async () => {
      const agent = await createAgent(t);
      for (let i = 0; i < SECRETS_PER_AGENT_MAX; i++) expect((await put(agent.id, `S${i}`, { value: 'v' })).status).toBe(200);
      expectError(await put(agent.id, 'ONE_MORE', { value: 'v' }), 400, 'validation_error', 'name');
      expect((await put(agent.id, 'S7', { value: 'w' })).status).toBe(200);
    });

    it('viewers list names but may not set or delete (403); members and admins may; no token is 401', async () => {
      const agent = await createAgent(t);
      expect((await put(agent.id, 'BY_MEMBER', { value: VALUE }, 'member')).status).toBe(200);
      expect((await put(agent.id, 'BY_ADMIN', { value: VALUE }, 'admin')).status).toBe(200);
      expectError(await put(agent.id, 'BY_VIEWER', { value: VALUE }, 'viewer'), 403, 'forbidden');
      expectError(await request(t, 'DELETE', url(agent.id, 'BY_MEMBER'), { as: 'viewer' }), 403, 'forbidden');
      expectError(await put(agent.id, 'ANON', { value: VALUE }, null), 401, 'unauthorized');
      expectError(await request(t, 'GET', url(agent.id), { as: null }), 401, 'unauthorized');
      expect((await list(agent.id)).map((s) => s.name)).toEqual(['BY_ADMIN', 'BY_MEMBER']);
      expect((await request(t, 'DELETE', url(agent.id, 'BY_ADMIN'), { as: 'member' })).status).toBe(200);
      expect((await request(t, 'DELETE', url(agent.id, 'BY_MEMBER'), { as: 'admin' })).status).toBe(200);
      expectNoValueSeen();
    });

    it("deleting the agent deletes its secrets; another agent's stay", async () => {
      const gone = await createAgent(t, { name: 'gone' });
      const kept = await createAgent(t, { name: 'kept' });
      await put(gone.id, 'TOKEN', { value: VALUE });
      await put(kept.id, 'TOKEN', { value: 'kept' });
      expect((await request(t, 'DELETE', `/api/agents/${gone.id}`)).status).toBe(200);
      expectError(await request(t, 'GET', url(gone.id)), 404, 'not_found');
      expect(await t.app.store.readSecrets(gone.id)).toEqual([]);
      expect((await t.app.store.readSecrets(kept.id)).map((s) => s.name)).toEqual(['TOKEN']);
      expectNoValueSeen();
    });

    it("gives a run the agent's secrets, and stores its output with every value replaced by [secret:NAME]", async () => {
      const agent = await createAgent(t, { allowedTools: ['Bash'] });
      const other = await createAgent(t, { name: 'other' });
      await put(agent.id, 'GITHUB_TOKEN', { value: VALUE });
      await put(agent.id, 'SHORT', { value: 'Secret' });
      await put(other.id, 'OTHER_TOKEN', { value: 'not-for-this-agent' });
      const runId = await triggerRun(t, agent.id);
      await waitForRunnerRuns(t, 1);
      const pending = t.runner.runs[0];
      expect(pending?.request.secrets).toEqual({ GITHUB_TOKEN: VALUE, SHORT: 'Secret' });
      pending?.finish({
        status: 'error',
        output: `echo: ${VALUE}\nfatal: could not read https://x:${encodeURIComponent(VALUE)}@github.com\n{"token":"${VALUE}"} Secret`,
      });
      const run = await waitForRunStatus(t, agent.id, runId, (status) => status === 'error');
      expect(run.output).toBe(
        'echo: [secret:GITHUB_TOKEN]\nfatal: could not read https://x:[secret:GITHUB_TOKEN]@github.com\n{"token":"[secret:GITHUB_TOKEN]"} [secret:SHORT]',
      );
      await listRuns(t, agent.id);
      seen.push(JSON.stringify(await t.app.store.getRun(runId)));
      expectNoValueSeen();
    });

    it('documents the three routes in the OpenAPI document, with no value in any response', async () => {
      const doc = (
        await request<{
          paths: Record<
            string,
            Record<string, { parameters?: { name: string; schema: { pattern?: string } }[]; responses: Record<string, unknown>; requestBody?: unknown }>
          >;
        }>(t, 'GET', '/api/openapi.json', { as: null })
      ).body;
      const list = doc.paths['/api/agents/{id}/secrets'];
      const one = doc.paths['/api/agents/{id}/secrets/{name}'];
      expect(Object.keys(list ?? {})).toEqual(['get']);
      expect(Object.keys(one ?? {}).sort()).toEqual(['delete', 'put']);
      expect(one?.put?.parameters?.find((p) => p.name === 'name')?.schema.pattern).toBe('^[A-Z_][A-Z0-9_]{0,63}$');
      expect(JSON.stringify(one?.put?.requestBody)).toContain('"maxLength":65536');
      expect(JSON.stringify([list?.get?.responses['200'], one?.put?.responses['200'], one?.delete?.responses['200']])).not.toContain('"value"');
    });
  });
}

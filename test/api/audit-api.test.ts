import { describe, expect, it } from 'vitest';
import type { AgentVersionJson, AuditEntryJson, AuditPageJson } from '../../src/api/schemas/index.js';
import { Access } from '../../src/services/access.js';
import { OPERATOR } from '../../src/services/actor.js';
import type { Role } from '../../src/domain/types.js';
import type { TestApp } from '../support/test-app.js';
import { call, createAgent, expectError, expectRunShape, listRuns, useTestApp, waitForRunnerRuns, waitForRunStatus } from './api-helpers.js';

/**
 * The audit trail through the API: every change leaves exactly one entry with the right actor,
 * address, credential and changes; admins read every entry, others only those about agents (and
 * neither addresses nor credentials); entries page by cursor; versions list and runs name theirs.
 */

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('audit trail and versions API', () => {
  let t: TestApp;
  useTestApp('each', (app) => {
    t = app;
  });

  /** The whole trail, newest first, as the admin reads it. */
  async function trail(query = ''): Promise<AuditEntryJson[]> {
    const response = await call<AuditPageJson>(t, 'GET', `/api/audit?limit=500${query}`, { as: 'admin' });
    expect(response.status, response.text).toBe(200);
    return response.body.data;
  }

  /** The credential of a test user's token, as the trail names it. */
  async function tokenOf(role: Role): Promise<string> {
    const token = (await t.app.store.listTokens()).find((info) => info.userName === `${role}-user`);
    return `token:${token!.id}`;
  }

  async function userId(role: Role): Promise<string> {
    return (await t.app.store.findUserByName(`${role}-user`))!.id;
  }

  it('records each change to an agent once, with who, from where, by which credential and what changed', async () => {
    const agent = await createAgent(t, { prompt: 'First prompt', maxTurns: 5 });
    const member = { id: await userId('member'), name: 'member-user', address: '127.0.0.1', credential: await tokenOf('member') };
    const patch = (body: unknown) => call(t, 'PATCH', `/api/agents/${agent.id}`, { body });
    expect((await patch({ prompt: 'Second prompt', maxTurns: 6 })).status).toBe(200);
    expect((await patch({ description: 'Now described' })).status).toBe(200);
    expect((await patch({ enabled: false })).status).toBe(200);
    expect((await patch({ enabled: true })).status).toBe(200);
    // The same values again: nothing changed, nothing recorded.
    expect((await patch({ prompt: 'Second prompt' })).status).toBe(200);
    const runId = (await call<{ runId: string }>(t, 'POST', `/api/agents/${agent.id}/run`)).body.runId;
    await waitForRunnerRuns(t, 1);
    expect((await call(t, 'POST', `/api/agents/${agent.id}/cancel`)).status).toBe(200);
    // Nothing left to cancel: a 404, and no entry.
    await waitForRunStatus(t, agent.id, runId, (status) => status === 'cancelled');
    expect((await call(t, 'POST', `/api/agents/${agent.id}/cancel`)).status).toBe(404);
    expect((await call(t, 'PUT', `/api/agents/${agent.id}/secrets/API_KEY`, { body: { value: 'sk-very-secret-value' } })).status).toBe(200);
    expect((await call(t, 'DELETE', `/api/agents/${agent.id}/secrets/API_KEY`)).status).toBe(200);
    expect((await call(t, 'DELETE', `/api/agents/${agent.id}`)).status).toBe(200);

    const entries = await trail(`&agentId=${agent.id}`);
    expect(entries.map((e) => e.action)).toEqual([
      'agent.delete',
      'secret.delete',
      'secret.set',
      'agent.cancel',
      'agent.run',
      'agent.enable',
      'agent.disable',
      'agent.update',
      'agent.update',
      'agent.create',
    ]);
    for (const entry of entries) {
      expect(Object.keys(entry).sort()).toEqual(['action', 'actor', 'agentId', 'at', 'details', 'id', 'target']);
      expect(entry.at).toMatch(ISO);
      expect(entry.actor).toEqual(member);
      expect(entry.agentId).toBe(agent.id);
    }
    const byAction = (action: string) => entries.filter((e) => e.action === action);
    expect(byAction('agent.create')[0]).toMatchObject({ target: { type: 'agent', id: agent.id, name: 'Daily Digest' }, details: { version: 1 } });
    expect(byAction('agent.update')[1]!.details).toEqual({
      changes: { prompt: { old: 'First prompt', new: 'Second prompt' }, maxTurns: { old: 5, new: 6 } },
      version: 2,
    });
    expect(byAction('agent.update')[0]!.details).toEqual({ changes: { description: { old: 'Summarizes open tasks every morning', new: 'Now described' } } });
    expect(byAction('agent.run')[0]!.details).toEqual({ runId });
    expect(byAction('agent.cancel')[0]!.details).toMatchObject({ runningIds: [runId] });
    // A secret only by its name: its value is nowhere in the trail.
    expect(byAction('secret.set')[0]).toMatchObject({ target: { type: 'secret', name: 'API_KEY' }, details: { replaced: false } });
    expect(JSON.stringify(entries)).not.toContain('sk-very-secret-value');
  });

  it('records webhook, user, token and password changes, by the API and by the CLI', async () => {
    const admin = { id: await userId('admin'), name: 'admin-user', address: '127.0.0.1', credential: await tokenOf('admin') };
    const created = await call<{ data: { id: string } }>(t, 'POST', '/api/webhooks', {
      as: 'admin',
      body: { name: 'Ops', url: 'https://hooks.example.com/ops', events: ['run.failed'] },
    });
    expect(created.status, created.text).toBe(201);
    const hook = created.body.data.id;
    expect((await call(t, 'PATCH', `/api/webhooks/${hook}`, { as: 'admin', body: { name: 'Ops alerts' } })).status).toBe(200);
    expect((await call(t, 'POST', `/api/webhooks/${hook}/rotate-secret`, { as: 'admin' })).status).toBe(200);
    expect((await call(t, 'DELETE', `/api/webhooks/${hook}`, { as: 'admin' })).status).toBe(200);
    const user = await call<{ data: { id: string } }>(t, 'POST', '/api/users', { as: 'admin', body: { name: 'erin', role: 'viewer' } });
    expect(user.status, user.text).toBe(200);
    expect((await call(t, 'PUT', `/api/users/${user.body.data.id}/password`, { as: 'admin', body: { password: 'a long enough password' } })).status).toBe(200);
    const token = await call<{ data: { info: { id: string } } }>(t, 'POST', '/api/tokens', { as: 'admin', body: { user: 'erin', label: 'ci' } });
    expect((await call(t, 'DELETE', `/api/tokens/${token.body.data.info.id}`, { as: 'admin' })).status).toBe(200);
    // The operator at the command line.
    await new Access({ store: t.app.store, clock: t.clock }).createUser({ name: 'frank', role: 'member' }, OPERATOR);

    const entries = await trail();
    expect(entries.map((e) => e.action)).toEqual([
      'user.create',
      'token.revoke',
      'token.create',
      'user.set_password',
      'user.create',
      'webhook.delete',
      'webhook.rotate_secret',
      'webhook.update',
      'webhook.create',
    ]);
    expect(entries[0]).toMatchObject({ actor: { id: null, name: null, address: null, credential: 'cli' }, target: { type: 'user', name: 'frank' } });
    for (const entry of entries.slice(1)) expect(entry.actor).toEqual(admin);
    expect(entries[8]).toMatchObject({ agentId: null, target: { type: 'webhook', id: hook, name: 'Ops' } });
    expect(entries[7]!.details).toEqual({ changes: { name: { old: 'Ops', new: 'Ops alerts' } } });
    expect(entries[4]).toMatchObject({ target: { type: 'user', id: user.body.data.id, name: 'erin' }, details: { role: 'viewer', password: false } });
    expect(entries[2]).toMatchObject({ target: { type: 'token', id: token.body.data.info.id, name: 'ci' } });
    // Neither the webhook's signing secret nor the password nor the token reached the trail.
    const text = JSON.stringify(entries);
    expect(text).not.toContain('a long enough password');
    expect(text).not.toContain('whsec_');
  });

  it('records sign-ins, failed and successful, and changes made in the session they opened', async () => {
    const memberId = await userId('member');
    expect((await call(t, 'PUT', `/api/users/${memberId}/password`, { as: 'admin', body: { password: 'the right password' } })).status).toBe(200);
    const signIn = (name: string, password: string) =>
      t.app.server.inject({
        method: 'POST',
        url: '/api/session',
        remoteAddress: '198.51.100.23',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name, password }),
      });
    expect((await signIn('member-user', 'wrong')).statusCode).toBe(401);
    expect((await signIn('nobody-at-all', 'wrong')).statusCode).toBe(401);
    const ok = await signIn('member-user', 'the right password');
    expect(ok.statusCode).toBe(200);
    const cookie = String(ok.headers['set-cookie']).split(';')[0]!;
    const csrf = (JSON.parse(ok.body) as { data: { csrfToken: string } }).data.csrfToken;
    const created = await t.app.server.inject({
      method: 'POST',
      url: '/api/agents',
      remoteAddress: '198.51.100.23',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'From the dashboard', schedule: '0 9 1 6 *', prompt: 'p' }),
    });
    expect(created.statusCode, created.body).toBe(200);

    const [create, success, unknown, failure] = await trail();
    expect(failure).toMatchObject({ action: 'sign_in.failure', actor: { id: memberId, name: 'member-user', address: '198.51.100.23', credential: null } });
    expect(unknown).toMatchObject({ action: 'sign_in.failure', actor: { id: null, name: 'nobody-at-all', address: '198.51.100.23' } });
    expect(success).toMatchObject({ action: 'sign_in.success', actor: { id: memberId, address: '198.51.100.23' }, target: { type: 'session' } });
    expect(success!.actor.credential).toMatch(/^session:[0-9a-f]{12}$/);
    expect(create).toMatchObject({ action: 'agent.create', actor: { id: memberId, address: '198.51.100.23', credential: success!.actor.credential } });
  });

  it('shows admins every entry; others only entries about agents, without addresses or credentials', async () => {
    const agent = await createAgent(t);
    expect((await call(t, 'POST', '/api/users', { as: 'admin', body: { name: 'gina', role: 'viewer' } })).status).toBe(200);
    expect((await trail()).map((e) => e.action)).toEqual(['user.create', 'agent.create']);
    for (const role of ['viewer', 'member'] as const) {
      const seen = await call<AuditPageJson>(t, 'GET', '/api/audit', { as: role });
      expect(seen.status).toBe(200);
      expect(seen.body.data.map((e) => e.action)).toEqual(['agent.create']);
      expect(seen.body.data[0]!.actor).toEqual({ id: await userId('member'), name: 'member-user', address: null, credential: null });
      // Asking for entries of users is no way around it.
      const filtered = await call<AuditPageJson>(t, 'GET', `/api/audit?action=user.create`, { as: role });
      expect(filtered.body.data).toEqual([]);
    }
    expect((await call<AuditPageJson>(t, 'GET', `/api/audit?agentId=${agent.id}`, { as: 'viewer' })).body.data).toHaveLength(1);
    expect((await call(t, 'GET', '/api/audit', { as: null })).status).toBe(401);
  });

  it('filters by user, action and time, and pages by cursor', async () => {
    for (let i = 0; i < 5; i++) {
      await createAgent(t, { name: `Agent ${i}` });
      await t.advance(1000);
    }
    await call(t, 'POST', '/api/agents', { as: 'admin', body: { name: 'By the admin', schedule: '0 9 1 6 *', prompt: 'p' } });
    expect(await trail(`&userId=${await userId('admin')}`)).toHaveLength(1);
    expect(await trail(`&userId=${await userId('member')}&action=agent.create`)).toHaveLength(5);
    const all = await trail();
    const before = await trail(`&before=${encodeURIComponent(all[2]!.at)}`);
    expect(before.map((e) => e.id)).toEqual(all.slice(3).map((e) => e.id));

    const ids: string[] = [];
    let url = '/api/audit?limit=4';
    for (let pages = 0; pages < 10; pages++) {
      const page = await call<AuditPageJson>(t, 'GET', url, { as: 'admin' });
      expect(page.status).toBe(200);
      ids.push(...page.body.data.map((e) => e.id));
      if (page.body.nextCursor === null) break;
      url = `/api/audit?limit=4&cursor=${encodeURIComponent(page.body.nextCursor)}`;
    }
    expect(ids).toEqual(all.map((e) => e.id));

    expectError(await call(t, 'GET', '/api/audit?action=agent.explode', { as: 'admin' }), 400, 'validation_error', 'action');
    expectError(await call(t, 'GET', '/api/audit?cursor=nonsense', { as: 'admin' }), 400, 'validation_error', 'cursor');
    expectError(await call(t, 'GET', '/api/audit?before=yesterday', { as: 'admin' }), 400, 'validation_error', 'before');
    expectError(await call(t, 'GET', '/api/audit?limit=0', { as: 'admin' }), 400, 'validation_error', 'limit');
  });

  it('lists versions newest first, and each run names the version it ran', async () => {
    const agent = await createAgent(t, { prompt: 'Version one' });
    const firstRun = (await call<{ runId: string }>(t, 'POST', `/api/agents/${agent.id}/run`)).body.runId;
    await waitForRunnerRuns(t, 1);
    t.runner.runs[0]!.finish();
    await waitForRunStatus(t, agent.id, firstRun, (status) => status === 'success');
    await t.advance(60_000);
    expect((await call(t, 'PATCH', `/api/agents/${agent.id}`, { body: { prompt: 'Version two', model: 'claude-sonnet-4-5' } })).status).toBe(200);
    const secondRun = (await call<{ runId: string }>(t, 'POST', `/api/agents/${agent.id}/run`)).body.runId;

    const versions = await call<{ data: AgentVersionJson[] }>(t, 'GET', `/api/agents/${agent.id}/versions`, { as: 'viewer' });
    expect(versions.status, versions.text).toBe(200);
    const [two, one] = versions.body.data;
    expect(versions.body.data).toHaveLength(2);
    expect(Object.keys(two!).sort()).toEqual(['createdAt', 'createdBy', 'fields', 'version']);
    expect(two).toMatchObject({ version: 2, createdBy: { id: await userId('member'), name: 'member-user' } });
    expect(two!.fields).toMatchObject({ prompt: 'Version two', model: 'claude-sonnet-4-5', schedule: agent.schedule, timezone: 'UTC' });
    expect(one!.fields).toMatchObject({ prompt: 'Version one', model: null });
    expect(Date.parse(two!.createdAt) - Date.parse(one!.createdAt)).toBe(60_000);
    const paged = await call<{ data: AgentVersionJson[] }>(t, 'GET', `/api/agents/${agent.id}/versions?limit=1&before=2`, { as: 'viewer' });
    expect(paged.body.data.map((v) => v.version)).toEqual([1]);

    const runs = await listRuns(t, agent.id);
    for (const run of runs) expectRunShape(run);
    expect(Object.fromEntries(runs.map((run) => [run.id, run.agentVersion]))).toEqual({ [firstRun]: 1, [secondRun]: 2 });
    expect((await call<{ data: { agentVersion: number } }>(t, 'GET', `/api/runs/${firstRun}`, { as: 'viewer' })).body.data.agentVersion).toBe(1);

    expectError(await call(t, 'GET', '/api/agents/no-such-agent/versions', { as: 'viewer' }), 404, 'not_found');
    expectError(await call(t, 'GET', `/api/agents/${agent.id}/versions?before=0`, { as: 'viewer' }), 400, 'validation_error', 'before');
  });
});

import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/test-app.js';
import { agentBody, call, createAgent, expectAgentShape, expectError, getAgent, useTestApp, type AgentJson } from './api-helpers.js';
import { dialectsUnderTest } from '../support/dialects.js';
import { POLICY_DEFAULTS, RUN_OPTION_DEFAULTS } from '../support/run-option-defaults.js';

/** The agents CRUD endpoints, schedules, validation, body limits, health and the OpenAPI document. */

const START = '2026-01-05T08:00:00.000Z'; // FakeClock's default start: a Monday
/** Any id (the matcher is typed `any`; as `unknown` it can sit in a typed object). */
const anyString: unknown = expect.any(String);

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let t: TestApp;
    const useApp = (scope: 'each' | 'all') =>
      useTestApp(
        scope,
        (app) => {
          t = app;
        },
        {},
        dialect,
      );

    async function listAgents(): Promise<AgentJson[]> {
      const response = await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents', { as: 'viewer' });
      expect(response.status, response.text).toBe(200);
      return response.body.data;
    }

    describe('GET /api/agents', () => {
      useApp('each');

      it('returns an empty list in the data envelope', async () => {
        const response = await call<{ data: unknown[] }>(t, 'GET', '/api/agents');
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ data: [] });
      });

      it('lists agents ordered by name, each with its creator as {id, name} only', async () => {
        await createAgent(t, { name: 'Charlie' });
        await createAgent(t, { name: 'Alpha' });
        await createAgent(t, { name: 'Bravo' });
        const response = await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents', { as: 'viewer' });
        expect(response.status).toBe(200);
        expect(Object.keys(response.body)).toEqual(['data']);
        expect(response.body.data.map((a) => a.name)).toEqual(['Alpha', 'Bravo', 'Charlie']);
        for (const agent of response.body.data) {
          expectAgentShape(agent);
          expect(agent.creator).toEqual({ id: anyString, name: 'member-user' });
          expect(Object.keys(agent.creator ?? {}).sort()).toEqual(['id', 'name']);
        }
      });

      it('shows the spec example fields with the right values and types', async () => {
        const created = await createAgent(t, { maxBudgetUsd: 0.5 });
        const [listed] = await listAgents();
        expect(listed).toEqual(created);
        expect(listed).toMatchObject({
          id: created.id,
          name: 'Daily Digest',
          description: 'Summarizes open tasks every morning',
          schedule: '0 9 1 6 *',
          prompt: 'Review all open tasks and create a summary...',
          enabled: true,
          maxTurns: 50,
          maxBudgetUsd: 0.5,
          lastRunAt: null,
          lastStatus: null,
          createdAt: START,
        });
      });
    });

    describe('POST /api/agents', () => {
      useApp('each');

      it('creates an agent with the defaults: enabled, 50 turns, UTC, no budget, no model, no tools', async () => {
        const response = await call<{ data: AgentJson }>(t, 'POST', '/api/agents', {
          body: { name: 'Weekly Review', schedule: '0 17 * * 5', prompt: 'Review completed tasks this week...' },
        });
        expect(response.status, response.text).toBe(200);
        expect(Object.keys(response.body)).toEqual(['data']);
        const agent = response.body.data;
        expectAgentShape(agent);
        expect(agent).toEqual({
          id: anyString,
          name: 'Weekly Review',
          description: null,
          schedule: '0 17 * * 5',
          timezone: 'UTC',
          prompt: 'Review completed tasks this week...',
          enabled: true,
          maxTurns: 50,
          maxBudgetUsd: null,
          model: null,
          allowedTools: [],
          ...RUN_OPTION_DEFAULTS,
          ...POLICY_DEFAULTS,
          pausedReason: null,
          pausedAt: null,
          // Friday 2026-01-09 17:00 UTC is the first slot after Monday 08:00.
          nextRunAt: '2026-01-09T17:00:00.000Z',
          lastRunAt: null,
          lastStatus: null,
          creator: { id: anyString, name: 'member-user' },
          createdAt: START,
          updatedAt: START,
        });
        expect(await getAgent(t, agent.id)).toEqual(agent);
      });

      it('stores every field given, extensions included', async () => {
        const agent = await createAgent(t, {
          name: 'Full',
          description: 'All fields',
          schedule: '0 9 * * *',
          prompt: 'Do it',
          enabled: true,
          maxTurns: 7,
          maxBudgetUsd: 1.25,
          timezone: 'America/New_York',
          model: 'claude-sonnet-4-5',
          allowedTools: ['Read', 'Bash(git log:*)'],
        });
        expect(agent).toMatchObject({
          name: 'Full',
          description: 'All fields',
          schedule: '0 9 * * *',
          prompt: 'Do it',
          enabled: true,
          maxTurns: 7,
          maxBudgetUsd: 1.25,
          timezone: 'America/New_York',
          model: 'claude-sonnet-4-5',
          allowedTools: ['Read', 'Bash(git log:*)'],
          // 09:00 in New York (EST, UTC-5)
          nextRunAt: '2026-01-05T14:00:00.000Z',
        });
        expect(await getAgent(t, agent.id)).toEqual(agent);
      });

      it('a disabled agent is not scheduled: nextRunAt is null', async () => {
        const agent = await createAgent(t, { enabled: false, schedule: '* * * * *' });
        expect(agent.enabled).toBe(false);
        expect(agent.nextRunAt).toBeNull();
        expect((await getAgent(t, agent.id)).nextRunAt).toBeNull();
      });

      it('accepts maxBudgetUsd: null as "no limit"', async () => {
        const agent = await createAgent(t, { maxBudgetUsd: null });
        expect(agent.maxBudgetUsd).toBeNull();
      });

      it('trims the name and schedule, and canonicalizes the timezone', async () => {
        const agent = await createAgent(t, { name: '  Padded  ', schedule: '  0 9 * * *  ', timezone: 'europe/berlin' });
        expect(agent.name).toBe('Padded');
        expect(agent.schedule).toBe('0 9 * * *');
        expect(agent.timezone).toBe('Europe/Berlin');
        // 09:00 in Berlin (CET, UTC+1) is 08:00 UTC: today's slot is now, so the next one is tomorrow.
        expect(agent.nextRunAt).toBe('2026-01-06T08:00:00.000Z');
      });

      it('accepts a body up to the field limits (a 100 000-character prompt)', async () => {
        const agent = await createAgent(t, { prompt: 'x'.repeat(100_000) });
        expect(agent.prompt).toHaveLength(100_000);
      });
    });

    describe('POST /api/agents: schedules', () => {
      useApp('all');

      it.each([
        ['*/10 * * * * *', '2026-01-05T08:00:10.000Z'],
        ['30 0 9 * * *', '2026-01-05T09:00:30.000Z'],
        ['0 9 * * MON-FRI', '2026-01-05T09:00:00.000Z'],
        ['@hourly', '2026-01-05T09:00:00.000Z'],
        ['@daily', '2026-01-06T00:00:00.000Z'],
        ['@midnight', '2026-01-06T00:00:00.000Z'],
        ['@weekly', '2026-01-11T00:00:00.000Z'],
        ['@monthly', '2026-02-01T00:00:00.000Z'],
        ['@yearly', '2027-01-01T00:00:00.000Z'],
        ['@annually', '2027-01-01T00:00:00.000Z'],
      ])('accepts the schedule %j (next run %s)', async (schedule, nextRunAt) => {
        const agent = await createAgent(t, { schedule });
        expect(agent.schedule).toBe(schedule);
        expect(agent.nextRunAt).toBe(nextRunAt);
      });

      it.each([['@reboot'], ['@REBOOT'], ['not a cron'], ['61 * * * *'], ['* * * *'], ['* * * * * * *'], ['0 0 30 2 *'], ['   '], ['']])(
        'refuses the schedule %j with 400 naming schedule',
        async (schedule) => {
          const before = await listAgents();
          const response = await call(t, 'POST', '/api/agents', { body: agentBody({ schedule }) });
          expectError(response, 400, 'validation_error', 'schedule');
          expect(await listAgents()).toEqual(before);
        },
      );
    });

    describe('POST /api/agents: invalid input (never a 500, never a write)', () => {
      useApp('all');

      const invalidBodies: [string, unknown, string][] = [
        ['missing name', { schedule: '0 9 * * *', prompt: 'p' }, 'name'],
        ['missing schedule', { name: 'n', prompt: 'p' }, 'schedule'],
        ['missing prompt', { name: 'n', schedule: '0 9 * * *' }, 'prompt'],
        ['empty name', agentBody({ name: '' }), 'name'],
        ['blank name', agentBody({ name: '   ' }), 'name'],
        ['numeric name', agentBody({ name: 123 }), 'name'],
        ['null name', agentBody({ name: null }), 'name'],
        ['too long name', agentBody({ name: 'x'.repeat(201) }), 'name'],
        ['empty prompt', agentBody({ prompt: '' }), 'prompt'],
        ['blank prompt', agentBody({ prompt: ' \n\t ' }), 'prompt'],
        ['too long prompt', agentBody({ prompt: 'x'.repeat(100_001) }), 'prompt'],
        ['numeric schedule', agentBody({ schedule: 5 }), 'schedule'],
        ['numeric description', agentBody({ description: 5 }), 'description'],
        ['maxTurns as a string', agentBody({ maxTurns: '5' }), 'maxTurns'],
        ['negative maxTurns', agentBody({ maxTurns: -1 }), 'maxTurns'],
        ['zero maxTurns', agentBody({ maxTurns: 0 }), 'maxTurns'],
        ['fractional maxTurns', agentBody({ maxTurns: 1.5 }), 'maxTurns'],
        ['huge maxTurns', agentBody({ maxTurns: 10_001 }), 'maxTurns'],
        ['null maxTurns', agentBody({ maxTurns: null }), 'maxTurns'],
        ['negative maxBudgetUsd', agentBody({ maxBudgetUsd: -0.5 }), 'maxBudgetUsd'],
        ['maxBudgetUsd as a string', agentBody({ maxBudgetUsd: '0.5' }), 'maxBudgetUsd'],
        ['enabled as a string', agentBody({ enabled: 'true' }), 'enabled'],
        ['enabled as a number', agentBody({ enabled: 1 }), 'enabled'],
        ['unknown field', agentBody({ owner: 'me' }), 'owner'],
        ['read-only field id', agentBody({ id: 'agent-1' }), 'id'],
        ['unknown timezone', agentBody({ timezone: 'Mars/Olympus_Mons' }), 'timezone'],
        ['empty timezone', agentBody({ timezone: '' }), 'timezone'],
        ['blank timezone', agentBody({ timezone: '  ' }), 'timezone'],
        ['numeric timezone', agentBody({ timezone: 1 }), 'timezone'],
        ['empty model', agentBody({ model: '' }), 'model'],
        ['allowedTools not an array', agentBody({ allowedTools: 'Read' }), 'allowedTools'],
        ['empty allowed tool', agentBody({ allowedTools: ['Read', ''] }), 'allowedTools[1]'],
        ['numeric allowed tool', agentBody({ allowedTools: [1] }), 'allowedTools[0]'],
        ['an array instead of an object', [agentBody()], 'body'],
        ['a string instead of an object', 'agent', 'body'],
      ];

      it.each(invalidBodies)('refuses %s with 400 naming the field, and creates nothing', async (_label, body, field) => {
        const response = await call(t, 'POST', '/api/agents', { body });
        const error = expectError(response, 400, 'validation_error', field);
        expect(error.error.message).toContain(field);
        expect(await listAgents()).toEqual([]);
      });

      it('names every wrong field at once', async () => {
        const response = await call(t, 'POST', '/api/agents', { body: { name: '', schedule: '0 9 * * *', prompt: 'p', maxTurns: '5', bogus: 1 } });
        const error = expectError(response, 400, 'validation_error');
        expect(error.error.details.map((d) => d.field).sort()).toEqual(['bogus', 'maxTurns', 'name']);
      });

      it.each([
        ['truncated JSON', '{"name": "x", '],
        ['not JSON at all', 'name=x'],
        ['a trailing comma', '{"name": "x",}'],
        ['a prototype-poisoning key', '{"__proto__": {"admin": true}, "name": "x", "schedule": "0 9 * * *", "prompt": "p"}'],
      ])('refuses %s with a 400 JSON error', async (_label, raw) => {
        const response = await call(t, 'POST', '/api/agents', { raw });
        expectError(response, 400, null);
        expect(await listAgents()).toEqual([]);
      });

      it('bad JSON is reported as invalid_json', async () => {
        expectError(await call(t, 'POST', '/api/agents', { raw: '{"name": ' }), 400, 'invalid_json');
      });

      it('refuses an empty JSON body and a JSON null with 400', async () => {
        expectError(await call(t, 'POST', '/api/agents', { raw: '' }), 400, null);
        expectError(await call(t, 'POST', '/api/agents', { raw: 'null' }), 400, 'validation_error', 'body');
        expectError(await call(t, 'POST', '/api/agents', {}), 400, 'validation_error', 'body');
        expect(await listAgents()).toEqual([]);
      });

      it('refuses a body of an unsupported media type with 415, and a text body with 400', async () => {
        expectError(await call(t, 'POST', '/api/agents', { raw: '<agent/>', contentType: 'application/xml' }), 415, 'unsupported_media_type');
        // Fastify parses text/plain as a string, which is not an object.
        expectError(await call(t, 'POST', '/api/agents', { raw: 'name: x', contentType: 'text/plain' }), 400, 'validation_error', 'body');
        expect(await listAgents()).toEqual([]);
      });

      it('refuses a body over 1 MiB with a 413 JSON error', async () => {
        const response = await call(t, 'POST', '/api/agents', { body: agentBody({ prompt: 'x'.repeat(1_100_000) }) });
        expectError(response, 413, 'body_too_large');
        expect(await listAgents()).toEqual([]);
      });
    });

    describe('GET /api/agents/:id', () => {
      useApp('each');

      it('returns the agent with its creator in the data envelope', async () => {
        const created = await createAgent(t, { maxBudgetUsd: 0.5 });
        const response = await call<{ data: AgentJson }>(t, 'GET', `/api/agents/${created.id}`, { as: 'viewer' });
        expect(response.status).toBe(200);
        expect(Object.keys(response.body)).toEqual(['data']);
        expectAgentShape(response.body.data);
        expect(response.body.data).toEqual(created);
        expect(response.body.data.creator).toEqual({ id: anyString, name: 'member-user' });
      });

      it('the creator is whoever created it (admin here)', async () => {
        const response = await call<{ data: AgentJson }>(t, 'POST', '/api/agents', { as: 'admin', body: agentBody() });
        expect(response.status).toBe(200);
        expect((await getAgent(t, response.body.data.id)).creator?.name).toBe('admin-user');
      });

      it('answers 404 for an unknown agent', async () => {
        expectError(await call(t, 'GET', '/api/agents/no-such-agent'), 404, 'not_found');
      });

      it('answers 404 JSON for an unknown route under /api', async () => {
        expectError(await call(t, 'GET', '/api/agents/x/unknown'), 404, 'not_found');
      });

      it('answers malformed or over-long ids with a JSON error, never a 500', async () => {
        // Both are refused by the router before any route runs.
        expectError(await call(t, 'GET', '/api/agents/%E0%A4%A'), 400, 'bad_url');
        expectError(await call(t, 'GET', `/api/agents/${'x'.repeat(101)}`), 414, 'uri_too_long');
        expectError(await call(t, 'PATCH', `/api/agents/${'x'.repeat(101)}`, { body: { name: 'x' } }), 414, 'uri_too_long');
        // Up to 100 characters an id is looked up like any other.
        expectError(await call(t, 'GET', `/api/agents/${'x'.repeat(100)}`), 404, 'not_found');
      });
    });

    async function patch(id: string, body: unknown) {
      return call<{ data: AgentJson }>(t, 'PATCH', `/api/agents/${id}`, { body });
    }

    async function fullAgent(): Promise<AgentJson> {
      return createAgent(t, {
        name: 'Original',
        description: 'desc',
        schedule: '0 9 1 6 *',
        prompt: 'original prompt',
        maxTurns: 10,
        maxBudgetUsd: 0.5,
        timezone: 'UTC',
        model: 'claude-sonnet-4-5',
        allowedTools: ['Read'],
      });
    }

    describe('PATCH /api/agents/:id', () => {
      useApp('each');

      it('changes only the given field and bumps updatedAt', async () => {
        const before = await fullAgent();
        await t.advance(5_000);
        const response = await patch(before.id, { name: 'Renamed' });
        expect(response.status, response.text).toBe(200);
        expect(Object.keys(response.body)).toEqual(['data']);
        expectAgentShape(response.body.data);
        expect(response.body.data).toEqual({ ...before, name: 'Renamed', updatedAt: '2026-01-05T08:00:05.000Z' });
        expect(await getAgent(t, before.id)).toEqual(response.body.data);
      });

      it.each([
        ['description', 'new description'],
        ['description', null],
        ['prompt', 'new prompt'],
        ['maxTurns', 99],
        ['maxBudgetUsd', 2.5],
        ['maxBudgetUsd', null],
        ['model', 'claude-opus-4-1'],
        ['model', null],
        ['allowedTools', ['Read', 'Write']],
        ['allowedTools', []],
      ])('a PATCH of %s = %j changes that field only (no rescheduling)', async (field, value) => {
        const before = await fullAgent();
        const response = await patch(before.id, { [field]: value });
        expect(response.status, response.text).toBe(200);
        expect(response.body.data).toEqual({ ...before, [field]: value });
        expect(response.body.data.nextRunAt).toBe(before.nextRunAt);
      });

      it('maxBudgetUsd: null removes the limit; a later number sets it again', async () => {
        const before = await fullAgent();
        expect((await patch(before.id, { maxBudgetUsd: null })).body.data.maxBudgetUsd).toBeNull();
        expect((await getAgent(t, before.id)).maxBudgetUsd).toBeNull();
        expect((await patch(before.id, { maxBudgetUsd: 3 })).body.data.maxBudgetUsd).toBe(3);
      });

      it('a new schedule reschedules: nextRunAt follows it', async () => {
        const before = await fullAgent();
        expect(before.nextRunAt).toBe('2026-06-01T09:00:00.000Z');
        const response = await patch(before.id, { schedule: '0 9 * * *' });
        expect(response.status).toBe(200);
        expect(response.body.data.schedule).toBe('0 9 * * *');
        expect(response.body.data.nextRunAt).toBe('2026-01-05T09:00:00.000Z');
        expect((await getAgent(t, before.id)).nextRunAt).toBe('2026-01-05T09:00:00.000Z');
      });

      it('a new timezone reschedules: nextRunAt follows it', async () => {
        const before = await createAgent(t, { schedule: '0 9 * * *' });
        expect(before.nextRunAt).toBe('2026-01-05T09:00:00.000Z');
        const response = await patch(before.id, { timezone: 'America/New_York' });
        expect(response.status).toBe(200);
        expect(response.body.data.timezone).toBe('America/New_York');
        expect(response.body.data.nextRunAt).toBe('2026-01-05T14:00:00.000Z');
      });

      it('disabling gives nextRunAt null; enabling schedules again from now', async () => {
        const before = await createAgent(t, { schedule: '0 */6 * * *' });
        expect(before.nextRunAt).toBe('2026-01-05T12:00:00.000Z');
        const disabled = await patch(before.id, { enabled: false });
        expect(disabled.status).toBe(200);
        expect(disabled.body.data.enabled).toBe(false);
        expect(disabled.body.data.nextRunAt).toBeNull();
        expect((await getAgent(t, before.id)).nextRunAt).toBeNull();

        // Time passes while disabled (the clock jumps; nothing may fire for a disabled agent).
        t.clock.jumpTo('2026-01-05T13:30:00.000Z');
        const enabled = await patch(before.id, { enabled: true });
        expect(enabled.status).toBe(200);
        expect(enabled.body.data.enabled).toBe(true);
        expect(enabled.body.data.nextRunAt).toBe('2026-01-05T18:00:00.000Z');
        expect(enabled.body.data.updatedAt).toBe('2026-01-05T13:30:00.000Z');
      });

      it('a schedule change on a disabled agent keeps nextRunAt null', async () => {
        const before = await createAgent(t, { enabled: false });
        const response = await patch(before.id, { schedule: '*/5 * * * *' });
        expect(response.status).toBe(200);
        expect(response.body.data.schedule).toBe('*/5 * * * *');
        expect(response.body.data.nextRunAt).toBeNull();
      });

      it('several fields at once', async () => {
        const before = await fullAgent();
        const response = await patch(before.id, { name: 'Both', enabled: false, maxTurns: 3 });
        expect(response.status).toBe(200);
        expect(response.body.data).toEqual({ ...before, name: 'Both', enabled: false, maxTurns: 3, nextRunAt: null });
      });

      it('answers 404 for an unknown agent', async () => {
        expectError(await patch('no-such-agent', { name: 'x' }), 404, 'not_found');
      });
    });

    describe('PATCH /api/agents/:id: invalid input (never a 500, never a write)', () => {
      useApp('all');

      const invalidPatches: [string, unknown, string][] = [
        ['an empty object', {}, 'body'],
        ['empty name', { name: '' }, 'name'],
        ['blank name', { name: '   ' }, 'name'],
        ['null name', { name: null }, 'name'],
        ['numeric name', { name: 5 }, 'name'],
        ['empty prompt', { prompt: '' }, 'prompt'],
        ['blank prompt', { prompt: '\n ' }, 'prompt'],
        ['invalid schedule', { schedule: 'every day' }, 'schedule'],
        ['@reboot', { schedule: '@reboot' }, 'schedule'],
        ['a never-firing schedule', { schedule: '0 0 30 2 *' }, 'schedule'],
        ['blank schedule', { schedule: '  ' }, 'schedule'],
        ['unknown timezone', { timezone: 'Nowhere/Special' }, 'timezone'],
        ['maxTurns as a string', { maxTurns: '5' }, 'maxTurns'],
        ['negative maxTurns', { maxTurns: -1 }, 'maxTurns'],
        ['zero maxTurns', { maxTurns: 0 }, 'maxTurns'],
        ['fractional maxTurns', { maxTurns: 2.5 }, 'maxTurns'],
        ['null maxTurns', { maxTurns: null }, 'maxTurns'],
        ['negative maxBudgetUsd', { maxBudgetUsd: -1 }, 'maxBudgetUsd'],
        ['maxBudgetUsd as a string', { maxBudgetUsd: 'x' }, 'maxBudgetUsd'],
        ['enabled as a string', { enabled: 'yes' }, 'enabled'],
        ['null enabled', { enabled: null }, 'enabled'],
        ['unknown field', { color: 'red' }, 'color'],
        ['a valid field with an unknown one', { name: 'Valid', color: 'red' }, 'color'],
        ['a valid field with a wrongly typed one', { name: 'Valid', maxTurns: '5' }, 'maxTurns'],
        // Schema-valid, refused by the domain (cron/timezone) after the name was merged: nothing may stick.
        ['a valid name with a bad schedule', { name: 'Valid', schedule: 'bad cron' }, 'schedule'],
        ['a valid name with a bad timezone', { name: 'Valid', enabled: false, timezone: 'Bad/Zone' }, 'timezone'],
        ['an array', [{ name: 'x' }], 'body'],
        ['null', null, 'body'],
      ];

      it.each(invalidPatches)('refuses %s with 400 naming the field and leaves the agent unchanged', async (_label, body, field) => {
        const before = await fullAgent();
        await t.advance(1_000);
        const response = await patch(before.id, body);
        const error = expectError(response, 400, 'validation_error', field);
        expect(error.error.message.length).toBeGreaterThan(0);
        expect(await getAgent(t, before.id)).toEqual(before);
      });

      it.each([
        ['bad JSON', '{"name": "x"', 400],
        ['an empty body', '', 400],
      ])('refuses %s with a JSON error and leaves the agent unchanged', async (_label, raw, status) => {
        const before = await fullAgent();
        const response = await call(t, 'PATCH', `/api/agents/${before.id}`, { raw });
        expectError(response, status, null);
        expect(await getAgent(t, before.id)).toEqual(before);
      });

      it('refuses a body over 1 MiB with 413 and leaves the agent unchanged', async () => {
        const before = await fullAgent();
        const response = await patch(before.id, { prompt: 'y'.repeat(1_100_000) });
        expectError(response, 413, 'body_too_large');
        expect(await getAgent(t, before.id)).toEqual(before);
      });
    });

    describe('DELETE /api/agents/:id', () => {
      useApp('each');

      it('hard-deletes the agent and answers {id, name}', async () => {
        const keep = await createAgent(t, { name: 'Keep' });
        const agent = await createAgent(t, { name: 'Doomed' });
        const response = await call<{ data: { id: string; name: string } }>(t, 'DELETE', `/api/agents/${agent.id}`);
        expect(response.status, response.text).toBe(200);
        expect(response.body).toEqual({ data: { id: agent.id, name: 'Doomed' } });
        expectError(await call(t, 'GET', `/api/agents/${agent.id}`), 404, 'not_found');
        expect((await listAgents()).map((a) => a.id)).toEqual([keep.id]);
        expect(await t.app.store.getAgent(agent.id)).toBeNull();
      });

      it('answers 404 for an unknown agent and for a second delete', async () => {
        const agent = await createAgent(t);
        expectError(await call(t, 'DELETE', '/api/agents/no-such-agent'), 404, 'not_found');
        expect((await call(t, 'DELETE', `/api/agents/${agent.id}`)).status).toBe(200);
        expectError(await call(t, 'DELETE', `/api/agents/${agent.id}`), 404, 'not_found');
      });

      it('unschedules: a deleted agent never fires', async () => {
        const agent = await createAgent(t, { schedule: '*/10 * * * * *' });
        expect((await call(t, 'DELETE', `/api/agents/${agent.id}`)).status).toBe(200);
        await t.advance(30_000);
        expect(t.runner.runs).toHaveLength(0);
      });
    });

    describe('GET /healthz and GET /api/openapi.json', () => {
      useApp('all');

      it('healthz answers 200 without authentication', async () => {
        const response = await call<{ status: string }>(t, 'GET', '/healthz', { as: null });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ status: 'ok' });
      });

      it('the OpenAPI document is public and lists every agents path and method', async () => {
        const response = await call<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(t, 'GET', '/api/openapi.json', {
          as: null,
        });
        expect(response.status, response.text).toBe(200);
        expect(response.body.openapi).toMatch(/^3\./);
        const methods = (path: string) => Object.keys(response.body.paths[path] ?? {}).sort();
        expect(methods('/api/agents')).toEqual(['get', 'post']);
        expect(methods('/api/agents/{id}')).toEqual(['delete', 'get', 'patch']);
        expect(methods('/api/agents/{id}/run')).toEqual(['post']);
        expect(methods('/api/agents/{id}/cancel')).toEqual(['post']);
        expect(methods('/api/agents/{id}/runs')).toEqual(['get']);
        expect(methods('/api/agents/{id}/stats')).toEqual(['get']);
        expect(methods('/api/agents/stats')).toEqual(['get']);
      });
    });
  });
}

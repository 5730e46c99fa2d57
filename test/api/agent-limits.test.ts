import { describe, expect, it } from 'vitest';
import { dialectsUnderTest } from '../support/dialects.js';
import type { TestApp } from '../support/test-app.js';
import { agentBody, call, createAgent, expectError, useTestApp, type AgentJson } from './api-helpers.js';

/**
 * Limits for a shared deployment (issue 13): CRON_AGENTS_MAX_AGENTS_PER_USER and
 * CRON_AGENTS_MIN_INTERVAL bind members; admins are exempt.
 */

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let t: TestApp;

    describe('CRON_AGENTS_MAX_AGENTS_PER_USER', () => {
      useTestApp(
        'each',
        (app) => {
          t = app;
        },
        { maxAgentsPerUser: 3 },
        dialect,
      );

      it('answers 409 with a clear message once a member has as many agents as allowed; an admin and other members are not bound by it', async () => {
        const mine: AgentJson[] = [];
        for (let i = 0; i < 3; i++) mine.push(await createAgent(t, { name: `mine ${i}` }));
        const refused = await call(t, 'POST', '/api/agents', { body: agentBody({ name: 'one too many' }) });
        const error = expectError(refused, 409, 'conflict');
        expect(error.error.message).toBe(
          'you have 3 agents, the most a member may have (CRON_AGENTS_MAX_AGENTS_PER_USER=3): delete one first, or ask an admin',
        );
        for (let i = 0; i < 4; i++) expect((await call(t, 'POST', '/api/agents', { as: 'admin', body: agentBody({ name: `admin ${i}` }) })).status).toBe(200);
        // Deleting one makes room again.
        expect((await call(t, 'DELETE', `/api/agents/${mine[0]!.id}`)).status).toBe(200);
        expect((await call(t, 'POST', '/api/agents', { body: agentBody({ name: 'room again' }) })).status).toBe(200);
        const agents = (await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents')).body.data;
        expect(agents.filter((a) => a.creator?.name === 'member-user')).toHaveLength(3);
      });

      it('holds against concurrent creates by one member', async () => {
        const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => call(t, 'POST', '/api/agents', { body: agentBody({ name: `racer ${i}` }) })));
        expect(answers.filter((a) => a.status === 200)).toHaveLength(3);
        expect(answers.filter((a) => a.status === 409)).toHaveLength(5);
      });
    });

    describe('CRON_AGENTS_MIN_INTERVAL', () => {
      useTestApp(
        'each',
        (app) => {
          t = app;
        },
        { minIntervalMs: 5 * 60_000 },
        dialect,
      );

      it.each([
        ['a seconds schedule', '*/10 * * * * *'],
        ['every minute', '* * * * *'],
        ['two fires a minute apart, although no field says so', '0,1 * * * *'],
        ['a stepped value with a start', '0/2 * * * *'],
      ])('answers 400 naming `schedule` to a member for %s', async (_label, schedule) => {
        const response = await call(t, 'POST', '/api/agents', { body: agentBody({ schedule }) });
        const error = expectError(response, 400, 'validation_error', 'schedule');
        expect(error.error.message).toContain('the shortest interval between two fires a member may schedule is 5m (CRON_AGENTS_MIN_INTERVAL)');
        expectError(await call(t, 'POST', '/api/schedules/preview', { body: { schedule } }), 400, 'validation_error', 'schedule');
      });

      it('lets a member set a schedule at or above it, and an admin any', async () => {
        expect((await call(t, 'POST', '/api/agents', { body: agentBody({ schedule: '*/5 * * * *' }) })).status).toBe(200);
        expect((await call(t, 'POST', '/api/agents', { body: agentBody({ schedule: '0 9 * * 1-5', timezone: 'Europe/Berlin' }) })).status).toBe(200);
        expect((await call(t, 'POST', '/api/agents', { as: 'admin', body: agentBody({ schedule: '* * * * * *' }) })).status).toBe(200);
      });

      it('checks a member changing a schedule, not a member changing something else of a fast agent', async () => {
        const fast = (await call<{ data: AgentJson }>(t, 'POST', '/api/agents', { as: 'admin', body: agentBody({ schedule: '*/10 * * * * *' }) })).body.data;
        expect((await call(t, 'PATCH', `/api/agents/${fast.id}`, { body: { prompt: 'new prompt' } })).status).toBe(200);
        expectError(await call(t, 'PATCH', `/api/agents/${fast.id}`, { body: { schedule: '*/20 * * * * *' } }), 400, 'validation_error', 'schedule');
        expect((await call(t, 'PATCH', `/api/agents/${fast.id}`, { body: { schedule: '@hourly' } })).status).toBe(200);
      });
    });
  });
}

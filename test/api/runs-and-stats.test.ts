import { describe, expect, it } from 'vitest';
import type { PendingFakeRun } from '../support/fake-runner.js';
import type { TestApp } from '../support/test-app.js';
import {
  call,
  createAgent,
  expectDailyRunsShape,
  expectError,
  expectRunShape,
  getAgent,
  listRuns,
  triggerRun,
  waitForRunStatus,
  waitForRunnerRuns,
  useTestApp,
  type AgentStatsJson,
  type GlobalStatsJson,
  type RunJson,
} from './api-helpers.js';
import { dialectsUnderTest } from '../support/dialects.js';

/** Manual runs, cancel, run history and stats, driven through the API with the fake runner. */

const START = Date.parse('2026-01-05T08:00:00.000Z');
const iso = (instant: number) => new Date(instant).toISOString();

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let t: TestApp;
    const useApp = (scope: 'each' | 'all', overrides: Parameters<typeof useTestApp>[2] = {}) =>
      useTestApp(
        scope,
        (app) => {
          t = app;
        },
        overrides,
        dialect,
      );

    /** The fake runner's `index`-th run (in the order the runner was called). */
    function runnerRun(index: number): PendingFakeRun {
      const run = t.runner.runs[index];
      if (!run) throw new Error(`the runner has no run #${index}`);
      return run;
    }

    /** Triggers a run and waits until the executor has handed it to the runner. */
    async function startRun(agentId: string): Promise<{ runId: string; pending: PendingFakeRun }> {
      const before = t.runner.runs.length;
      const runId = await triggerRun(t, agentId);
      await waitForRunnerRuns(t, before + 1);
      await waitForRunStatus(t, agentId, runId, (status) => status === 'running');
      return { runId, pending: runnerRun(before) };
    }

    const isFinal = (status: string) => status !== 'queued' && status !== 'running';

    async function agentStats(agentId: string, query = ''): Promise<AgentStatsJson> {
      const response = await call<{ data: AgentStatsJson }>(t, 'GET', `/api/agents/${agentId}/stats${query}`, { as: 'viewer' });
      expect(response.status, response.text).toBe(200);
      expect(Object.keys(response.body)).toEqual(['data']);
      expect(Object.keys(response.body.data).sort()).toEqual([
        'avgDurationMs',
        'dailyRuns',
        'lastRunAt',
        'skippedRuns',
        'spend',
        'successRate',
        'totalCostUsd',
        'totalRuns',
      ]);
      expectDailyRunsShape(response.body.data.dailyRuns);
      return response.body.data;
    }

    async function globalStats(query = ''): Promise<GlobalStatsJson> {
      const response = await call<{ data: GlobalStatsJson }>(t, 'GET', `/api/agents/stats${query}`, { as: 'viewer' });
      expect(response.status, response.text).toBe(200);
      expect(Object.keys(response.body)).toEqual(['data']);
      expect(Object.keys(response.body.data).sort()).toEqual([
        'activeAgents',
        'dailyRuns',
        'runningAgentIds',
        'runsInPeriod',
        'skippedRuns',
        'spend',
        'successRate',
        'totalAgents',
        'totalCostUsd',
      ]);
      expectDailyRunsShape(response.body.data.dailyRuns);
      return response.body.data;
    }

    describe('POST /api/agents/:id/run', () => {
      useApp('each');

      it('answers {"message":"Agent started"} (plus runId) at once, and the run is visible right away', async () => {
        const agent = await createAgent(t);
        const response = await call<{ message: string; runId: string }>(t, 'POST', `/api/agents/${agent.id}/run`);
        expect(response.status, response.text).toBe(200);
        expect(response.body.message).toBe('Agent started');
        // No data envelope; the only extension is the new run's id.
        expect(Object.keys(response.body).sort()).toEqual(['message', 'runId']);
        expect(typeof response.body.runId).toBe('string');

        // No settling: the row exists before the runner is even called.
        const runs = await listRuns(t, agent.id);
        expect(runs).toHaveLength(1);
        const [run] = runs as [RunJson];
        expectRunShape(run);
        expect(run).toMatchObject({
          id: response.body.runId,
          agentId: agent.id,
          trigger: 'manual',
          scheduledFor: null,
          output: null,
          costUsd: 0,
          inputTokens: 0,
          outputTokens: 0,
          numTurns: 0,
          queuedAt: iso(START),
          completedAt: null,
          durationMs: null,
        });
        expect(['queued', 'running']).toContain(run.status);
      });

      it('runs the agent with its current settings, then records the outcome', async () => {
        const agent = await createAgent(t, { maxTurns: 12, maxBudgetUsd: 0.75, model: 'claude-sonnet-4-5', allowedTools: ['Read'] });
        // An edit reaches the next run without a restart.
        await call(t, 'PATCH', `/api/agents/${agent.id}`, { body: { prompt: 'edited prompt' } });
        const { runId, pending } = await startRun(agent.id);
        expect(pending.request).toMatchObject({
          runId,
          prompt: 'edited prompt',
          maxTurns: 12,
          maxBudgetUsd: 0.75,
          model: 'claude-sonnet-4-5',
          allowedTools: ['Read'],
        });
        expect(pending.request.signal.aborted).toBe(false);

        const running = await getAgent(t, agent.id);
        expect(running.lastStatus).toBe('running');
        expect(running.lastRunAt).toBe(iso(START));

        t.clock.jumpTo(START + 90_000);
        pending.finish({
          status: 'success',
          output: 'Created summary document...',
          costUsd: 0.032,
          inputTokens: 1500,
          outputTokens: 800,
          cacheReadInputTokens: 1000,
          cacheCreationInputTokens: 200,
          numTurns: 5,
        });
        const run = await waitForRunStatus(t, agent.id, runId, isFinal);
        expectRunShape(run);
        expect(run).toEqual({
          id: runId,
          agentId: agent.id,
          status: 'success',
          trigger: 'manual',
          scheduledFor: null,
          output: 'Created summary document...',
          costUsd: 0.032,
          inputTokens: 1500,
          outputTokens: 800,
          cacheReadInputTokens: 1000,
          cacheCreationInputTokens: 200,
          numTurns: 5,
          queuedAt: iso(START),
          startedAt: iso(START),
          completedAt: iso(START + 90_000),
          durationMs: 90_000,
          executorId: t.app.config.instanceId,
          structuredOutput: null,
          retryOf: null,
          attempt: 1,
          skippedSlots: null,
          lastSkippedFor: null,
          notBefore: null,
          // It was edited (version 2) before the run.
          agentVersion: 2,
        });
        const after = await getAgent(t, agent.id);
        expect(after.lastStatus).toBe('success');
        expect(after.lastRunAt).toBe(iso(START));
      });

      it.each(['error', 'budget_exceeded'] as const)('records a run that ended as %s', async (status) => {
        const agent = await createAgent(t);
        const { runId, pending } = await startRun(agent.id);
        pending.finish({ status, output: `ended: ${status}`, costUsd: 0.5 });
        const run = await waitForRunStatus(t, agent.id, runId, isFinal);
        expect(run.status).toBe(status);
        expect(run.output).toBe(`ended: ${status}`);
        expect(run.costUsd).toBe(0.5);
        expect((await getAgent(t, agent.id)).lastStatus).toBe(status);
      });

      it('a disabled agent can still be run by hand', async () => {
        const agent = await createAgent(t, { enabled: false });
        const { runId, pending } = await startRun(agent.id);
        pending.finish();
        expect((await waitForRunStatus(t, agent.id, runId, isFinal)).status).toBe('success');
        expect((await getAgent(t, agent.id)).nextRunAt).toBeNull();
      });

      it('answers 404 for an unknown agent and creates nothing', async () => {
        expectError(await call(t, 'POST', '/api/agents/no-such-agent/run'), 404, 'not_found');
        expect(t.runner.runs).toHaveLength(0);
      });
    });

    describe('POST /api/agents/:id/cancel', () => {
      useApp('each');

      it('answers 404 when nothing runs', async () => {
        const agent = await createAgent(t);
        expectError(await call(t, 'POST', `/api/agents/${agent.id}/cancel`), 404, 'not_found');
      });

      it('answers 404 for an unknown agent', async () => {
        expectError(await call(t, 'POST', '/api/agents/no-such-agent/cancel'), 404, 'not_found');
      });

      it('cancels a running execution and answers the spec body', async () => {
        const agent = await createAgent(t);
        const { runId, pending } = await startRun(agent.id);
        const response = await call(t, 'POST', `/api/agents/${agent.id}/cancel`);
        expect(response.status, response.text).toBe(200);
        expect(response.body).toEqual({ success: true, message: 'Cancelled 1 running execution(s)', cancelledCount: 1 });
        expect(Object.keys(response.body as object)).toEqual(['success', 'message', 'cancelledCount']);
        expect(pending.request.signal.aborted).toBe(true);
        const run = await waitForRunStatus(t, agent.id, runId, isFinal);
        expect(run.status).toBe('cancelled');
        expect(run.completedAt).not.toBeNull();
        expect((await getAgent(t, agent.id)).lastStatus).toBe('cancelled');
        // Nothing left to cancel.
        expectError(await call(t, 'POST', `/api/agents/${agent.id}/cancel`), 404, 'not_found');
      });

      it('answers 404 once the runs have finished', async () => {
        const agent = await createAgent(t);
        const { runId, pending } = await startRun(agent.id);
        pending.finish();
        await waitForRunStatus(t, agent.id, runId, isFinal);
        expectError(await call(t, 'POST', `/api/agents/${agent.id}/cancel`), 404, 'not_found');
      });
    });

    describe('POST /api/agents/:id/cancel with one execution slot', () => {
      useApp('each', { maxConcurrentRuns: 1 });

      it('cancels queued runs too, and counts them', async () => {
        const agent = await createAgent(t);
        const first = await startRun(agent.id);
        const secondId = await triggerRun(t, agent.id);
        expect((await listRuns(t, agent.id)).find((r) => r.id === secondId)?.status).toBe('queued');

        const response = await call(t, 'POST', `/api/agents/${agent.id}/cancel`);
        expect(response.status, response.text).toBe(200);
        expect(response.body).toEqual({ success: true, message: 'Cancelled 2 running execution(s)', cancelledCount: 2 });
        expect((await waitForRunStatus(t, agent.id, first.runId, isFinal)).status).toBe('cancelled');
        const second = await waitForRunStatus(t, agent.id, secondId, isFinal);
        expect(second.status).toBe('cancelled');
        expect(second.startedAt).toBeNull();
        // The queued run never reached the runner.
        expect(t.runner.runs).toHaveLength(1);
      });
    });

    describe('POST /api/agents/:id/cancel (more)', () => {
      useApp('each');

      it("cancels only that agent's runs", async () => {
        const a = await createAgent(t, { name: 'A' });
        const b = await createAgent(t, { name: 'B' });
        const runA = await startRun(a.id);
        const runB = await startRun(b.id);
        expect((await call(t, 'POST', `/api/agents/${a.id}/cancel`)).status).toBe(200);
        expect((await waitForRunStatus(t, a.id, runA.runId, isFinal)).status).toBe('cancelled');
        expect(runB.pending.request.signal.aborted).toBe(false);
        expect((await listRuns(t, b.id))[0]?.status).toBe('running');
      });
    });

    describe('GET /api/agents/:id/runs', () => {
      useApp('each');

      it('lists runs newest first, with limit and period', async () => {
        const agent = await createAgent(t);
        const other = await createAgent(t, { name: 'Other' });
        const ids: string[] = [];
        for (const offset of [0, 60_000, 2 * 86_400_000]) {
          t.clock.jumpTo(START + offset);
          const { runId, pending } = await startRun(agent.id);
          pending.finish({ costUsd: 0.01 });
          await waitForRunStatus(t, agent.id, runId, isFinal);
          ids.push(runId);
        }
        const otherRun = await startRun(other.id);
        otherRun.pending.finish();

        const newestFirst = [...ids].reverse();
        const all = await listRuns(t, agent.id);
        expect(all.map((r) => r.id)).toEqual(newestFirst);
        for (const run of all) {
          expectRunShape(run);
          expect(run.agentId).toBe(agent.id);
        }
        expect((await listRuns(t, agent.id, '?limit=2')).map((r) => r.id)).toEqual(newestFirst.slice(0, 2));
        expect((await listRuns(t, agent.id, '?limit=1')).map((r) => r.id)).toEqual(newestFirst.slice(0, 1));
        expect((await listRuns(t, agent.id, '?limit=1000')).map((r) => r.id)).toEqual(newestFirst);
        expect((await listRuns(t, agent.id, '?period=24h')).map((r) => r.id)).toEqual(newestFirst.slice(0, 1));
        expect((await listRuns(t, agent.id, '?period=7d')).map((r) => r.id)).toEqual(newestFirst);
        expect((await listRuns(t, agent.id, '?period=30d')).map((r) => r.id)).toEqual(newestFirst);
        expect((await listRuns(t, agent.id, '?period=7d&limit=2')).map((r) => r.id)).toEqual(newestFirst.slice(0, 2));

        t.clock.jumpTo(START + 9 * 86_400_000);
        expect((await listRuns(t, agent.id, '?period=7d')).map((r) => r.id)).toEqual(newestFirst.slice(0, 1));
        expect(await listRuns(t, agent.id, '?period=24h')).toEqual([]);
        expect(await listRuns(t, agent.id, '?period=30d')).toHaveLength(3);
      });

      it('returns an empty list for an agent that never ran', async () => {
        const agent = await createAgent(t);
        const response = await call(t, 'GET', `/api/agents/${agent.id}/runs`, { as: 'viewer' });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ data: [] });
      });
    });

    describe('GET /api/agents/:id/runs on an instance that does not execute runs', () => {
      // No executor: runs stay queued, so 101 of them cost nothing but rows.
      useApp('each', { runnerEnabled: false });

      it('returns at most 100 runs by default and up to 1000 on request', async () => {
        const agent = await createAgent(t);
        for (let i = 0; i < 101; i++) {
          t.clock.jumpTo(START + i * 1_000);
          await triggerRun(t, agent.id);
        }
        const byDefault = await listRuns(t, agent.id);
        expect(byDefault).toHaveLength(100);
        expect(byDefault[0]?.queuedAt).toBe(iso(START + 100_000));
        expect(byDefault[99]?.queuedAt).toBe(iso(START + 1_000));
        expect(byDefault.every((r) => r.status === 'queued')).toBe(true);
        expect(await listRuns(t, agent.id, '?limit=1000')).toHaveLength(101);

        // Cancel ends every queued run at once.
        const cancelled = await call(t, 'POST', `/api/agents/${agent.id}/cancel`);
        expect(cancelled.body).toEqual({ success: true, message: 'Cancelled 101 running execution(s)', cancelledCount: 101 });
        expect((await listRuns(t, agent.id, '?limit=1000')).every((r) => r.status === 'cancelled')).toBe(true);
      });
    });

    describe('GET /api/agents/:id/runs: invalid query', () => {
      useApp('all');

      it.each([
        ['?limit=0', 'limit'],
        ['?limit=-1', 'limit'],
        ['?limit=1001', 'limit'],
        ['?limit=abc', 'limit'],
        ['?limit=1.5', 'limit'],
        ['?limit=', 'limit'],
        ['?limit=1&limit=2', 'limit'],
        ['?period=1y', 'period'],
        ['?period=7D', 'period'],
        ['?period=', 'period'],
        ['?since=2026-01-01', 'since'],
      ])('refuses %s with 400 naming %s', async (query, field) => {
        const agent = await createAgent(t);
        const response = await call(t, 'GET', `/api/agents/${agent.id}/runs${query}`, { as: 'viewer' });
        expectError(response, 400, 'validation_error', field);
      });

      it('answers 404 for an unknown agent', async () => {
        expectError(await call(t, 'GET', '/api/agents/no-such-agent/runs', { as: 'viewer' }), 404, 'not_found');
      });
    });

    describe('GET /api/agents/:id/stats and GET /api/agents/stats', () => {
      useApp('each');

      it('are all zeros with no runs, over 8 calendar days by default (7d)', async () => {
        const empty = await globalStats();
        expect(empty).toMatchObject({ totalAgents: 0, activeAgents: 0, runsInPeriod: 0, successRate: 0, totalCostUsd: 0, runningAgentIds: [] });
        expect(empty.dailyRuns.map((d) => d.date)).toEqual([
          '2025-12-29',
          '2025-12-30',
          '2025-12-31',
          '2026-01-01',
          '2026-01-02',
          '2026-01-03',
          '2026-01-04',
          '2026-01-05',
        ]);
        expect(empty.dailyRuns.every((d) => d.total === 0 && d.success === 0 && d.error === 0 && d.costUsd === 0)).toBe(true);

        const agent = await createAgent(t);
        const stats = await agentStats(agent.id);
        expect(stats).toEqual({ ...stats, totalRuns: 0, successRate: 0, avgDurationMs: 0, totalCostUsd: 0, lastRunAt: null });
        expect(stats.dailyRuns).toEqual(empty.dailyRuns);
        expect(await agentStats(agent.id, '?period=7d')).toEqual(stats);
        expect((await agentStats(agent.id, '?period=24h')).dailyRuns.map((d) => d.date)).toEqual(['2026-01-04', '2026-01-05']);
        expect((await agentStats(agent.id, '?period=30d')).dailyRuns).toHaveLength(31);
      });

      it('count runs, success rate, durations and cost per agent and across agents', async () => {
        const a = await createAgent(t, { name: 'A' });
        const b = await createAgent(t, { name: 'B' });
        await createAgent(t, { name: 'C (disabled)', enabled: false });

        // A run in progress counts in totals and in runningAgentIds, not in the success rate.
        const a1 = await startRun(a.id);
        let global = await globalStats();
        expect(global.runningAgentIds).toEqual([a.id]);
        expect(global.runsInPeriod).toBe(1);
        expect(global.successRate).toBe(0);
        expect(await agentStats(a.id)).toMatchObject({ totalRuns: 1, successRate: 0, avgDurationMs: 0, lastRunAt: iso(START) });

        t.clock.jumpTo(START + 90_000);
        a1.pending.finish({ status: 'success', costUsd: 0.25, inputTokens: 1000, outputTokens: 100, numTurns: 3 });
        await waitForRunStatus(t, a.id, a1.runId, isFinal);

        const a2 = await startRun(a.id);
        t.clock.jumpTo(START + 120_000);
        a2.pending.finish({ status: 'error', output: 'failed', costUsd: 0.1 });
        await waitForRunStatus(t, a.id, a2.runId, isFinal);

        const b1 = await startRun(b.id);
        expect((await globalStats()).runningAgentIds).toEqual([b.id]);
        b1.pending.finish({ status: 'budget_exceeded', costUsd: 0.05 });
        await waitForRunStatus(t, b.id, b1.runId, isFinal);

        const statsA = await agentStats(a.id);
        expect(statsA).toMatchObject({
          totalRuns: 2,
          successRate: 50,
          avgDurationMs: 60_000, // (90 s + 30 s) / 2
          totalCostUsd: 0.35,
          lastRunAt: iso(START + 90_000),
        });
        expect(statsA.dailyRuns).toHaveLength(8);
        expect(statsA.dailyRuns.at(-1)).toEqual({ date: '2026-01-05', success: 1, error: 1, total: 2, costUsd: 0.35 });
        expect(statsA.dailyRuns.slice(0, -1).every((d) => d.total === 0)).toBe(true);

        const statsB = await agentStats(b.id);
        expect(statsB).toMatchObject({ totalRuns: 1, successRate: 0, avgDurationMs: 0, totalCostUsd: 0.05 });
        expect(statsB.dailyRuns.at(-1)).toEqual({ date: '2026-01-05', success: 0, error: 1, total: 1, costUsd: 0.05 });

        global = await globalStats();
        expect(global).toMatchObject({
          totalAgents: 3,
          activeAgents: 2,
          runsInPeriod: 3,
          successRate: 33,
          totalCostUsd: 0.4,
          runningAgentIds: [],
        });
        expect(global.dailyRuns.at(-1)).toEqual({ date: '2026-01-05', success: 1, error: 2, total: 3, costUsd: 0.4 });
        expect(await globalStats('?period=7d')).toEqual(global);

        // Two days later: one more success for A. The 24h window sees only it; 7d sees all.
        t.clock.jumpTo(START + 2 * 86_400_000);
        const a3 = await startRun(a.id);
        a3.pending.finish({ status: 'success', costUsd: 0.5 });
        await waitForRunStatus(t, a.id, a3.runId, isFinal);

        const day = await agentStats(a.id, '?period=24h');
        expect(day).toMatchObject({ totalRuns: 1, successRate: 100, totalCostUsd: 0.5, lastRunAt: iso(START + 2 * 86_400_000) });
        expect(day.dailyRuns).toEqual([
          { date: '2026-01-06', success: 0, error: 0, total: 0, costUsd: 0 },
          { date: '2026-01-07', success: 1, error: 0, total: 1, costUsd: 0.5 },
        ]);
        const week = await agentStats(a.id);
        expect(week).toMatchObject({ totalRuns: 3, successRate: 67, totalCostUsd: 0.85 });
        expect(week.dailyRuns.filter((d) => d.total > 0).map((d) => d.date)).toEqual(['2026-01-05', '2026-01-07']);

        const globalDay = await globalStats('?period=24h');
        expect(globalDay).toMatchObject({ totalAgents: 3, activeAgents: 2, runsInPeriod: 1, successRate: 100, totalCostUsd: 0.5 });
        expect((await globalStats('?period=30d')).runsInPeriod).toBe(4);
      });

      it('count a cancelled run as not successful', async () => {
        const agent = await createAgent(t);
        const run = await startRun(agent.id);
        expect((await call(t, 'POST', `/api/agents/${agent.id}/cancel`)).status).toBe(200);
        await waitForRunStatus(t, agent.id, run.runId, isFinal);
        const stats = await agentStats(agent.id);
        expect(stats).toMatchObject({ totalRuns: 1, successRate: 0 });
        expect(stats.dailyRuns.at(-1)).toMatchObject({ success: 0, error: 1, total: 1 });
        expect((await globalStats()).runningAgentIds).toEqual([]);
      });

      it('/api/agents/stats is the global route, never an agent id', async () => {
        await createAgent(t, { name: 'stats' });
        const response = await call<{ data: GlobalStatsJson }>(t, 'GET', '/api/agents/stats', { as: 'viewer' });
        expect(response.status).toBe(200);
        expect(response.body.data.totalAgents).toBe(1);
        expect(response.body.data).not.toHaveProperty('schedule');
      });

      it.each(['/api/agents/stats', '/api/agents/:id/stats'])('%s refuses a bad period or an unknown parameter with 400', async (path) => {
        const agent = await createAgent(t);
        const url = path.replace(':id', agent.id);
        expectError(await call(t, 'GET', `${url}?period=1y`, { as: 'viewer' }), 400, 'validation_error', 'period');
        expectError(await call(t, 'GET', `${url}?period=`, { as: 'viewer' }), 400, 'validation_error', 'period');
        expectError(await call(t, 'GET', `${url}?limit=5`, { as: 'viewer' }), 400, 'validation_error', 'limit');
      });

      it('answer 404 for an unknown agent', async () => {
        expectError(await call(t, 'GET', '/api/agents/no-such-agent/stats', { as: 'viewer' }), 404, 'not_found');
      });
    });

    describe('DELETE with runs', () => {
      useApp('each');

      it("removes the agent's runs with it and stops what was running", async () => {
        const agent = await createAgent(t);
        const keep = await createAgent(t, { name: 'Keep' });
        const done = await startRun(agent.id);
        done.pending.finish({ costUsd: 0.2 });
        await waitForRunStatus(t, agent.id, done.runId, isFinal);
        const open = await startRun(agent.id);
        const kept = await startRun(keep.id);
        kept.pending.finish({ costUsd: 0.3 });
        await waitForRunStatus(t, keep.id, kept.runId, isFinal);

        const response = await call(t, 'DELETE', `/api/agents/${agent.id}`);
        expect(response.status, response.text).toBe(200);
        expect(response.body).toEqual({ data: { id: agent.id, name: agent.name } });
        expect(open.pending.request.signal.aborted).toBe(true);
        expect(await t.app.store.getRun(done.runId)).toBeNull();
        expect(await t.app.store.getRun(open.runId)).toBeNull();
        expectError(await call(t, 'GET', `/api/agents/${agent.id}/runs`, { as: 'viewer' }), 404, 'not_found');
        expectError(await call(t, 'GET', `/api/agents/${agent.id}/stats`, { as: 'viewer' }), 404, 'not_found');

        // Let the aborted run's executor try to record its end: the row stays gone.
        await waitForRunnerRuns(t, 3);
        await waitForRunStatus(t, keep.id, kept.runId, isFinal);
        expect(await t.app.store.getRun(open.runId)).toBeNull();
        const global = await globalStats();
        expect(global).toMatchObject({ totalAgents: 1, runsInPeriod: 1, totalCostUsd: 0.3, runningAgentIds: [] });
      });
    });
  });
}

import { describe, expect, it } from 'vitest';
import type { AuditPageJson, BudgetJson } from '../../src/api/schemas/index.js';
import type { TestApp } from '../support/test-app.js';
import {
  call,
  createAgent,
  expectError,
  listRuns,
  triggerRun,
  useTestApp,
  waitFor,
  waitForRunnerRuns,
  waitForRunStatus,
  type AgentStatsJson,
  type GlobalStatsJson,
} from './api-helpers.js';

/**
 * GET/PUT /api/budget (admins), and the caps as the executor applies them: the runner is given
 * what is left under the caps as its maxBudgetUsd, a run that finds a cap used up is recorded as
 * skipped, and the stats show the spend against the caps.
 */
describe('spend caps through the API', () => {
  let t: TestApp;
  useTestApp('each', (app) => {
    t = app;
  });

  const put = (body: unknown, as: 'admin' | 'member' | 'viewer' | null = 'admin') => call<{ data: BudgetJson }>(t, 'PUT', '/api/budget', { as, body });

  it('GET shows the defaults and the spend; only admins read or change the budget', async () => {
    const response = await call<{ data: BudgetJson }>(t, 'GET', '/api/budget', { as: 'admin' });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({ data: { dailyUsd: null, monthlyUsd: null, warnAtPercent: 80, spend: { todayUsd: 0, monthUsd: 0 } } });
    for (const role of ['member', 'viewer'] as const) {
      expectError(await call(t, 'GET', '/api/budget', { as: role }), 403, 'forbidden');
      expectError(await put({ dailyUsd: 1, monthlyUsd: null }, role), 403, 'forbidden');
    }
    expectError(await call(t, 'GET', '/api/budget', { as: null }), 401, 'unauthorized');
    expect((await call<{ data: BudgetJson }>(t, 'GET', '/api/budget', { as: 'admin' })).body.data.dailyUsd).toBeNull();
  });

  it('is in the OpenAPI document, for admins, under the budget tag', async () => {
    const doc = (
      await call<{ paths: Record<string, Record<string, { operationId: string; tags: string[]; security: unknown[] }>> }>(t, 'GET', '/api/openapi.json', {
        as: null,
      })
    ).body;
    expect(doc.paths['/api/budget']?.get).toMatchObject({ operationId: 'getBudget', tags: ['budget'] });
    expect(doc.paths['/api/budget']?.put).toMatchObject({ operationId: 'putBudget', tags: ['budget'] });
  });

  it('PUT replaces the settings, and the audit trail records what changed and who changed it', async () => {
    const response = await put({ dailyUsd: 5, monthlyUsd: 100, warnAtPercent: 90 });
    expect(response.status, response.text).toBe(200);
    expect(response.body.data).toEqual({ dailyUsd: 5, monthlyUsd: 100, warnAtPercent: 90, spend: { todayUsd: 0, monthUsd: 0 } });
    // A replacement: warnAtPercent left out is the default again.
    expect((await put({ dailyUsd: null, monthlyUsd: 100 })).body.data).toMatchObject({ dailyUsd: null, monthlyUsd: 100, warnAtPercent: 80 });
    // The same values again change nothing, and record nothing.
    expect((await put({ dailyUsd: null, monthlyUsd: 100 })).status).toBe(200);
    expect((await call<{ data: BudgetJson }>(t, 'GET', '/api/budget', { as: 'admin' })).body.data).toMatchObject({
      dailyUsd: null,
      monthlyUsd: 100,
      warnAtPercent: 80,
    });

    const trail = (await call<AuditPageJson>(t, 'GET', '/api/audit?action=budget.update', { as: 'admin' })).body.data;
    expect(trail).toHaveLength(2);
    expect(trail[1]).toMatchObject({
      action: 'budget.update',
      actor: { name: 'admin-user' },
      details: { changes: { dailyUsd: { old: null, new: 5 }, monthlyUsd: { old: null, new: 100 }, warnAtPercent: { old: 80, new: 90 } } },
    });
    expect(trail[0]!.details).toEqual({ changes: { dailyUsd: { old: 5, new: null }, warnAtPercent: { old: 90, new: 80 } } });
  });

  it('refuses bodies that are not a budget, naming the field', async () => {
    expectError(await put({ dailyUsd: 5 }), 400, 'validation_error', 'monthlyUsd');
    expectError(await put({ dailyUsd: -1, monthlyUsd: null }), 400, 'validation_error', 'dailyUsd');
    expectError(await put({ dailyUsd: '5', monthlyUsd: null }), 400, 'validation_error', 'dailyUsd');
    expectError(await put({ dailyUsd: null, monthlyUsd: 2_000_000 }), 400, 'validation_error', 'monthlyUsd');
    for (const warnAtPercent of [0, 101, 80.5])
      expectError(await put({ dailyUsd: null, monthlyUsd: null, warnAtPercent }), 400, 'validation_error', 'warnAtPercent');
    expectError(await put({ dailyUsd: null, monthlyUsd: null, currency: 'EUR' }), 400, 'validation_error');
    expect((await call<{ data: BudgetJson }>(t, 'GET', '/api/budget', { as: 'admin' })).body.data.dailyUsd).toBeNull();
  });

  it("runs get what is left under the deployment's cap; a run that finds it used up is skipped; the stats show the spend", async () => {
    expect((await put({ dailyUsd: 1, monthlyUsd: null })).status).toBe(200);
    const agent = await createAgent(t, { maxBudgetUsd: 5 });
    const first = await triggerRun(t, agent.id);
    await waitForRunnerRuns(t, 1);
    // The whole remainder is reserved for a run without a smaller limit of its own.
    expect(t.runner.runs[0]!.request.maxBudgetUsd).toBe(1);
    const global = (await call<{ data: GlobalStatsJson }>(t, 'GET', '/api/agents/stats', { as: 'viewer' })).body.data;
    expect(global.spend).toEqual({ todayUsd: 1, monthUsd: 1, dailyCapUsd: 1, monthlyCapUsd: null });

    const second = await triggerRun(t, agent.id);
    const skipped = await waitForRunStatus(t, agent.id, second, (status) => status === 'skipped');
    const today = new Date(t.clock.now()).toISOString().slice(0, 10);
    expect(skipped.output).toBe(
      `Skipped: the deployment's daily spend cap of $1.00 is used up ($0.00 spent and $1.00 reserved by runs in progress today, ${today} (UTC))`,
    );
    expect(skipped.costUsd).toBe(0);
    expect(t.runner.runs).toHaveLength(1);

    t.runner.runs[0]!.accrue({ costUsd: 0.4, numTurns: 1 });
    t.runner.runs[0]!.finish();
    await waitForRunStatus(t, agent.id, first, (status) => status === 'success');
    const budget = (await call<{ data: BudgetJson }>(t, 'GET', '/api/budget', { as: 'admin' })).body.data;
    expect(budget.spend).toEqual({ todayUsd: 0.4, monthUsd: 0.4 });
    await triggerRun(t, agent.id);
    await waitForRunnerRuns(t, 2);
    expect(t.runner.runs[1]!.request.maxBudgetUsd).toBeCloseTo(0.6, 9);
    expect((await listRuns(t, agent.id)).map((r) => r.status).sort()).toEqual(['running', 'skipped', 'success']);
  });

  it("an agent's own caps lower its runs' budget, and its stats show its spend against them", async () => {
    const agent = await createAgent(t, { maxBudgetUsd: 2, dailyBudgetUsd: 0.5, monthlyBudgetUsd: 10 });
    await triggerRun(t, agent.id);
    await waitForRunnerRuns(t, 1);
    expect(t.runner.runs[0]!.request.maxBudgetUsd).toBe(0.5);
    const stats = await waitFor(async () => {
      const response = await call<{ data: AgentStatsJson }>(t, 'GET', `/api/agents/${agent.id}/stats`, { as: 'viewer' });
      return response.body.data.spend.todayUsd > 0 ? response.body.data : null;
    }, 'the reservation to show');
    expect(stats.spend).toEqual({ todayUsd: 0.5, monthUsd: 0.5, dailyCapUsd: 0.5, monthlyCapUsd: 10 });
    // Without any cap the agent's own limit is passed as it is.
    const free = await createAgent(t, { name: 'free', maxBudgetUsd: 2 });
    await triggerRun(t, free.id);
    await waitForRunnerRuns(t, 2);
    expect(t.runner.runs[1]!.request.maxBudgetUsd).toBe(2);
  });
});

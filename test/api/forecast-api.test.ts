import { describe, expect, it } from 'vitest';
import type { DeploymentForecastJson, ForecastJson, SchedulePreviewJson } from '../../src/api/schemas/index.js';
import type { TestApp } from '../support/test-app.js';
import { call, createAgent, expectError, triggerRun, useTestApp, waitForRunStatus, waitForRunnerRuns } from './api-helpers.js';

/**
 * The cost forecast over HTTP: GET /api/agents/:id/forecast, GET /api/forecast and the schedule
 * preview's `forecast`, against runs whose cost the fake runner sets. The fake clock stands at
 * Monday 2026-01-05 08:00 UTC; figures are computed by hand in the comments.
 */

let t: TestApp;
useTestApp('all', (app) => {
  t = app;
});

/** Runs the agent once by hand, costing `costUsd`, and waits until it has ended. */
async function runCosting(agentId: string, costUsd: number): Promise<void> {
  const runId = await triggerRun(t, agentId);
  await waitForRunnerRuns(t, t.runner.runs.length + 1);
  t.runner.runs.at(-1)?.finish({ costUsd });
  await waitForRunStatus(t, agentId, runId, (status) => status === 'success');
}

const forecastOf = (agentId: string, query = '', as: 'viewer' | 'member' | null = 'viewer') =>
  call<{ data: ForecastJson }>(t, 'GET', `/api/agents/${agentId}/forecast${query}`, { as });

describe('GET /api/agents/:id/forecast', () => {
  let daily = '';

  it('has no money figures before the agent has run', async () => {
    daily = (await createAgent(t, { name: 'Daily', schedule: '0 9 * * *', timezone: 'UTC' })).id;
    const response = await forecastOf(daily);
    expect(response.status, response.text).toBe(200);
    // Jan 5 09:00 ... Feb 3 09:00 (the horizon ends Feb 4 08:00): 30 slots; 27 of them in January.
    expect(response.body.data).toEqual({
      days: 30,
      fires: 30,
      costPerRun: { p50: null, p95: null, basedOnRuns: 0 },
      projectedUsd: { p50: null, p95: null },
      restOfMonth: { until: '2026-02-01T00:00:00.000Z', fires: 27, projectedUsd: { p50: null, p95: null } },
    });
  });

  it("prices the slots at the percentiles of the agent's latest runs", async () => {
    for (const cost of [0.04, 0.01, 0.03, 0.02]) await runCosting(daily, cost);
    const response = await forecastOf(daily);
    expect(response.status, response.text).toBe(200);
    // p50 0.025, p95 0.0385 (0.03 + 0.85 x 0.01); 30 x each, and 27 x each for January.
    expect(response.body.data).toEqual({
      days: 30,
      fires: 30,
      costPerRun: { p50: 0.025, p95: 0.0385, basedOnRuns: 4 },
      projectedUsd: { p50: 0.75, p95: 1.155 },
      restOfMonth: { until: '2026-02-01T00:00:00.000Z', fires: 27, projectedUsd: { p50: 0.675, p95: 1.0395 } },
    });
    // A week: Jan 5 ... Jan 11.
    expect((await forecastOf(daily, '?days=7')).body.data).toMatchObject({ days: 7, fires: 7, projectedUsd: { p50: 0.175, p95: 0.2695 } });
    expect((await forecastOf(daily, '?days=366')).body.data.fires).toBe(366);
  });

  it('refuses days out of range, naming the field, and unknown agents', async () => {
    for (const query of ['?days=0', '?days=367', '?days=abc', '?days=1.5']) expectError(await forecastOf(daily, query), 400, 'validation_error', 'days');
    expectError(await forecastOf('no-such-agent'), 404, 'not_found');
    expectError(await forecastOf(daily, '', null), 401, null);
  });
});

describe('GET /api/forecast', () => {
  it('sums the enabled agents, an agent without runs adding slots but no money', async () => {
    const before = (await call<{ data: DeploymentForecastJson }>(t, 'GET', '/api/forecast', { as: 'viewer' })).body.data;
    const hourly = await createAgent(t, { name: 'Hourly', schedule: '0 * * * *', timezone: 'Europe/Berlin' });
    await createAgent(t, { name: 'Off', schedule: '* * * * *', enabled: false });
    const response = await call<{ data: DeploymentForecastJson }>(t, 'GET', '/api/forecast?days=30', { as: 'viewer' });
    expect(response.status, response.text).toBe(200);
    const data = response.body.data;
    // Daily: 30 slots; hourly in Berlin: 30 x 24 = 720 (no clock change in January); the disabled agent: none.
    expect(data.fires).toBe(750);
    expect(data.projectedUsd).toEqual(before.projectedUsd);
    expect(data.projectedUsd).toEqual({ p50: 0.75, p95: 1.155 });
    expect(data.costPerRun).toEqual({ p50: 0.025, p95: 0.0385, basedOnRuns: 4 });
    // January from Monday 08:00 UTC: 27 daily slots, and hourly ones from 09:00 UTC on the 5th (15 that day) to 23:00 UTC on the 31st (midnight in Berlin).
    expect(data.restOfMonth).toEqual({ until: '2026-02-01T00:00:00.000Z', fires: 27 + 26 * 24 + 15, projectedUsd: { p50: 0.675, p95: 1.0395 } });
    expect(data.agents).toHaveLength(2);
    expect(data.agents).toContainEqual({ agentId: hourly.id, fires: 720, basedOnRuns: 0, projectedUsd: { p50: null, p95: null } });
  });
});

describe('POST /api/schedules/preview with agentId', () => {
  const preview = (body: unknown) => call<{ data: SchedulePreviewJson }>(t, 'POST', '/api/schedules/preview', { as: 'viewer', body });

  it("prices the schedule being typed at the agent's latest runs", async () => {
    const daily = (await call<{ data: { id: string; name: string }[] }>(t, 'GET', '/api/agents', { as: 'viewer' })).body.data.find((a) => a.name === 'Daily');
    const response = await preview({ schedule: '0 9 * * 1-5', timezone: 'UTC', agentId: daily?.id });
    expect(response.status, response.text).toBe(200);
    // Weekdays Jan 5 ... Feb 3: 22 slots (20 in January); at p50 0.025 and p95 0.0385.
    expect(response.body.data.forecast).toEqual({
      days: 30,
      fires: 22,
      costPerRun: { p50: 0.025, p95: 0.0385, basedOnRuns: 4 },
      projectedUsd: { p50: 0.55, p95: 0.847 },
      restOfMonth: { until: '2026-02-01T00:00:00.000Z', fires: 20, projectedUsd: { p50: 0.5, p95: 0.77 } },
    });
    expect(response.body.data.nextRuns).toHaveLength(5);
  });

  it('leaves the forecast out without an agent, and names agentId when there is no such agent', async () => {
    const plain = await preview({ schedule: '0 9 * * *' });
    expect(plain.status).toBe(200);
    expect(plain.body.data).not.toHaveProperty('forecast');
    expectError(await preview({ schedule: '0 9 * * *', agentId: 'no-such-agent' }), 400, 'validation_error', 'agentId');
    // A wrong schedule is still named first.
    expectError(await preview({ schedule: 'nope', agentId: 'no-such-agent' }), 400, 'validation_error', 'schedule');
  });
});

describe('the OpenAPI document', () => {
  it('names and tags the forecast operations', async () => {
    const doc = (await call<{ paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>> }>(t, 'GET', '/api/openapi.json', { as: null }))
      .body;
    expect(doc.paths['/api/agents/{id}/forecast']?.get).toMatchObject({ operationId: 'getAgentForecast', tags: ['stats'] });
    expect(doc.paths['/api/forecast']?.get).toMatchObject({ operationId: 'getDeploymentForecast', tags: ['stats'] });
  });
});

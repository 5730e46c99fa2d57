/**
 * GET /metrics: who may read it, that it is valid Prometheus text, and that the engine's hooks
 * move its counters (a fake runner and a fake clock; the real SDK is in test/e2e/metrics.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { BackgroundLoop } from '../../src/engine/background-loop.js';
import { LeaseReaper } from '../../src/engine/lease-reaper.js';
import { Metrics } from '../../src/engine/metrics.js';
import { silentLogger } from '../../src/logger.js';
import type { SpendSummary } from '../../src/domain/types.js';
import type { DeploymentCounts } from '../../src/store/store.js';
import { FakeClock } from '../support/fake-clock.js';
import { parsePrometheusText, sampleValue, type MetricFamily } from '../support/prometheus-text.js';
import { createTestApp, type TestApp } from '../support/test-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { call, createAgent, expectError, triggerRun, waitFor, waitForRunnerRuns, waitForRunStatus } from './api-helpers.js';

const METRICS_TOKEN = 'm'.repeat(40);
const NO_SPEND = { todayUsd: 0, monthUsd: 0, dailyCapUsd: null, monthlyCapUsd: null };

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

async function open(overrides: Parameters<typeof createTestApp>[0] = {}): Promise<TestApp> {
  t = await createTestApp(overrides);
  return t;
}

/** Scrapes /metrics with a viewer's token (or the given headers), checks it parses, and returns the families. */
async function scrape(app: TestApp, headers: Record<string, string> = app.auth('viewer')): Promise<Map<string, MetricFamily>> {
  const response = await app.app.server.inject({ method: 'GET', url: '/metrics', headers });
  expect(response.statusCode, response.body).toBe(200);
  return parsePrometheusText(response.body);
}

const value = (families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}) => sampleValue(families, name, labels);

describe('who may read /metrics', () => {
  it('answers 401 without a bearer token, with a wrong one, or with only a cookie; any role may read it', async () => {
    const app = await open();
    const none = await call(app, 'GET', '/metrics', { as: null });
    expectError(none, 401, 'unauthorized');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    expectError(await call(app, 'GET', '/metrics', { as: null, headers: { authorization: 'Bearer cat_not-a-real-token' } }), 401, 'unauthorized');
    expectError(await call(app, 'GET', '/metrics', { as: null, headers: { cookie: 'cron_agents_session=abc' } }), 401, 'unauthorized');
    for (const role of ['viewer', 'member', 'admin'] as const) {
      const response = await app.app.server.inject({ method: 'GET', url: '/metrics', headers: app.auth(role) });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(response.headers['cache-control']).toBe('no-store');
      expect(response.headers['www-authenticate']).toBeUndefined();
    }
  });

  it('with CRON_AGENTS_METRICS_TOKEN set, accepts that token alone', async () => {
    const app = await open({ metricsToken: METRICS_TOKEN });
    expectError(await call(app, 'GET', '/metrics', { as: 'admin' }), 401, 'unauthorized');
    expectError(await call(app, 'GET', '/metrics', { as: null, headers: { authorization: `Bearer ${'m'.repeat(39)}n` } }), 401, 'unauthorized');
    expectError(await call(app, 'GET', '/metrics', { as: null, headers: { authorization: `Bearer ${METRICS_TOKEN}x` } }), 401, 'unauthorized');
    const families = await scrape(app, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(families.has('cron_agents_runs_started_total')).toBe(true);
    // The API itself still wants a user's token: the metrics token opens /metrics only.
    expectError(await call(app, 'GET', '/api/agents', { as: null, headers: { authorization: `Bearer ${METRICS_TOKEN}` } }), 401, 'unauthorized');
  });

  it('reads CRON_AGENTS_METRICS_TOKEN, and refuses a short one', () => {
    expect(loadConfig({}).metricsToken).toBeNull();
    expect(loadConfig({ CRON_AGENTS_METRICS_TOKEN: ` ${METRICS_TOKEN} ` }).metricsToken).toBe(METRICS_TOKEN);
    expect(() => loadConfig({ CRON_AGENTS_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ CRON_AGENTS_METRICS_TOKEN: 'short' })).toThrow(/CRON_AGENTS_METRICS_TOKEN must be at least 32 characters/);
  });

  it('is in the OpenAPI document as getMetrics, text/plain, tagged system', async () => {
    const app = await open();
    const doc = (await app.app.server.inject({ method: 'GET', url: '/api/openapi.json' })).json<{
      paths: Record<string, Record<string, { operationId?: string; tags?: string[]; responses: Record<string, { content?: Record<string, unknown> }> }>>;
    }>();
    const operation = doc.paths['/metrics']?.get;
    expect(operation?.operationId).toBe('getMetrics');
    expect(operation?.tags).toEqual(['system']);
    expect(Object.keys(operation?.responses['200']?.content ?? {})).toEqual(['text/plain']);
  });
});

describe('the text', () => {
  it('is valid Prometheus exposition format with every documented family and the default process metrics', async () => {
    const app = await open();
    const families = await scrape(app);
    const expected: Record<string, MetricFamily['type']> = {
      cron_agents_runs_started_total: 'counter',
      cron_agents_runs_ended_total: 'counter',
      cron_agents_cost_usd_total: 'counter',
      cron_agents_tokens_total: 'counter',
      cron_agents_run_duration_seconds: 'histogram',
      cron_agents_fire_lateness_seconds: 'histogram',
      cron_agents_runs_running: 'gauge',
      cron_agents_ticks_claimed_total: 'counter',
      cron_agents_ticks_skipped_total: 'counter',
      cron_agents_webhook_deliveries_total: 'counter',
      cron_agents_lease_expiries_total: 'counter',
      cron_agents_database_errors_total: 'counter',
      cron_agents_agents_enabled: 'gauge',
      cron_agents_runs_queued: 'gauge',
      process_cpu_seconds_total: 'counter',
      process_resident_memory_bytes: 'gauge',
      nodejs_eventloop_lag_seconds: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) expect(families.get(name)?.type, name).toBe(type);
    for (const family of families.values()) expect(family.help, family.name).toBeTruthy();
    // Known series exist at 0 from the start, so increase() sees their first event.
    expect(value(families, 'cron_agents_runs_ended_total', { status: 'error', trigger: 'schedule' })).toBe(0);
    expect(value(families, 'cron_agents_tokens_total', { kind: 'cache_read' })).toBe(0);
  });

  it('the reader used here rejects what Prometheus would', () => {
    expect(() => parsePrometheusText('# TYPE a counter\na 1\n')).not.toThrow();
    expect(() => parsePrometheusText('a{b="1"} one\n')).toThrow(/not a sample value/);
    expect(() => parsePrometheusText('# TYPE a gauge\nb 1\n')).toThrow(/outside its family/);
    expect(() => parsePrometheusText('# TYPE a gauge\na 1\na 2\n')).toThrow(/twice/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('# TYPE a gauge\na 1')).toThrow(/line feed/);
  });
});

describe('counters move with runs', () => {
  it('a manual run: started, running, ended by status and trigger, its cost, tokens by kind and duration', async () => {
    const app = await open();
    const agent = await createAgent(app);
    const runId = await triggerRun(app, agent.id);
    await waitForRunnerRuns(app, 1);
    let families = await scrape(app);
    expect(value(families, 'cron_agents_runs_started_total', { trigger: 'manual' })).toBe(1);
    expect(value(families, 'cron_agents_runs_running')).toBe(1);
    expect(value(families, 'cron_agents_runs_ended_total', { status: 'success', trigger: 'manual' })).toBe(0);

    const run = app.runner.runs[0]!;
    run.accrue({ costUsd: 0.25, inputTokens: 700, outputTokens: 100, cacheReadInputTokens: 300, numTurns: 1 });
    run.accrue({ costUsd: 0.125, inputTokens: 500, outputTokens: 50, cacheCreationInputTokens: 40, numTurns: 1 });
    await app.advance(90_000);
    run.finish();
    await waitForRunStatus(app, agent.id, runId, (status) => status === 'success');
    families = await scrape(app);
    expect(value(families, 'cron_agents_runs_running')).toBe(0);
    expect(value(families, 'cron_agents_runs_ended_total', { status: 'success', trigger: 'manual' })).toBe(1);
    expect(value(families, 'cron_agents_cost_usd_total')).toBe(0.375);
    // 1200 input tokens in all: 300 read from the cache, 40 written to it, 860 uncached.
    expect(value(families, 'cron_agents_tokens_total', { kind: 'input' })).toBe(860);
    expect(value(families, 'cron_agents_tokens_total', { kind: 'cache_read' })).toBe(300);
    expect(value(families, 'cron_agents_tokens_total', { kind: 'cache_creation' })).toBe(40);
    expect(value(families, 'cron_agents_tokens_total', { kind: 'output' })).toBe(150);
    expect(value(families, 'cron_agents_run_duration_seconds_count', { status: 'success' })).toBe(1);
    expect(value(families, 'cron_agents_run_duration_seconds_sum', { status: 'success' })).toBe(90);
    expect(value(families, 'cron_agents_run_duration_seconds_bucket', { status: 'success', le: '60' })).toBe(0);
    expect(value(families, 'cron_agents_run_duration_seconds_bucket', { status: 'success', le: '120' })).toBe(1);
    // A manual run has no slot: no lateness.
    expect(value(families, 'cron_agents_fire_lateness_seconds_count')).toBe(0);
  });

  it('a scheduled run: the tick claimed, its fire lateness (start minus slot), a tick skipped while it runs', async () => {
    const app = await open({ maxConcurrentRuns: 1 });
    // The one execution slot is busy with a manual run when the minute comes: the scheduled run waits 20 s.
    const blocker = await createAgent(app, { name: 'Blocker' });
    await triggerRun(app, blocker.id);
    await waitForRunnerRuns(app, 1);
    const agent = await createAgent(app, { name: 'Every minute', schedule: '* * * * *' });
    await app.advance(60_000);
    await app.advance(20_000);
    app.runner.runs[0]!.finish();
    await waitForRunnerRuns(app, 2);
    let families = await scrape(app);
    expect(value(families, 'cron_agents_ticks_claimed_total')).toBe(1);
    expect(value(families, 'cron_agents_runs_started_total', { trigger: 'schedule' })).toBe(1);
    expect(value(families, 'cron_agents_fire_lateness_seconds_count')).toBe(1);
    expect(value(families, 'cron_agents_fire_lateness_seconds_sum')).toBe(20);
    expect(value(families, 'cron_agents_fire_lateness_seconds_bucket', { le: '10' })).toBe(0);
    expect(value(families, 'cron_agents_fire_lateness_seconds_bucket', { le: '30' })).toBe(1);

    // The next minute comes while the scheduled run still runs: that tick is skipped (overlap).
    await app.advance(40_000);
    families = await scrape(app);
    expect(value(families, 'cron_agents_ticks_claimed_total')).toBe(1);
    expect(value(families, 'cron_agents_ticks_skipped_total', { reason: 'overlap' })).toBe(1);
    app.runner.runs[1]!.finish({ status: 'error', output: 'failed' });
    const runs = await waitFor(async () => {
      const list = (await call<{ data: { status: string }[] }>(app, 'GET', `/api/agents/${agent.id}/runs`, { as: 'viewer' })).body.data;
      return list.some((r) => r.status === 'error') ? list : null;
    }, 'the scheduled run to end');
    expect(runs.length).toBeGreaterThan(0);
    families = await scrape(app);
    expect(value(families, 'cron_agents_runs_ended_total', { status: 'error', trigger: 'schedule' })).toBe(1);
    expect(value(families, 'cron_agents_runs_ended_total', { status: 'success', trigger: 'manual' })).toBe(1);
  });

  it('webhook deliveries by result', async () => {
    const receiver = await WebhookReceiver.start();
    try {
      const app = await open({ webhookAllowPrivate: true, webhookRetryBaseMs: 1_000 });
      app.app.outbox.start();
      const hook = await call<{ data: { id: string } }>(app, 'POST', '/api/webhooks', {
        body: { name: 'Ops', url: `${receiver.url}/hook`, events: ['run.failed'] },
      });
      expect(hook.status, hook.text).toBe(201);
      await call(app, 'POST', `/api/webhooks/${hook.body.data.id}/test`);
      await receiver.received(1);
      await waitFor(async () => value(await scrape(app), 'cron_agents_webhook_deliveries_total', { result: 'delivered' }) === 1, 'a delivery counted');
      receiver.respond = () => ({ status: 503, body: 'busy' });
      await call(app, 'POST', `/api/webhooks/${hook.body.data.id}/test`);
      await receiver.received(2);
      await waitFor(async () => value(await scrape(app), 'cron_agents_webhook_deliveries_total', { result: 'retry' }) === 1, 'a retry counted');
      await app.app.outbox.stop();
    } finally {
      await receiver.close();
    }
  });

  it('lease expiries: a run whose executor stopped renewing its lease', async () => {
    const app = await open({ runnerEnabled: false });
    const agent = await createAgent(app);
    await triggerRun(app, agent.id);
    const now = app.clock.now();
    expect(await app.app.store.claimQueuedRun('a-dead-instance', now, now + 1_000)).not.toBeNull();
    await app.advance(2_000);
    const reaper = new LeaseReaper({ store: app.app.store, clock: app.clock, logger: silentLogger, intervalMs: 1_000, runner: null, metrics: app.app.metrics });
    expect(await reaper.sweep()).toHaveLength(1);
    expect(value(await scrape(app), 'cron_agents_lease_expiries_total')).toBe(1);
  });
});

describe('deployment-wide gauges', () => {
  it('are read from the database at most every 15 s', async () => {
    const app = await open({ maxConcurrentRuns: 1 });
    const busy = await createAgent(app, { name: 'Busy' });
    await createAgent(app, { name: 'Off', enabled: false });
    await triggerRun(app, busy.id);
    await waitForRunnerRuns(app, 1);
    let families = await scrape(app);
    expect(value(families, 'cron_agents_agents_enabled')).toBe(1);
    expect(value(families, 'cron_agents_runs_queued')).toBe(0);

    const waiting = await createAgent(app, { name: 'Waiting' });
    await triggerRun(app, waiting.id);
    families = await scrape(app);
    // Within 15 s of the last read: the figures read then.
    expect(value(families, 'cron_agents_agents_enabled')).toBe(1);
    expect(value(families, 'cron_agents_runs_queued')).toBe(0);
    await app.advance(15_000);
    families = await scrape(app);
    expect(value(families, 'cron_agents_agents_enabled')).toBe(2);
    expect(value(families, 'cron_agents_runs_queued')).toBe(1);
  });

  it('a failed read is a database error, keeps the last figures, and is not retried before the interval', async () => {
    const clock = new FakeClock();
    let reads = 0;
    let fail = false;
    const store = {
      async deploymentCounts(): Promise<DeploymentCounts> {
        reads++;
        if (fail) throw new Error('connection refused');
        return { agentsEnabled: 7, runsQueued: 3, spend: NO_SPEND };
      },
    };
    const metrics = new Metrics({ clock, logger: silentLogger, store });
    // Two scrapes at once share one read.
    const [first] = await Promise.all([metrics.render(), metrics.render()]);
    expect(reads).toBe(1);
    expect(value(parsePrometheusText(first), 'cron_agents_agents_enabled')).toBe(7);
    fail = true;
    await clock.advance(15_000);
    let families = parsePrometheusText(await metrics.render());
    expect(reads).toBe(2);
    expect(value(families, 'cron_agents_agents_enabled')).toBe(7);
    expect(value(families, 'cron_agents_runs_queued')).toBe(3);
    expect(value(families, 'cron_agents_database_errors_total', { loop: 'metrics' })).toBe(1);
    families = parsePrometheusText(await metrics.render());
    expect(reads).toBe(2);
    expect(value(families, 'cron_agents_database_errors_total', { loop: 'metrics' })).toBe(1);
  });
});

describe('spend against the deployment caps', () => {
  it('shows the spend per window, and the share of each cap used only where there is a cap', async () => {
    const clock = new FakeClock();
    let spend: SpendSummary = { todayUsd: 8.5, monthUsd: 40, dailyCapUsd: 10, monthlyCapUsd: null };
    const metrics = new Metrics({ clock, logger: silentLogger, store: { deploymentCounts: async () => ({ agentsEnabled: 1, runsQueued: 0, spend }) } });
    let families = parsePrometheusText(await metrics.render());
    expect(families.get('cron_agents_budget_spent_ratio')?.type).toBe('gauge');
    expect(value(families, 'cron_agents_budget_spent_ratio', { scope: 'deployment', window: 'day' })).toBe(0.85);
    expect(value(families, 'cron_agents_budget_spent_ratio', { window: 'month' })).toBeUndefined();
    expect(value(families, 'cron_agents_budget_spent_usd', { scope: 'deployment', window: 'day' })).toBe(8.5);
    expect(value(families, 'cron_agents_budget_spent_usd', { scope: 'deployment', window: 'month' })).toBe(40);

    // The daily cap removed, a monthly one set: the day's ratio goes, the month's comes.
    spend = { todayUsd: 9, monthUsd: 50, dailyCapUsd: null, monthlyCapUsd: 200 };
    await clock.advance(15_000);
    families = parsePrometheusText(await metrics.render());
    expect(value(families, 'cron_agents_budget_spent_ratio', { window: 'day' })).toBeUndefined();
    expect(value(families, 'cron_agents_budget_spent_ratio', { scope: 'deployment', window: 'month' })).toBe(0.25);
  });

  it('reads the spend the store reports (the same as the global stats)', async () => {
    const app = await open();
    const families = await scrape(app);
    const { spend } = await app.app.store.globalStats(app.clock.now() - 86_400_000, app.clock.now());
    expect(value(families, 'cron_agents_budget_spent_usd', { scope: 'deployment', window: 'day' })).toBe(spend.todayUsd);
    expect(value(families, 'cron_agents_budget_spent_usd', { scope: 'deployment', window: 'month' })).toBe(spend.monthUsd);
  });
});

describe('database errors', () => {
  it('a failed round of a background loop counts, by loop', async () => {
    const clock = new FakeClock();
    const metrics = new Metrics({
      clock,
      logger: silentLogger,
      store: { deploymentCounts: async () => ({ agentsEnabled: 0, runsQueued: 0, spend: NO_SPEND }) },
    });
    let rounds = 0;
    const loop = new BackgroundLoop({
      clock,
      logger: silentLogger,
      name: 'scheduler pass',
      round: async () => {
        rounds++;
        throw new Error('SQLITE_BUSY: database is locked');
      },
      intervalMs: 1_000,
      roundAtStart: true,
      metrics,
    });
    loop.start();
    await clock.advance(2_500);
    await loop.stop();
    expect(rounds).toBe(3);
    expect(value(parsePrometheusText(await metrics.render()), 'cron_agents_database_errors_total', { loop: 'scheduler pass' })).toBe(3);
  });
});

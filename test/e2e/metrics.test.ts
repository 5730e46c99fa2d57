import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fake-anthropic/fake-anthropic-server.js';
import { disposeServer, startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';

/**
 * /metrics of the built server after one real run: the Agent SDK and its `claude` binary against
 * the fake Anthropic API. The counters must agree with the run the API recorded.
 */

const METRICS_TOKEN = `metrics-${'0123456789abcdef'.repeat(3)}`;

interface RunJson {
  id: string;
  status: string;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  durationMs: number | null;
}

let fake: FakeAnthropic;
let server: ServerProcess;

async function scrape(token: string): Promise<{ status: number; text: string; contentType: string | null }> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, text: await response.text(), contentType: response.headers.get('content-type') };
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
  server = await startServerProcess({
    env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-test-key', CRON_AGENTS_METRICS_TOKEN: METRICS_TOKEN },
  });
}, 60_000);

afterAll(async () => {
  if (server) {
    await disposeServer(server);
  }
  await fake?.close();
}, 60_000);

describe('/metrics of the running service', () => {
  it('counts a real run: started, ended, its cost and tokens; only the metrics token may read it', { timeout: 90_000 }, async () => {
    // The admin's API token is refused while CRON_AGENTS_METRICS_TOKEN is set.
    expect((await scrape(server.token)).status).toBe(401);
    const before = await scrape(METRICS_TOKEN);
    expect(before.status).toBe(200);
    expect(before.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(sampleValue(parsePrometheusText(before.text), 'cron_agents_runs_started_total', { trigger: 'manual' })).toBe(0);

    const created = await server.request<{ data: { id: string } }>('POST', '/api/agents', {
      name: 'metered',
      schedule: '0 0 1 1 *',
      prompt: 'Say hello. [[fake: text="Hello" input_tokens=1000 output_tokens=200 cache_read=300 cache_creation=40]]',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const agentId = created.body.data.id;
    const started = await server.request<{ runId: string }>('POST', `/api/agents/${agentId}/run`);
    expect(started.status).toBe(200);
    const run = await waitFor(
      async () => {
        const runs = (await server.request<{ data: RunJson[] }>('GET', `/api/agents/${agentId}/runs`)).body.data;
        const found = runs.find((r) => r.id === started.body.runId);
        return found && found.status !== 'queued' && found.status !== 'running' ? found : undefined;
      },
      60_000,
      'the run to end',
    );
    expect(run.status).toBe('success');

    const families = parsePrometheusText((await scrape(METRICS_TOKEN)).text);
    const value = (name: string, labels: Record<string, string> = {}) => sampleValue(families, name, labels);
    expect(value('cron_agents_runs_started_total', { trigger: 'manual' })).toBe(1);
    expect(value('cron_agents_runs_ended_total', { status: 'success', trigger: 'manual' })).toBe(1);
    expect(value('cron_agents_runs_running')).toBe(0);
    expect(value('cron_agents_cost_usd_total')).toBeCloseTo(run.costUsd, 10);
    expect(run.costUsd).toBeGreaterThan(0);
    expect(value('cron_agents_tokens_total', { kind: 'output' })).toBe(run.outputTokens);
    expect(value('cron_agents_tokens_total', { kind: 'cache_read' })).toBe(run.cacheReadInputTokens);
    expect(value('cron_agents_tokens_total', { kind: 'cache_creation' })).toBe(run.cacheCreationInputTokens);
    expect(value('cron_agents_tokens_total', { kind: 'input' })).toBe(run.inputTokens - run.cacheReadInputTokens - run.cacheCreationInputTokens);
    expect(value('cron_agents_run_duration_seconds_count', { status: 'success' })).toBe(1);
    expect(value('cron_agents_run_duration_seconds_sum', { status: 'success' })).toBeCloseTo(run.durationMs! / 1000, 3);
    // Read from the database at most every 15 s: the first scrape's figure (0) or, on a slow machine, a newer one.
    expect([0, 1]).toContain(value('cron_agents_agents_enabled'));
    expect(value('process_cpu_seconds_total')).toBeGreaterThan(0);
  });
});

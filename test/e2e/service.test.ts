import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fake-anthropic/fake-anthropic-server.js';
import { disposeServer, processesMatching, startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';

/**
 * The built server as a child process, the real Agent SDK and its `claude` binary, and the fake
 * Anthropic Messages API: no mocks between the HTTP API and the model.
 */
const FINAL = new Set(['success', 'error', 'budget_exceeded', 'cancelled']);

/** The API's `{ data }` envelope and the parts of its documents these tests read. */
interface Data<T> {
  data: T;
}
interface RunJson {
  id: string;
  status: string;
  trigger: string;
  scheduledFor: string | null;
  output: string | null;
  queuedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  durationMs: number | null;
  costUsd: number;
  inputTokens: number;
  numTurns: number;
}

let fake: FakeAnthropic;
let server: ServerProcess;
const servers: ServerProcess[] = [];

function modelEnv(): Record<string, string> {
  return { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-test-key', CRON_AGENTS_MAX_CONCURRENT_RUNS: '4' };
}

async function createAgent(s: ServerProcess, body: Record<string, unknown>): Promise<{ id: string }> {
  const response = await s.request<Data<{ id: string }>>('POST', '/api/agents', { schedule: '0 0 1 1 *', ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.data;
}

async function runNow(s: ServerProcess, agentId: string): Promise<string> {
  const response = await s.request<{ message: string; runId: string }>('POST', `/api/agents/${agentId}/run`);
  expect(response.status).toBe(200);
  expect(response.body.message).toBe('Agent started');
  return response.body.runId;
}

async function runOf(s: ServerProcess, agentId: string, runId: string): Promise<RunJson | undefined> {
  const response = await s.request<Data<RunJson[]>>('GET', `/api/agents/${agentId}/runs`);
  return response.body.data.find((r) => r.id === runId);
}

async function finalRun(s: ServerProcess, agentId: string, runId: string, timeoutMs = 60_000): Promise<RunJson> {
  return waitFor(
    async () => {
      const run = await runOf(s, agentId, runId);
      return run && FINAL.has(run.status) ? run : undefined;
    },
    timeoutMs,
    `run ${runId} to end`,
  );
}

function workspaceOf(s: ServerProcess, agentId: string): string {
  return path.join(s.dataDir, 'workspaces', agentId);
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
  server = await startServerProcess({ env: modelEnv() });
  servers.push(server);
}, 60_000);

afterAll(async () => {
  for (const s of servers) {
    await disposeServer(s);
  }
  await fake?.close();
}, 60_000);

describe('the service with the real Agent SDK', () => {
  it('records a successful run with its output, cost and tokens', { timeout: 90_000 }, async () => {
    const agent = await createAgent(server, {
      name: 'success',
      prompt: 'Say hello. [[fake: text="Hello from the fake model" input_tokens=1000 output_tokens=200 cache_read=300 cache_creation=40]]',
    });
    const runId = await runNow(server, agent.id);
    // The row exists before the SDK is called: visible at once.
    const early = await runOf(server, agent.id, runId);
    expect(['queued', 'running', 'success']).toContain(early?.status);
    const run = await finalRun(server, agent.id, runId);
    expect(run).toMatchObject({
      status: 'success',
      trigger: 'manual',
      scheduledFor: null,
      output: 'Hello from the fake model',
      inputTokens: 1340,
      outputTokens: 200,
      cacheReadInputTokens: 300,
      cacheCreationInputTokens: 40,
      numTurns: 1,
    });
    expect(run.costUsd).toBeGreaterThan(0);
    expect(run.durationMs).toBeGreaterThan(0);
    expect(Date.parse(run.completedAt!) - Date.parse(run.startedAt!)).toBe(run.durationMs);
    const agentNow = (await server.request<Data<{ lastStatus: string | null; lastRunAt: string | null }>>('GET', `/api/agents/${agent.id}`)).body.data;
    expect(agentNow.lastStatus).toBe('success');
    expect(agentNow.lastRunAt).toBe(run.startedAt);
    const stats = (await server.request<Data<unknown>>('GET', `/api/agents/${agent.id}/stats`)).body.data;
    expect(stats).toMatchObject({ totalRuns: 1, successRate: 100, totalCostUsd: run.costUsd });
  });

  it('runs tools over several turns, and stops at the budget as budget_exceeded', { timeout: 90_000 }, async () => {
    const agent = await createAgent(server, {
      name: 'budget',
      prompt: '[[fake: tool_turns=5 input_tokens=200000 output_tokens=1000]]',
      allowedTools: ['Bash'],
      maxBudgetUsd: 0.0001,
    });
    const run = await finalRun(server, agent.id, await runNow(server, agent.id));
    expect(run.status).toBe('budget_exceeded');
    expect(run.costUsd).toBeGreaterThan(0.0001);
    expect(run.inputTokens).toBeGreaterThanOrEqual(200000);
    expect(run.output).toMatch(/budget/i);
  });

  it('ends a run that reaches its turn limit as error', { timeout: 90_000 }, async () => {
    const agent = await createAgent(server, {
      name: 'turns',
      prompt: '[[fake: tool_turns=5 text="never reached"]]',
      allowedTools: ['Bash'],
      maxTurns: 2,
    });
    const run = await finalRun(server, agent.id, await runNow(server, agent.id));
    expect(run.status).toBe('error');
    expect(run.output).toMatch(/turn limit \(2\)/);
    expect(run.numTurns).toBeGreaterThanOrEqual(2);
  });

  it('records an API error as error with its message', { timeout: 90_000 }, async () => {
    const agent = await createAgent(server, {
      name: 'api-error',
      prompt: '[[fake: error=400 error_message="the fake upstream refused this request"]]',
    });
    const run = await finalRun(server, agent.id, await runNow(server, agent.id));
    expect(run.status).toBe('error');
    expect(run.output).toContain('the fake upstream refused this request');
  });

  it('cancels a run: the claude process and its children are gone, the run is cancelled', { timeout: 150_000 }, async () => {
    const agent = await createAgent(server, {
      name: 'slow',
      prompt: '[[fake: sleep=300 input_tokens=1000 output_tokens=100]]',
      allowedTools: ['Bash'],
    });
    const runId = await runNow(server, agent.id);
    const workspace = workspaceOf(server, agent.id);
    // Wait until the Bash tool is really running `sleep 300` in the agent's workspace.
    await waitFor(async () => (processesMatching(workspace, 'sleep 300').length > 0 ? true : undefined), 45_000, 'the agent to start sleeping');
    expect((await runOf(server, agent.id, runId))?.status).toBe('running');
    const running = (await server.request<Data<{ runningAgentIds: string[] }>>('GET', '/api/agents/stats')).body.data.runningAgentIds;
    expect(running).toContain(agent.id);

    const cancel = await server.request('POST', `/api/agents/${agent.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toEqual({ success: true, message: 'Cancelled 1 running execution(s)', cancelledCount: 1 });
    // The tool sleeps 300 s: a run that ends within these waits was stopped, not finished.
    const run = await finalRun(server, agent.id, runId, 30_000);
    expect(run.status).toBe('cancelled');
    expect(run.inputTokens).toBeGreaterThanOrEqual(1000);
    expect(run.costUsd).toBeGreaterThan(0);
    await waitFor(async () => (processesMatching(workspace).length === 0 ? true : undefined), 30_000, 'no process left in the workspace');
    expect(processesMatching(workspace)).toEqual([]);
    const again = await server.request('POST', `/api/agents/${agent.id}/cancel`);
    expect(again.status).toBe(404);
  });

  it('fires a seconds-cron agent on schedule', { timeout: 90_000 }, async () => {
    const agent = await createAgent(server, { name: 'every-2s', schedule: '*/2 * * * * *', prompt: '[[fake: text="tick"]]' });
    const runs = await waitFor(
      async () => {
        const list = (await server.request<Data<RunJson[]>>('GET', `/api/agents/${agent.id}/runs`)).body.data;
        const done = list.filter((r) => r.trigger === 'schedule' && r.status === 'success');
        return done.length >= 2 ? list : undefined;
      },
      60_000,
      'two scheduled runs',
    );
    await server.request('PATCH', `/api/agents/${agent.id}`, { enabled: false });
    // Each run is queued for a slot of the schedule, never before it, and in slot order; how late
    // after it is the benchmark's concern (bench/RESULTS.md), not a test's on a busy machine.
    const scheduled = runs.filter((r) => r.trigger === 'schedule').sort((x, y) => Date.parse(x.scheduledFor!) - Date.parse(y.scheduledFor!));
    for (const run of scheduled) {
      const slot = Date.parse(run.scheduledFor!);
      expect(slot % 2000).toBe(0);
      expect(Date.parse(run.queuedAt)).toBeGreaterThanOrEqual(slot);
    }
    const queued = scheduled.map((r) => Date.parse(r.queuedAt));
    expect(queued).toEqual([...queued].sort((x, y) => x - y));
    // One run per slot.
    const slots = scheduled.map((r) => r.scheduledFor);
    expect(new Set(slots).size).toBe(slots.length);
    const after = (await server.request<Data<{ enabled: boolean; nextRunAt: string | null }>>('GET', `/api/agents/${agent.id}`)).body.data;
    expect(after.enabled).toBe(false);
    expect(after.nextRunAt).toBeNull();
  });

  it('after kill -9 mid-run, the restarted service ends that run as error', { timeout: 120_000 }, async () => {
    const first = await startServerProcess({ env: modelEnv() });
    servers.push(first);
    const agent = await createAgent(first, { name: 'crash', prompt: '[[fake: sleep=301]]', allowedTools: ['Bash'] });
    const runId = await runNow(first, agent.id);
    const workspace = workspaceOf(first, agent.id);
    // A Bash tool call runs in a session of its own: it outlives a kill -9 of the service.
    await waitFor(
      async () => (processesMatching('sleep 301').some((pid) => processesMatching(workspace).includes(pid)) ? true : undefined),
      45_000,
      'the tool to run',
    );
    expect((await runOf(first, agent.id, runId))?.status).toBe('running');
    await first.kill();
    expect(processesMatching(workspace).length).toBeGreaterThan(0);

    const second = await startServerProcess({ env: modelEnv(), dataDir: first.dataDir, token: first.token });
    servers.push(second);
    const run = await runOf(second, agent.id, runId);
    expect(run?.status).toBe('error');
    expect(run?.output).toMatch(/service stopped during the run/);
    expect(run?.completedAt).not.toBeNull();
    // What the killed service left running is stopped by the restart's recovery.
    await waitFor(async () => (processesMatching(workspace).length === 0 ? true : undefined), 10_000, 'the orphans to be gone');
  });
});

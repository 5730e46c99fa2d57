import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fake-anthropic/fake-anthropic-server.js';
import { disposeServer, processesMatching, startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';

/**
 * Restarts lose nothing (issue 11), with the built server, the real Agent SDK and the fake model:
 * runs still queued when the service stops start after it comes back, whether it was stopped
 * (SIGTERM) or killed (kill -9); a run interrupted by the kill ends as error and is retried.
 * One run at a time, so that queued runs are really queued when the service goes down.
 */

interface Data<T> {
  data: T;
}
interface RunJson {
  id: string;
  status: string;
  trigger: string;
  scheduledFor: string | null;
  output: string | null;
  retryOf: string | null;
  attempt: number;
  skippedSlots: number | null;
}

const FINAL = new Set(['success', 'error', 'budget_exceeded', 'cancelled', 'skipped']);

let fake: FakeAnthropic;
const servers: ServerProcess[] = [];

function env(): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-test-key',
    CRON_AGENTS_MAX_CONCURRENT_RUNS: '1',
    CRON_AGENTS_SHUTDOWN_GRACE_MS: '90000',
  };
}

async function start(from?: ServerProcess): Promise<ServerProcess> {
  const server = await startServerProcess({ env: env(), ...(from ? { dataDir: from.dataDir, token: from.token } : {}) });
  servers.push(server);
  return server;
}

async function createAgent(s: ServerProcess, body: Record<string, unknown>): Promise<{ id: string }> {
  const response = await s.request<Data<{ id: string }>>('POST', '/api/agents', { schedule: '0 0 1 1 *', ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.data;
}

async function runNow(s: ServerProcess, agentId: string): Promise<string> {
  const response = await s.request<{ runId: string }>('POST', `/api/agents/${agentId}/run`);
  expect(response.status).toBe(200);
  return response.body.runId;
}

async function runsOf(s: ServerProcess, agentId: string): Promise<RunJson[]> {
  return (await s.request<Data<RunJson[]>>('GET', `/api/agents/${agentId}/runs`)).body.data;
}

async function runOf(s: ServerProcess, agentId: string, runId: string): Promise<RunJson | undefined> {
  return (await runsOf(s, agentId)).find((r) => r.id === runId);
}

async function finalRun(s: ServerProcess, agentId: string, runId: string): Promise<RunJson> {
  return waitFor(
    async () => {
      const run = await runOf(s, agentId, runId);
      return run && FINAL.has(run.status) ? run : undefined;
    },
    90_000,
    `run ${runId} to end`,
  );
}

/**
 * A seconds-cron agent whose first slot queues behind the run in progress: created, left to fire
 * once, then disabled (a queued run stays queued when its agent is disabled). Its id and the
 * queued run's id.
 */
async function queuedScheduledRun(s: ServerProcess): Promise<{ agentId: string; runId: string }> {
  const agent = await createAgent(s, { name: `ticker-${servers.length}`, schedule: '* * * * * *', prompt: '[[fake: text="slot done"]]' });
  const run = await waitFor(
    async () => (await runsOf(s, agent.id)).find((r) => r.trigger === 'schedule' && r.status === 'queued'),
    30_000,
    'a scheduled run to be queued',
  );
  expect((await s.request('PATCH', `/api/agents/${agent.id}`, { enabled: false })).status).toBe(200);
  return { agentId: agent.id, runId: run.id };
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
}, 60_000);

afterAll(async () => {
  // All stopped before any data dir goes: a restarted service shares its predecessor's.
  for (const s of servers) await s.stop();
  for (const s of servers) await disposeServer(s);
  await fake?.close();
}, 60_000);

describe('restarts lose nothing', () => {
  it('after a SIGTERM, queued manual and scheduled runs start when the service is back', { timeout: 240_000 }, async () => {
    const first = await start();
    const blocker = await createAgent(first, { name: 'blocker', prompt: '[[fake: sleep=3 text="blocker done"]]', allowedTools: ['Bash'] });
    const blockerRun = await runNow(first, blocker.id);
    await waitFor(async () => ((await runOf(first, blocker.id, blockerRun))?.status === 'running' ? true : undefined), 30_000, 'the blocker to run');
    const scheduled = await queuedScheduledRun(first);
    const quick = await createAgent(first, { name: 'quick', prompt: '[[fake: text="manual done"]]' });
    const manualRun = await runNow(first, quick.id);
    expect((await runOf(first, quick.id, manualRun))?.status).toBe('queued');

    // A graceful stop lets the running run finish, and starts nothing new.
    expect(await first.stop()).toBe(0);
    const second = await start(first);
    expect(await finalRun(second, blocker.id, blockerRun)).toMatchObject({ status: 'success', output: 'blocker done' });
    expect(await finalRun(second, quick.id, manualRun)).toMatchObject({ status: 'success', trigger: 'manual', output: 'manual done' });
    expect(await finalRun(second, scheduled.agentId, scheduled.runId)).toMatchObject({ status: 'success', trigger: 'schedule', output: 'slot done' });
    expect(second.output()).not.toMatch(/stopped before the run could start/);
  });

  it('after kill -9, queued runs start, and the interrupted run ends as error and is retried', { timeout: 240_000 }, async () => {
    const first = await start();
    // The first attempt leaves a mark in its workspace and sleeps; the retry finds the mark and answers.
    const flaky = await createAgent(first, {
      name: 'interrupted',
      maxRetries: 1,
      retryDelaySeconds: 1,
      allowedTools: ['Bash'],
      prompt: '[[fake: tool_turns=1 command="test -f started || { touch started; echo sleeping; sleep 300; }" text="finished on retry"]]',
    });
    const interrupted = await runNow(first, flaky.id);
    const workspace = path.join(first.dataDir, 'workspaces', flaky.id);
    await waitFor(
      async () => (processesMatching('sleep 300').some((pid) => processesMatching(workspace).includes(pid)) ? true : undefined),
      45_000,
      'the first attempt to sleep',
    );
    const scheduled = await queuedScheduledRun(first);
    const quick = await createAgent(first, { name: 'quick', prompt: '[[fake: text="manual done"]]' });
    const manualRun = await runNow(first, quick.id);
    await first.kill();

    const second = await start(first);
    const ended = await runOf(second, flaky.id, interrupted);
    expect(ended).toMatchObject({ status: 'error' });
    expect(ended?.output).toMatch(/service stopped during the run/);
    const retry = await waitFor(async () => (await runsOf(second, flaky.id)).find((r) => r.trigger === 'retry'), 30_000, 'the retry');
    expect(retry).toMatchObject({ retryOf: interrupted, attempt: 2 });
    expect(await finalRun(second, flaky.id, retry.id)).toMatchObject({ status: 'success', output: 'finished on retry' });
    expect(await finalRun(second, quick.id, manualRun)).toMatchObject({ status: 'success', output: 'manual done' });
    expect(await finalRun(second, scheduled.agentId, scheduled.runId)).toMatchObject({ status: 'success', trigger: 'schedule' });
    // Exactly one retry: the chain ended with its success.
    expect((await runsOf(second, flaky.id)).map((r) => [r.trigger, r.attempt, r.status]).sort()).toEqual([
      ['manual', 1, 'error'],
      ['retry', 2, 'success'],
    ]);
    await waitFor(async () => (processesMatching(workspace).length === 0 ? true : undefined), 15_000, 'the killed run to leave no process');
  });
});

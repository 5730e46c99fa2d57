import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../support/dialects.js';
import { startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';

/**
 * Several instances of the built service on one PostgreSQL database. The runs use a runner that
 * sleeps instead of calling the model (test/fixtures), so that many fast runs on several
 * instances fit on this machine; the store, scheduler, executor, leases and API are production code.
 */
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/serve-with-fake-runner.mjs');
const FINAL = new Set(['success', 'error', 'budget_exceeded', 'cancelled']);

interface RunJson {
  id: string;
  status: string;
  trigger: string;
  scheduledFor: string | null;
  output: string | null;
  queuedAt: string;
  startedAt: string | null;
  completedAt: string | null;
  executorId: string | null;
}

async function createDatabase(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `cron_agents_multi_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

describe.skipIf(!TEST_DATABASE_URL)('several instances on one PostgreSQL database', () => {
  let database: { url: string; drop: () => Promise<void> };
  const started: ServerProcess[] = [];
  const token = `multi-${randomBytes(24).toString('hex')}`;

  async function instance(env: Record<string, string> = {}): Promise<ServerProcess> {
    const server = await startServerProcess({
      script: FIXTURE,
      token,
      env: { DATABASE_URL: database.url, CRON_AGENTS_LEASE_MS: '3000', CRON_AGENTS_MAX_CONCURRENT_RUNS: '4', ...env },
    });
    started.push(server);
    return server;
  }

  async function runsOf(server: ServerProcess, agentId: string): Promise<RunJson[]> {
    const response = await server.request('GET', `/api/agents/${agentId}/runs?limit=1000`);
    expect(response.status).toBe(200);
    return response.body.data as RunJson[];
  }

  beforeAll(async () => {
    database = await createDatabase(TEST_DATABASE_URL!);
  });

  afterAll(async () => {
    for (const server of started) {
      await server.kill();
      fs.rmSync(server.dataDir, { recursive: true, force: true });
    }
    await database?.drop();
  }, 60_000);

  it(
    'fires each slot of each agent exactly once across 3 instances, one killed half-way',
    { timeout: 120_000 },
    async () => {
      // Start them together: migrations race and must serialise.
      const [a, b, c] = await Promise.all([instance(), instance(), instance()]);
      const agents: string[] = [];
      for (let i = 0; i < 20; i++) {
        const response = await a!.request('POST', '/api/agents', { name: `multi-${i}`, schedule: '*/2 * * * * *', prompt: 'p' });
        expect(response.status).toBe(200);
        agents.push(response.body.data.id);
      }
      const since = Date.now();

      // Half-way, kill one instance while it is executing a run.
      await new Promise((resolve) => setTimeout(resolve, 12_000));
      await waitFor(
        async () => {
          for (const id of agents) {
            const runs = await runsOf(a!, id);
            if (runs.some((r) => r.status === 'running' && r.executorId === c!.instanceId)) return true;
          }
          return undefined;
        },
        20_000,
        'instance C to be executing a run',
      );
      await c!.kill();
      const killedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 15_000));

      // Stop the schedule through the other survivor, then let everything settle.
      for (const id of agents) expect((await b!.request('PATCH', `/api/agents/${id}`, { enabled: false })).status).toBe(200);
      const until = Date.now();
      await waitFor(
        async () => {
          for (const id of agents) if ((await runsOf(b!, id)).some((r) => !FINAL.has(r.status))) return undefined;
          return true;
        },
        20_000,
        'every run to end',
      );

      let total = 0;
      let lostRuns = 0;
      const executors = new Set<string>();
      for (const id of agents) {
        const runs = (await runsOf(a!, id)).filter((r) => r.trigger === 'schedule');
        const slots = runs.map((r) => Date.parse(r.scheduledFor!)).sort((x, y) => x - y);
        // No slot twice.
        expect(new Set(slots).size).toBe(slots.length);
        // Every slot that came due while the agent was enabled has its run, unless the agent still
        // had a run in progress then (the overlap rule skips such ticks, and says so in the logs).
        const first = Math.ceil((since + 100) / 2000) * 2000;
        for (let slot = first; slot <= until - 1500; slot += 2000) {
          if (slots.includes(slot)) continue;
          const busy = runs.some((r) => Date.parse(r.queuedAt) <= slot && (r.completedAt === null || Date.parse(r.completedAt) >= slot));
          expect(busy, `agent ${id}: slot ${new Date(slot).toISOString()} has no run and no run in progress`).toBe(true);
        }
        for (const run of runs) {
          expect(FINAL.has(run.status)).toBe(true);
          if (run.executorId) executors.add(run.executorId);
          if (run.executorId === c!.instanceId && run.status === 'error') {
            lostRuns++;
            expect(run.output).toMatch(/lost its executor/);
            // Ended by a survivor once the 3 s lease ran out, not before.
            expect(Date.parse(run.completedAt!)).toBeGreaterThanOrEqual(killedAt);
          }
        }
        total += runs.length;
      }
      expect(lostRuns).toBeGreaterThanOrEqual(1);
      // The work was spread over all three instances.
      expect(executors).toEqual(new Set([a!.instanceId, b!.instanceId, c!.instanceId]));
      expect(total).toBeGreaterThan(20 * 10);

      // Stats are the same whichever instance answers.
      const statsA = (await a!.request('GET', '/api/agents/stats')).body.data;
      const statsB = (await b!.request('GET', '/api/agents/stats')).body.data;
      expect(statsA).toEqual(statsB);
      expect(statsA.runsInPeriod).toBe(total);
    },
  );

  it('cancels through one instance a run that another executes, within 2 seconds', { timeout: 60_000 }, async () => {
    // Only these two instances: no other executor may claim the run.
    for (const server of started) await server.stop();
    // With the default 30 s lease the heartbeat comes every 5 s: only the notification is fast enough.
    const executor = await instance({ FAKE_RUN_MS: '60000', CRON_AGENTS_LEASE_MS: '30000' });
    const apiOnly = await instance({ CRON_AGENTS_RUNNER: 'false', CRON_AGENTS_LEASE_MS: '30000' });
    const created = await apiOnly.request('POST', '/api/agents', { name: 'cross-cancel', schedule: '0 0 1 1 *', prompt: 'p' });
    const agentId = created.body.data.id as string;
    const triggered = await apiOnly.request('POST', `/api/agents/${agentId}/run`);
    const runId = triggered.body.runId as string;
    await waitFor(
      async () => {
        const run = (await runsOf(apiOnly, agentId)).find((r) => r.id === runId);
        return run?.status === 'running' ? run : undefined;
      },
      20_000,
      'the run to start on the executor',
    );
    expect((await runsOf(apiOnly, agentId)).find((r) => r.id === runId)!.executorId).toBe(executor.instanceId);
    const running = (await apiOnly.request('GET', '/api/agents/stats')).body.data.runningAgentIds;
    expect(running).toContain(agentId);

    const t0 = Date.now();
    const cancel = await apiOnly.request('POST', `/api/agents/${agentId}/cancel`);
    expect(cancel.body).toEqual({ success: true, message: 'Cancelled 1 running execution(s)', cancelledCount: 1 });
    const run = await waitFor(
      async () => {
        const r = (await runsOf(executor, agentId)).find((x) => x.id === runId);
        return r?.status === 'cancelled' ? r : undefined;
      },
      5_000,
      'the run to be cancelled',
    );
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(run.output).toBe('Cancelled');
  });
});

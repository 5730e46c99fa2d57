import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from '../support/dialects.js';
import { createScratchDatabase } from '../support/scratch-database.js';
import { startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';

/**
 * Several instances of the built service on one PostgreSQL database. The runs use a runner that
 * sleeps instead of calling the model (test/fixtures), so that many fast runs on several
 * instances fit on this machine; the store, scheduler, executor, leases and API are production code.
 */
const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/serve-with-fake-runner.mjs');
const FINAL = new Set(['success', 'error', 'budget_exceeded', 'cancelled', 'skipped']);

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
  skippedSlots: number | null;
  lastSkippedFor: string | null;
}

/** The API's `{ data }` envelope and the parts of its documents these tests read. */
interface Data<T> {
  data: T;
}
interface GlobalStatsJson {
  runsInPeriod: number;
  skippedRuns: number;
  runningAgentIds: string[];
}

/**
 * Makes the database ignore (a BEFORE trigger returning null) every lease renewal of a running run
 * whose cancel was requested: the executor's heartbeat then sees it as a lost lease, never as a cancel.
 */
async function hideCancelsFromHeartbeats(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`
      create or replace function hide_cancel_from_heartbeat() returns trigger language plpgsql as $$
      begin
        if new.status = 'running' and new.cancel_requested = 1 and new.lease_expires_at is not null then return null; end if;
        return new;
      end $$`);
    await client.query(`
      create or replace trigger hide_cancel_from_heartbeat before update of lease_expires_at on runs
      for each row execute function hide_cancel_from_heartbeat()`);
  } finally {
    await client.end();
  }
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
    const response = await server.request<Data<RunJson[]>>('GET', `/api/agents/${agentId}/runs?limit=1000`);
    expect(response.status).toBe(200);
    return response.body.data;
  }

  beforeAll(async () => {
    database = await createScratchDatabase(TEST_DATABASE_URL!, 'cron_agents_multi');
  });

  afterAll(async () => {
    for (const server of started) {
      await server.kill();
      fs.rmSync(server.dataDir, { recursive: true, force: true });
    }
    await database?.drop();
  }, 60_000);

  it('fires each slot of each agent exactly once across 3 instances, one killed half-way', { timeout: 120_000 }, async () => {
    // Start them together: migrations race and must serialise.
    const [a, b, c] = await Promise.all([instance(), instance(), instance()]);
    const agents: string[] = [];
    for (let i = 0; i < 20; i++) {
      const response = await a.request<Data<{ id: string }>>('POST', '/api/agents', { name: `multi-${i}`, schedule: '*/2 * * * * *', prompt: 'p' });
      expect(response.status).toBe(200);
      agents.push(response.body.data.id);
    }
    const since = Date.now();

    // Half-way, kill one instance while it is executing a run.
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await waitFor(
      async () => {
        for (const id of agents) {
          const runs = await runsOf(a, id);
          if (runs.some((r) => r.status === 'running' && r.executorId === c.instanceId)) return true;
        }
        return undefined;
      },
      20_000,
      'instance C to be executing a run',
    );
    await c.kill();
    const killedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 15_000));

    // Stop the schedule through the other survivor, then let everything settle.
    for (const id of agents) expect((await b.request('PATCH', `/api/agents/${id}`, { enabled: false })).status).toBe(200);
    await waitFor(
      async () => {
        for (const id of agents) if ((await runsOf(b, id)).some((r) => !FINAL.has(r.status))) return undefined;
        return true;
      },
      20_000,
      'every run to end',
    );

    let total = 0;
    let skippedRows = 0;
    let lostRuns = 0;
    const executors = new Set<string>();
    for (const id of agents) {
      const all = (await runsOf(a, id)).filter((r) => r.trigger === 'schedule');
      // Slots that did not run are skipped rows (one per cause, standing for skippedSlots slots from scheduledFor to lastSkippedFor).
      const skipped = all.filter((r) => r.status === 'skipped');
      const runs = all.filter((r) => r.status !== 'skipped');
      skippedRows += skipped.length;
      const slots = runs.map((r) => Date.parse(r.scheduledFor!)).sort((x, y) => x - y);
      // No slot twice.
      expect(new Set(slots).size).toBe(slots.length);
      // No slot left out: from the first slot after the agents existed to the last slot that fired
      // (a later one may have come due while the disabling request was on its way, and is
      // rightly skipped), each slot has its run, unless the agent still had a run in progress then
      // (the overlap rule skips such ticks, and says so in the logs).
      const first = Math.ceil((since + 1) / 2000) * 2000;
      const lastFired = slots.at(-1) ?? 0;
      expect(lastFired, `agent ${id}: no slot fired after ${new Date(first).toISOString()}`).toBeGreaterThanOrEqual(first);
      for (let slot = first; slot <= lastFired; slot += 2000) {
        if (slots.includes(slot)) continue;
        const busy = runs.some((r) => Date.parse(r.queuedAt) <= slot && (r.completedAt === null || Date.parse(r.completedAt) >= slot));
        expect(busy, `agent ${id}: slot ${new Date(slot).toISOString()} has no run and no run in progress`).toBe(true);
        // No silent skips: the slot is in a skipped row.
        const recorded = skipped.some((r) => Date.parse(r.scheduledFor!) <= slot && slot <= Date.parse(r.lastSkippedFor!));
        expect(recorded, `agent ${id}: slot ${new Date(slot).toISOString()} did not run and is in no skipped row`).toBe(true);
      }
      for (const row of skipped) {
        expect(row.skippedSlots).toBeGreaterThanOrEqual(1);
        expect(Date.parse(row.lastSkippedFor!)).toBeGreaterThanOrEqual(Date.parse(row.scheduledFor!));
        expect(row.output).toMatch(/^Skipped: the agent's previous run \S+ was still (running|waiting to start)/);
      }
      for (const run of runs) {
        expect(FINAL.has(run.status)).toBe(true);
        if (run.executorId) executors.add(run.executorId);
        if (run.executorId === c.instanceId && run.status === 'error') {
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
    expect(executors).toEqual(new Set([a.instanceId, b.instanceId, c.instanceId]));
    expect(total).toBeGreaterThan(20 * 10);

    // Stats are the same whichever instance answers.
    const statsA = (await a.request<Data<GlobalStatsJson>>('GET', '/api/agents/stats')).body.data;
    const statsB = (await b.request<Data<GlobalStatsJson>>('GET', '/api/agents/stats')).body.data;
    expect(statsA).toEqual(statsB);
    expect(statsA.runsInPeriod).toBe(total);
    expect(statsA.skippedRuns).toBe(skippedRows);
  });

  it('cancels through one instance a run that another executes: the notification carries it', { timeout: 60_000 }, async () => {
    // Only these two instances: no other executor may claim the run.
    for (const server of started) await server.stop();
    const executor = await instance({ FAKE_RUN_MS: '60000', CRON_AGENTS_LEASE_MS: '30000' });
    const apiOnly = await instance({ CRON_AGENTS_RUNNER: 'false', CRON_AGENTS_LEASE_MS: '30000' });
    // The executor's heartbeat also picks up cancel requests (the fallback to notifications). Here
    // the database drops any lease renewal of a run whose cancel was requested, so the heartbeat can
    // only ever end it as a lost lease: a run that ends 'Cancelled' heard of it by notification,
    // however slow this machine is.
    await hideCancelsFromHeartbeats(database.url);
    const created = await apiOnly.request<Data<{ id: string }>>('POST', '/api/agents', { name: 'cross-cancel', schedule: '0 0 1 1 *', prompt: 'p' });
    const agentId = created.body.data.id;
    const triggered = await apiOnly.request<{ runId: string }>('POST', `/api/agents/${agentId}/run`);
    const runId = triggered.body.runId;
    await waitFor(
      async () => {
        const run = (await runsOf(apiOnly, agentId)).find((r) => r.id === runId);
        return run?.status === 'running' ? run : undefined;
      },
      20_000,
      'the run to start on the executor',
    );
    expect((await runsOf(apiOnly, agentId)).find((r) => r.id === runId)!.executorId).toBe(executor.instanceId);
    const running = (await apiOnly.request<Data<GlobalStatsJson>>('GET', '/api/agents/stats')).body.data.runningAgentIds;
    expect(running).toContain(agentId);

    const cancel = await apiOnly.request('POST', `/api/agents/${agentId}/cancel`);
    expect(cancel.body).toEqual({ success: true, message: 'Cancelled 1 running execution(s)', cancelledCount: 1 });
    const run = await waitFor(
      async () => {
        const r = (await runsOf(executor, agentId)).find((x) => x.id === runId);
        return r && FINAL.has(r.status) ? r : undefined;
      },
      30_000,
      'the run to end',
    );
    expect(run.status).toBe('cancelled');
    expect(run.output).toBe('Cancelled');
  });
});

import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fake-anthropic/fake-anthropic-server.js';
import { TEST_DATABASE_URL } from '../support/dialects.js';
import { createScratchDatabase } from '../support/scratch-database.js';
import { disposeServer, startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * Spend caps end to end: the built server, the real Agent SDK and its `claude` binary against the
 * fake model, whose runs cost the same every time (the usage of each turn is scripted). A run's
 * cost is measured once (calibration); the caps are set in multiples of it.
 */

/** Three turns (two tool calls, then the answer), each with the same usage: a run costs 3 turns. */
const PROMPT = 'Spend some money. [[fake: tool_turns=2 input_tokens=100000 output_tokens=1000 text="spent"]]';
const FINAL = new Set(['success', 'error', 'budget_exceeded', 'cancelled', 'skipped']);
/** Float sums of costs. */
const EPSILON = 1e-9;

interface Data<T> {
  data: T;
}
interface RunJson {
  id: string;
  status: string;
  trigger: string;
  output: string | null;
  costUsd: number;
  numTurns: number;
  executorId: string | null;
}
interface Spend {
  todayUsd: number;
  monthUsd: number;
  dailyCapUsd: number | null;
  monthlyCapUsd: number | null;
}
/** What one run of PROMPT costs, and one turn of it. */
interface Calibration {
  runUsd: number;
  turnUsd: number;
}

let fake: FakeAnthropic;
const servers: ServerProcess[] = [];

function modelEnv(): Record<string, string> {
  return { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-test-key', CRON_AGENTS_MAX_CONCURRENT_RUNS: '4' };
}

async function createAgent(s: ServerProcess, body: Record<string, unknown>): Promise<string> {
  const response = await s.request<Data<{ id: string }>>('POST', '/api/agents', { schedule: '0 0 1 1 *', prompt: PROMPT, allowedTools: ['Bash'], ...body });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.data.id;
}

async function runNow(s: ServerProcess, agentId: string): Promise<string> {
  const response = await s.request<{ runId: string }>('POST', `/api/agents/${agentId}/run`);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body.runId;
}

async function runsOf(s: ServerProcess, agentId: string): Promise<RunJson[]> {
  const response = await s.request<Data<RunJson[]>>('GET', `/api/agents/${agentId}/runs?limit=100`);
  expect(response.status).toBe(200);
  return response.body.data;
}

async function finalRun(s: ServerProcess, agentId: string, runId: string): Promise<RunJson> {
  return waitFor(
    async () => {
      const run = (await runsOf(s, agentId)).find((r) => r.id === runId);
      return run && FINAL.has(run.status) ? run : undefined;
    },
    120_000,
    `run ${runId} to end`,
  );
}

/** Runs PROMPT once on an agent without caps: what a run and a turn cost. */
async function calibrate(s: ServerProcess): Promise<Calibration> {
  const agentId = await createAgent(s, { name: `calibration-${randomBytes(3).toString('hex')}` });
  const run = await finalRun(s, agentId, await runNow(s, agentId));
  expect(run.status, run.output ?? '').toBe('success');
  expect(run.numTurns).toBe(3);
  expect(run.costUsd).toBeGreaterThan(0);
  return { runUsd: run.costUsd, turnUsd: run.costUsd / run.numTurns };
}

/**
 * Fires five runs at once, one of each of `agents` (the same agent five times, or five agents),
 * spread over the servers `on`, waits for all to end, and checks that what they spent stays
 * within `capUsd` plus one turn's overshoot per run that ran, with `perRunUsd` each: 3 run (each
 * stopped at its share), 2 are skipped.
 */
async function fiveAtOnce(on: ServerProcess[], agents: string[], capUsd: number, perRunUsd: number, turnUsd: number, capWording: RegExp): Promise<RunJson[]> {
  expect(agents).toHaveLength(5);
  const ids = await Promise.all(agents.map((agentId, i) => runNow(on[i % on.length]!, agentId)));
  const runs = await Promise.all(ids.map((id, i) => finalRun(on[0]!, agents[i]!, id)));
  const ran = runs.filter((r) => r.status !== 'skipped');
  const skipped = runs.filter((r) => r.status === 'skipped');
  expect(ran.map((r) => r.status).sort()).toEqual(['budget_exceeded', 'budget_exceeded', 'budget_exceeded']);
  expect(skipped).toHaveLength(2);
  for (const run of skipped) {
    expect(run.output).toMatch(capWording);
    expect(run.costUsd).toBe(0);
  }
  for (const run of ran) expect(run.costUsd).toBeLessThanOrEqual(perRunUsd + turnUsd + EPSILON);
  const total = ran.reduce((sum, r) => sum + r.costUsd, 0);
  expect(total).toBeLessThanOrEqual(capUsd + ran.length * turnUsd + EPSILON);
  // Without the reservations all five would have run to their own limit.
  expect(total).toBeLessThan(5 * perRunUsd);
  return runs;
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
}, 60_000);

afterAll(async () => {
  for (const s of servers) {
    await disposeServer(s, 'kill');
  }
  await fake?.close();
}, 60_000);

describe('spend caps with the real Agent SDK (SQLite)', () => {
  let server: ServerProcess;
  let receiver: WebhookReceiver;
  let cost: Calibration;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    server = await startServerProcess({ env: { ...modelEnv(), CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE: 'true' } });
    servers.push(server);
    cost = await calibrate(server);
  }, 180_000);

  afterAll(async () => {
    await receiver?.close();
  });

  it(
    'a daily cap smaller than two runs: the first runs, the second stops at the cap, the third is skipped; the warning is sent once',
    { timeout: 240_000 },
    async () => {
      const cap = 1.5 * cost.runUsd;
      const agentId = await createAgent(server, { name: 'capped', dailyBudgetUsd: cap });
      expect((await server.request('PUT', '/api/budget', { dailyUsd: null, monthlyUsd: null, warnAtPercent: 50 })).status).toBe(200);
      const hook = await server.request('POST', '/api/webhooks', {
        name: 'spend',
        url: `${receiver.url}/spend`,
        events: ['budget.warning', 'budget.exhausted'],
        agentIds: [agentId],
      });
      expect(hook.status, JSON.stringify(hook.body)).toBe(201);

      const first = await finalRun(server, agentId, await runNow(server, agentId));
      expect(first.status).toBe('success');
      expect(first.costUsd).toBeCloseTo(cost.runUsd, 9);
      // 67% of the cap spent: past warnAtPercent (50).
      await receiver.received(1, 20_000);

      const second = await finalRun(server, agentId, await runNow(server, agentId));
      expect(second.status).toBe('budget_exceeded');
      // Started with what was left (half a run); the SDK stops it after the turn that crossed it.
      expect(second.costUsd).toBeGreaterThan(0);
      expect(second.costUsd).toBeLessThanOrEqual(cap - first.costUsd + cost.turnUsd + EPSILON);
      expect(first.costUsd + second.costUsd).toBeLessThanOrEqual(cap + cost.turnUsd + EPSILON);

      const third = await finalRun(server, agentId, await runNow(server, agentId));
      expect(third.status).toBe('skipped');
      expect(third.costUsd).toBe(0);
      const money = (usd: number) =>
        `\\$${usd
          .toFixed(4)
          .replace(/0{1,2}$/, '')
          .replace('.', '\\.')}`;
      expect(third.output).toMatch(
        new RegExp(
          `^Skipped: the agent's daily spend cap of ${money(cap)} is used up \\(${money(first.costUsd + second.costUsd)} spent today, \\d{4}-\\d{2}-\\d{2} \\(UTC\\)\\)$`,
        ),
      );

      const stats = (await server.request<Data<{ spend: Spend }>>('GET', `/api/agents/${agentId}/stats`)).body.data.spend;
      expect(stats.dailyCapUsd).toBe(cap);
      expect(stats.todayUsd).toBeCloseTo(first.costUsd + second.costUsd, 6);

      // Warning once (after the first run), exhausted once (after the second); the skip adds nothing.
      await receiver.received(2, 20_000);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const events = receiver.requests.map(
        (r) => JSON.parse(r.body) as { type: string; data: { agent: { id: string } | null; budget: Record<string, unknown> } },
      );
      expect(events.map((e) => e.type)).toEqual(['budget.warning', 'budget.exhausted']);
      for (const event of events) {
        expect(event.data.agent?.id).toBe(agentId);
        expect(event.data.budget).toMatchObject({ scope: 'agent', window: 'day', capUsd: cap });
      }
      expect(events[0]!.data.budget.spentUsd).toBeCloseTo(first.costUsd, 6);
      expect(events[1]!.data.budget.spentUsd).toBeCloseTo(first.costUsd + second.costUsd, 6);
    },
  );

  it('five manual runs fired at once never spend more than the cap, plus the overshoot of the runs that ran', { timeout: 240_000 }, async () => {
    const perRun = 0.5 * cost.runUsd;
    const cap = 3 * perRun;
    const agentId = await createAgent(server, { name: 'five', dailyBudgetUsd: cap, maxBudgetUsd: perRun });
    await fiveAtOnce([server], Array<string>(5).fill(agentId), cap, perRun, cost.turnUsd, /^Skipped: the agent's daily spend cap of /);
  });
});

describe.skipIf(!TEST_DATABASE_URL)('spend caps across two instances on PostgreSQL, with the real Agent SDK', () => {
  let database: { url: string; drop: () => Promise<void> } | null = null;

  afterAll(async () => {
    for (const s of servers.splice(0)) {
      await s.kill();
      fs.rmSync(s.dataDir, { recursive: true, force: true });
    }
    await database?.drop();
  }, 60_000);

  it("five runs fired at once through two instances never spend more than the deployment's cap, plus overshoot", { timeout: 300_000 }, async () => {
    database = await createScratchDatabase(TEST_DATABASE_URL!, 'cron_agents_caps');
    const token = `caps-${randomBytes(24).toString('hex')}`;
    const env = { ...modelEnv(), DATABASE_URL: database.url };
    const [a, b] = await Promise.all([startServerProcess({ env, token }), startServerProcess({ env, token })]);
    servers.push(a, b);
    const cost = await calibrate(a);
    const spentBefore = (await a.request<Data<{ spend: { todayUsd: number } }>>('GET', '/api/budget')).body.data.spend.todayUsd;
    expect(spentBefore).toBeCloseTo(cost.runUsd, 9);

    // The deployment's daily cap leaves room for 1.5 runs more; each run may take half a run.
    const perRun = 0.5 * cost.runUsd;
    const cap = spentBefore + 3 * perRun;
    expect((await b.request('PUT', '/api/budget', { dailyUsd: cap, monthlyUsd: null })).status).toBe(200);
    // Five agents: their claims share no lock but the budget's.
    const agents: string[] = [];
    for (let i = 0; i < 5; i++) agents.push(await createAgent(a, { name: `shared-${i}`, maxBudgetUsd: perRun }));
    const runs = await fiveAtOnce([a, b], agents, cap - spentBefore, perRun, cost.turnUsd, /^Skipped: the deployment's daily spend cap of /);

    // Both instances agree on the spend; it is what the runs cost.
    const spent = runs.reduce((sum, r) => sum + r.costUsd, 0);
    const [budgetA, budgetB] = await Promise.all([
      a.request<Data<{ spend: { todayUsd: number } }>>('GET', '/api/budget'),
      b.request<Data<{ spend: { todayUsd: number } }>>('GET', '/api/budget'),
    ]);
    expect(budgetA.body.data.spend).toEqual(budgetB.body.data.spend);
    expect(budgetA.body.data.spend.todayUsd).toBeCloseTo(spentBefore + spent, 6);
  });
});

import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent, type AgentInput } from '../../src/domain/agent-fields.js';
import type { BudgetSettings } from '../../src/domain/budgets.js';
import { ZERO_USAGE, type Agent } from '../../src/domain/types.js';
import type { WebhookEventType } from '../../src/domain/webhook-events.js';
import type { ClaimedRun, Store } from '../../src/store/store.js';
import { dialectsUnderTest } from '../support/dialects.js';

/**
 * Spend caps in the store, on both dialects: the ledger of ended runs by UTC day, reservations
 * in the claim's transaction (concurrent claims never reserve more than a cap), skipped runs
 * naming the cap, the deployment's settings, and alerts once per cap and window.
 */

const T0 = Date.parse('2026-01-05T08:00:00.000Z');
const DAY = 86_400_000;
const MINUTE = 60_000;
/** Concurrent claimers of the race test. */
const CLAIMERS = 5;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`spend caps in the store (${dialect.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      // A connection per concurrent claimer (PostgreSQL), so that their transactions really overlap.
      store = await dialect.open({ maxConnections: CLAIMERS + 3 });
    });
    afterEach(async () => {
      await store.close();
    });

    async function agent(input: Partial<AgentInput> = {}, name = `agent-${randomUUID().slice(0, 8)}`): Promise<Agent> {
      const { fields, nextFireAt } = planNewAgent({ name, schedule: '0 9 1 6 *', prompt: 'p', enabled: false, ...input }, T0);
      return store.createAgent(fields, null, nextFireAt, T0);
    }

    async function queue(agentId: string, at = T0): Promise<string> {
      const runId = randomUUID();
      expect(await store.enqueueManualRun(agentId, runId, at)).not.toBeNull();
      return runId;
    }

    async function claim(at = T0, executor = 'x'): Promise<ClaimedRun> {
      const claimed = await store.claimQueuedRun(executor, at, at + MINUTE);
      if (!claimed) throw new Error('nothing was claimed');
      return claimed;
    }

    async function finish(runId: string, costUsd: number, at: number, executor = 'x', status: 'success' | 'budget_exceeded' = 'success'): Promise<void> {
      expect(await store.finishRun(runId, executor, { ...ZERO_USAGE, status, output: status, costUsd }, at)).toBe(true);
    }

    /** Queues, claims and ends one run of the agent costing `costUsd`, ending at `at`. */
    async function spend(agentId: string, costUsd: number, at = T0): Promise<string> {
      const runId = await queue(agentId, at - 1000);
      expect((await claim(at - 1000)).run.id).toBe(runId);
      await finish(runId, costUsd, at);
      return runId;
    }

    /** The budget events waiting for delivery (a webhook subscribed to them), oldest first. */
    async function budgetEvents(at = T0 + 10 * DAY): Promise<{ type: WebhookEventType; data: Record<string, unknown> }[]> {
      const claimed = await store.claimDeliveries(randomUUID(), at, at + MINUTE, 1000);
      return claimed
        .map((d) => d.event)
        .filter((e) => e.type.startsWith('budget.'))
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((e) => ({ type: e.type, data: e.data }));
    }

    async function subscribe(): Promise<void> {
      await store.createWebhook(
        {
          id: randomUUID(),
          fields: {
            name: 'spend',
            url: 'https://hooks.example.com/x',
            events: ['budget.warning', 'budget.exhausted'],
            agentIds: null,
            format: 'standard',
            enabled: true,
          },
          encryptedSecret: 'sealed',
        },
        T0,
      );
    }

    it('keeps the cost of ended runs by the UTC day they ended, for the agent and the deployment', async () => {
      const a = await agent({ dailyBudgetUsd: 100, monthlyBudgetUsd: 1000 });
      const b = await agent();
      const endOfDay = Date.parse('2026-01-05T23:59:59.999Z');
      await spend(a.id, 0.25, Date.parse('2025-12-31T23:59:59.000Z')); // last month
      await spend(a.id, 0.5, Date.parse('2026-01-04T12:00:00Z')); // this month, yesterday
      await spend(a.id, 1, T0);
      await spend(a.id, 2, endOfDay);
      await spend(b.id, 4, T0);
      await spend(b.id, 0, T0); // nothing spent: nothing in the ledger
      expect(await store.spendSummary(a.id, endOfDay)).toEqual({ todayUsd: 3, monthUsd: 3.5, dailyCapUsd: 100, monthlyCapUsd: 1000 });
      expect(await store.spendSummary(null, endOfDay)).toEqual({ todayUsd: 7, monthUsd: 7.5, dailyCapUsd: null, monthlyCapUsd: null });
      // A new UTC day, the same month.
      expect(await store.spendSummary(a.id, endOfDay + 1)).toMatchObject({ todayUsd: 0, monthUsd: 3.5 });
      // A new month: the January spend is gone from the windows.
      expect(await store.spendSummary(null, Date.parse('2026-02-01T00:00:00Z'))).toMatchObject({ todayUsd: 0, monthUsd: 0 });
      expect(await store.spendSummary(randomUUID(), T0)).toEqual({ todayUsd: 0, monthUsd: 0, dailyCapUsd: null, monthlyCapUsd: null });
      // The agent stats carry the agent's spend, the global stats the deployment's.
      expect((await store.agentStats(a.id, T0 - DAY, endOfDay)).spend).toEqual({ todayUsd: 3, monthUsd: 3.5, dailyCapUsd: 100, monthlyCapUsd: 1000 });
      expect((await store.globalStats(T0 - DAY, endOfDay)).spend).toMatchObject({ todayUsd: 7, monthUsd: 7.5 });
    });

    it('without a cap a run reserves nothing and keeps its per-run limit', async () => {
      const a = await agent({ maxBudgetUsd: 0.75 });
      await queue(a.id);
      const claimed = await claim();
      expect(claimed.maxBudgetUsd).toBe(0.75);
      expect(claimed.run.reservedUsd).toBe(0);
      expect((await store.getRun(claimed.run.id))!.reservedUsd).toBe(0);
    });

    it('a run without a per-run limit reserves the remainder; the next one is skipped, naming the cap; the end turns the reservation into the cost', async () => {
      const a = await agent({ dailyBudgetUsd: 1 });
      await spend(a.id, 0.25, T0 - 60_000);
      const first = await queue(a.id);
      const second = await queue(a.id, T0 + 1);
      const claimed = await claim(T0 + 10);
      expect(claimed.run.id).toBe(first);
      expect(claimed.maxBudgetUsd).toBeCloseTo(0.75, 9);
      expect((await store.getRun(first))!.reservedUsd).toBeCloseTo(0.75, 9);
      // Spend counts what running runs hold.
      expect((await store.spendSummary(a.id, T0 + 10)).todayUsd).toBeCloseTo(1, 9);

      // The second run finds the cap used up: recorded as skipped, and nothing else is queued.
      expect(await store.claimQueuedRun('x', T0 + 20, T0 + MINUTE)).toBeNull();
      const skipped = (await store.getRun(second))!;
      expect(skipped).toMatchObject({ status: 'skipped', startedAt: null, completedAt: T0 + 20, costUsd: 0 });
      expect(skipped.output).toBe(
        "Skipped: the agent's daily spend cap of $1.00 is used up ($0.25 spent and $0.75 reserved by runs in progress today, 2026-01-05 (UTC))",
      );

      // The first run costs less than it reserved: the rest is free again.
      await finish(first, 0.5, T0 + 30);
      expect((await store.spendSummary(a.id, T0 + 30)).todayUsd).toBeCloseTo(0.75, 9);
      await queue(a.id, T0 + 40);
      expect((await claim(T0 + 50)).maxBudgetUsd).toBeCloseTo(0.25, 9);
    });

    it('the smallest of the per-run limit and every cap wins, the deployment caps included', async () => {
      await store.putBudgetSettings({ dailyUsd: 10, monthlyUsd: 2.5, warnAtPercent: 80 }, T0);
      const a = await agent({ maxBudgetUsd: 5, dailyBudgetUsd: 4, monthlyBudgetUsd: 3 });
      const b = await agent();
      await spend(b.id, 1, T0 - 60_000);
      await queue(a.id);
      // Agent: 5 per run, 4 a day, 3 a month; deployment: 10 a day, 2.5 a month less the 1 b spent.
      expect((await claim()).maxBudgetUsd).toBeCloseTo(1.5, 9);
      // b has no cap of its own, but the deployment's month is now spent and reserved.
      const bRun = await queue(b.id, T0 + 1);
      expect(await store.claimQueuedRun('x', T0 + 2, T0 + MINUTE)).toBeNull();
      expect((await store.getRun(bRun))!.output).toMatch(
        /^Skipped: the deployment's monthly spend cap of \$2\.50 is used up \(\$1\.00 spent and \$1\.50 reserved/,
      );
    });

    it('a running run counts as the larger of its cost so far and its reservation', async () => {
      const a = await agent({ dailyBudgetUsd: 2, maxBudgetUsd: 0.5 });
      await queue(a.id);
      const claimed = await claim();
      expect((await store.spendSummary(a.id, T0)).todayUsd).toBeCloseTo(0.5, 9);
      // The SDK's overshoot: a turn took the run past its limit.
      await store.recordUsage(claimed.run.id, 'x', { ...ZERO_USAGE, costUsd: 0.8 });
      expect((await store.spendSummary(a.id, T0)).todayUsd).toBeCloseTo(0.8, 9);
      await queue(a.id, T0 + 1);
      expect((await claim(T0 + 2)).maxBudgetUsd).toBeCloseTo(0.5, 9);
      await queue(a.id, T0 + 3);
      expect((await claim(T0 + 4)).maxBudgetUsd).toBeCloseTo(0.5, 9);
      // 0.8 + 0.5 + 0.5 of 2 taken.
      await queue(a.id, T0 + 5);
      expect((await claim(T0 + 6)).maxBudgetUsd).toBeCloseTo(0.2, 9);
    });

    it(`${CLAIMERS} concurrent claims against a cap never reserve more than it`, async () => {
      const a = await agent({ dailyBudgetUsd: 1, maxBudgetUsd: 0.3 });
      const queued: string[] = [];
      for (let i = 0; i < CLAIMERS; i++) queued.push(await queue(a.id, T0 + i));
      const results = await Promise.all(Array.from({ length: CLAIMERS }, (_, i) => store.claimQueuedRun(`executor-${i}`, T0 + 100, T0 + MINUTE)));
      const claimed = results.filter((r): r is ClaimedRun => r !== null);
      const budgets = claimed.map((c) => c.maxBudgetUsd ?? Number.POSITIVE_INFINITY).sort((x, y) => y - x);
      expect(budgets).toHaveLength(4);
      expect(budgets[0]).toBeCloseTo(0.3, 9);
      expect(budgets[1]).toBeCloseTo(0.3, 9);
      expect(budgets[2]).toBeCloseTo(0.3, 9);
      expect(budgets[3]).toBeCloseTo(0.1, 9);
      const runs = await Promise.all(queued.map(async (id) => (await store.getRun(id))!));
      const reserved = runs.reduce((sum, r) => sum + r.reservedUsd, 0);
      expect(reserved).toBeLessThanOrEqual(1 + 1e-9);
      expect(runs.filter((r) => r.status === 'skipped')).toHaveLength(1);
      expect(runs.filter((r) => r.status === 'running')).toHaveLength(4);
    });

    it(`${CLAIMERS} concurrent claims of different agents against the deployment cap never reserve more than it`, async () => {
      await store.putBudgetSettings({ dailyUsd: 1, monthlyUsd: null, warnAtPercent: 80 }, T0);
      const agents: Agent[] = [];
      for (let i = 0; i < CLAIMERS; i++) agents.push(await agent({ maxBudgetUsd: 0.4 }));
      // Several rounds (a new UTC day each): claims of different agents take no lock in common but the budget's, so a race shows in some round.
      for (let round = 0; round < 4; round++) {
        const day = T0 + round * DAY;
        for (const [i, a] of agents.entries()) await queue(a.id, day + i);
        const results = await Promise.all(agents.map((_, i) => store.claimQueuedRun(`executor-${i}`, day + 100, day + MINUTE)));
        const claimed = results.filter((r): r is ClaimedRun => r !== null);
        const total = claimed.reduce((sum, r) => sum + (r.maxBudgetUsd ?? Number.POSITIVE_INFINITY), 0);
        expect(claimed, `round ${round}`).toHaveLength(3);
        expect(total, `round ${round}`).toBeCloseTo(1, 9);
        expect((await store.spendSummary(null, day + 100)).todayUsd).toBeCloseTo(1, 9);
        for (const [i, r] of results.entries())
          if (r) await store.finishRun(r.run.id, `executor-${i}`, { ...ZERO_USAGE, status: 'success', output: 'ok' }, day + 200);
      }
    });

    it('stores the deployment settings, with the audit entry of the change in its transaction', async () => {
      expect(await store.getBudgetSettings()).toEqual({ dailyUsd: null, monthlyUsd: null, warnAtPercent: 80 });
      const seen: BudgetSettings[] = [];
      const next = { dailyUsd: 5, monthlyUsd: 100, warnAtPercent: 90 };
      const actor = { userId: null, userName: null, address: null, credential: 'cli' };
      await store.putBudgetSettings(next, T0, (before) => {
        seen.push(before);
        return { at: T0, action: 'budget.update', actor, agentId: null, targetType: 'budget', targetId: 'deployment', targetName: null, details: { n: 1 } };
      });
      expect(seen).toEqual([{ dailyUsd: null, monthlyUsd: null, warnAtPercent: 80 }]);
      expect(await store.getBudgetSettings()).toEqual(next);
      expect(await store.spendSummary(null, T0)).toEqual({ todayUsd: 0, monthUsd: 0, dailyCapUsd: 5, monthlyCapUsd: 100 });
      const entries = await store.listAudit({ action: 'budget.update', limit: 10 });
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ targetType: 'budget', details: { n: 1 } });
      await store.putBudgetSettings({ dailyUsd: null, monthlyUsd: null, warnAtPercent: 80 }, T0 + 1, () => null);
      expect(await store.listAudit({ action: 'budget.update', limit: 10 })).toHaveLength(1);
    });

    it("announces a warning and an exhaustion once per cap and window, the agent's and the deployment's", async () => {
      await subscribe();
      await store.putBudgetSettings({ dailyUsd: null, monthlyUsd: 10, warnAtPercent: 50 }, T0);
      const a = await agent({ dailyBudgetUsd: 1 }, 'capped');
      await spend(a.id, 0.4, T0); // 40% of the day
      expect(await budgetEvents()).toEqual([]);
      await spend(a.id, 0.2, T0 + 1000); // 60%: warning
      await spend(a.id, 0.1, T0 + 2000); // 70%: already announced
      await spend(a.id, 0.35, T0 + 3000); // 105%: exhausted
      // A claim against the used-up cap is skipped, and announces nothing again.
      await queue(a.id, T0 + 4000);
      expect(await store.claimQueuedRun('x', T0 + 4000, T0 + MINUTE)).toBeNull();
      const day = (await budgetEvents()).map((e) => [e.type, e.data.budget]);
      expect(day).toEqual([
        [
          'budget.warning',
          expect.objectContaining({ scope: 'agent', window: 'day', capUsd: 1, spentUsd: 0.6, percent: 60, windowStart: '2026-01-05T00:00:00.000Z' }),
        ],
        [
          'budget.exhausted',
          expect.objectContaining({ scope: 'agent', window: 'day', capUsd: 1, spentUsd: 1.05, percent: 105, windowEnd: '2026-01-06T00:00:00.000Z' }),
        ],
      ]);

      // The next day is a new window: announced again. The deployment's month crosses 50% too.
      const next = T0 + DAY;
      await spend(a.id, 0.9, next);
      await spend((await agent({}, 'uncapped')).id, 4, next + 1000);
      const events = await budgetEvents();
      expect(events.map((e) => [e.type, e.data.agent, e.data.budget])).toEqual([
        [
          'budget.warning',
          { id: a.id, name: 'capped' },
          expect.objectContaining({ scope: 'agent', window: 'day', windowStart: '2026-01-06T00:00:00.000Z', percent: 90 }),
        ],
        ['budget.warning', null, expect.objectContaining({ scope: 'deployment', window: 'month', capUsd: 10, spentUsd: 5.95, percent: 59.5 })],
      ]);
    });

    it('runs of different agents that end at once and together cross a cap announce it once', async () => {
      await subscribe();
      await store.putBudgetSettings({ dailyUsd: 1, monthlyUsd: null, warnAtPercent: 80 }, T0);
      for (let round = 0; round < 3; round++) {
        const day = T0 + round * DAY;
        const runs: { id: string; executor: string }[] = [];
        for (const i of [0, 1]) {
          const id = await queue((await agent({ maxBudgetUsd: 0.5 })).id, day + i);
          runs.push({ id, executor: `executor-${i}` });
          expect((await claim(day + 10, `executor-${i}`)).run.id).toBe(id);
        }
        // Each run alone is 50% of the day: only the two together reach the warning, and use the cap
        // up. (Different statuses: the hourly totals' rows of one status would serialise them anyway.)
        await Promise.all(runs.map((r, i) => finish(r.id, 0.5, day + 100, r.executor, i === 0 ? 'success' : 'budget_exceeded')));
        const events = await budgetEvents();
        expect(events.map((e) => e.type).sort(), `round ${round}`).toEqual(['budget.exhausted', 'budget.warning']);
        expect(events.every((e) => e.data.agent === null)).toBe(true);
      }
    });

    it('a lowered deployment cap that is reached already is announced at once', async () => {
      await subscribe();
      await spend((await agent()).id, 3, T0);
      await store.putBudgetSettings({ dailyUsd: 2, monthlyUsd: null, warnAtPercent: 80 }, T0 + 1000);
      expect((await budgetEvents()).map((e) => e.type).sort()).toEqual(['budget.exhausted', 'budget.warning']);
      await store.putBudgetSettings({ dailyUsd: 2.5, monthlyUsd: null, warnAtPercent: 80 }, T0 + 2000);
      expect(await budgetEvents()).toEqual([]);
    });
  });
}

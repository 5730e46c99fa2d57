import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { ZERO_USAGE, type Agent } from '../../src/domain/types.js';
import type { Store } from '../../src/store/store.js';
import { dialectsUnderTest } from '../support/dialects.js';

const T0 = Date.parse('2026-01-05T08:00:00.000Z');
const DAY = 86_400_000;
const HOUR = 3600_000;
/** Concurrent claimers in the race tests. */
const CLAIMERS = 20;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`store (${dialect.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      // Room for every concurrent claimer below to hold a connection of its own (PostgreSQL).
      store = await dialect.open({ maxConnections: CLAIMERS + 2 });
    });
    afterEach(async () => {
      await store.close();
    });

    async function agent(name = 'A', schedule = '0 * * * *', now = T0): Promise<Agent> {
      const { fields, nextFireAt } = planNewAgent({ name, schedule, prompt: 'p' }, now);
      return store.createAgent(fields, null, nextFireAt, now);
    }

    async function finishedRun(agentId: string, status: 'success' | 'error' | 'cancelled', at: number, costUsd: number, durationMs: number) {
      const runId = randomUUID();
      await store.enqueueManualRun(agentId, runId, at);
      const claimed = await store.claimQueuedRun('x', at, at + 30_000);
      expect(claimed?.run.id).toBe(runId);
      expect(await store.finishRun(runId, 'x', { ...ZERO_USAGE, status, output: status, costUsd }, at + durationMs)).toBe(true);
    }

    it('lists agents by name with their latest run', async () => {
      const b = await agent('beta');
      await agent('Alpha');
      await agent('alpha');
      await finishedRun(b.id, 'error', T0 + 1000, 0.5, 100);
      const list = await store.listAgents();
      expect(list.map((a) => a.name)).toEqual(['Alpha', 'alpha', 'beta'].sort());
      const beta = list.find((a) => a.name === 'beta')!;
      expect(beta.lastStatus).toBe('error');
      expect(beta.lastRunAt).toBe(T0 + 1000);
    });

    it('claims a tick once: a second claimer of the same slot loses', async () => {
      const a = await agent();
      const due = a.nextFireAt!;
      const claim = (runId: string) => store.claimTick({ agentId: a.id, due, next: due + 3600_000, slot: due, runId, now: due });
      const results = await Promise.all([claim(randomUUID()), claim(randomUUID()), claim(randomUUID())]);
      expect(results.filter((r) => r === 'fired')).toHaveLength(1);
      expect(results.filter((r) => r === 'lost')).toHaveLength(2);
      const runs = await store.listRuns(a.id, { limit: 10, since: null });
      expect(runs).toHaveLength(1);
      expect(runs[0]!.scheduledFor).toBe(due);
      expect((await store.getAgent(a.id))!.nextFireAt).toBe(due + 3600_000);
    });

    it('skips a tick while a run is active, but still moves the agent on', async () => {
      const a = await agent();
      await store.enqueueManualRun(a.id, randomUUID(), T0);
      const due = a.nextFireAt!;
      expect(await store.claimTick({ agentId: a.id, due, next: due + 3600_000, slot: due, runId: randomUUID(), now: due })).toBe('skipped_overlap');
      expect((await store.getAgent(a.id))!.nextFireAt).toBe(due + 3600_000);
      // The slot did not run, and a skipped row says so.
      const runs = await store.listRuns(a.id, { limit: 10, since: null });
      expect(runs.map((r) => r.status).sort()).toEqual(['queued', 'skipped']);
    });

    it('keeps one run per slot even when the agent is moved back to a fired slot', async () => {
      const a = await agent();
      const due = a.nextFireAt!;
      expect(await store.claimTick({ agentId: a.id, due, next: due, slot: due, runId: randomUUID(), now: due })).toBe('fired');
      const [run] = await store.listRuns(a.id, { limit: 1, since: null });
      await store.claimQueuedRun('x', due, due + 1000);
      await store.finishRun(run!.id, 'x', { ...ZERO_USAGE, status: 'success', output: '' }, due + 10);
      // The unique (agent, slot) constraint is the safety net behind the compare-and-set.
      expect(await store.claimTick({ agentId: a.id, due, next: due + 1, slot: due, runId: randomUUID(), now: due })).toBe('skipped_overlap');
      expect(await store.listRuns(a.id, { limit: 10, since: null })).toHaveLength(1);
    });

    it('claims queued runs oldest first, each once, with the agent as it is now', async () => {
      const a = await agent('a');
      const b = await agent('b');
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      await store.enqueueManualRun(b.id, ids[0]!, T0 + 1);
      await store.enqueueManualRun(a.id, ids[1]!, T0 + 2);
      await store.enqueueManualRun(b.id, ids[2]!, T0 + 3);
      await store.updateAgent(b.id, (current) => ({ fields: { ...current, prompt: 'new prompt' }, nextFireAt: current.nextFireAt }), T0 + 4);
      const claims = await Promise.all([1, 2, 3, 4, 5].map((i) => store.claimQueuedRun(`executor-${i}`, T0 + 10, T0 + 30_000)));
      const got = claims.filter((c) => c !== null);
      expect(got.map((c) => c.run.id).sort()).toEqual([...ids].sort());
      const first = got.find((c) => c.run.id === ids[0])!;
      expect(first.agent.prompt).toBe('new prompt');
      expect(first.run.status).toBe('running');
      expect(first.run.startedAt).toBe(T0 + 10);
    });

    it('fences results: only the executor holding the run may end it', async () => {
      const a = await agent();
      const runId = randomUUID();
      await store.enqueueManualRun(a.id, runId, T0);
      await store.claimQueuedRun('owner', T0, T0 + 30_000);
      expect(await store.finishRun(runId, 'intruder', { ...ZERO_USAGE, status: 'success', output: 'x' }, T0 + 5)).toBe(false);
      expect(await store.finishRun(runId, 'owner', { ...ZERO_USAGE, status: 'success', output: 'ok', costUsd: 0.25 }, T0 + 5)).toBe(true);
      expect(await store.finishRun(runId, 'owner', { ...ZERO_USAGE, status: 'error', output: 'twice' }, T0 + 6)).toBe(false);
      const run = (await store.getRun(runId))!;
      expect(run).toMatchObject({ status: 'success', output: 'ok', costUsd: 0.25, completedAt: T0 + 5, durationMs: 5 });
    });

    it('renews leases, reports cancel requests, and reaps expired leases only', async () => {
      const a = await agent('a');
      const b = await agent('b');
      const [r1, r2] = [randomUUID(), randomUUID()];
      await store.enqueueManualRun(a.id, r1, T0);
      await store.enqueueManualRun(b.id, r2, T0 + 1);
      await store.claimQueuedRun('live', T0, T0 + 30_000);
      await store.claimQueuedRun('dead', T0, T0 + 30_000);
      await store.requestCancel(a.id, T0 + 1);
      const renewed = await store.renewLeases('live', [r1, r2], T0 + 60_000);
      expect(renewed.held).toEqual([r1]);
      expect(renewed.cancelRequested).toEqual([r1]);
      expect(await store.endAbandonedRuns(T0 + 40_000, { everything: false })).toEqual([r2]);
      expect((await store.getRun(r2))!.status).toBe('error');
      expect((await store.getRun(r2))!.output).toMatch(/lost its executor/);
      expect((await store.getRun(r1))!.status).toBe('running');
    });

    it('ends every running run at start-up of the embedded database, and keeps queued runs queued', async () => {
      const a = await agent('a');
      const b = await agent('b');
      const [running, queued] = [randomUUID(), randomUUID()];
      await store.enqueueManualRun(a.id, running, T0);
      await store.claimQueuedRun('old-process', T0, T0 + 30_000);
      await store.enqueueManualRun(b.id, queued, T0 + 1);
      expect(await store.endAbandonedRuns(T0 + 5000, { everything: true })).toEqual([running]);
      expect(await store.getRun(running)).toMatchObject({ status: 'error', completedAt: T0 + 5000, durationMs: 5000 });
      expect((await store.getRun(running))!.output).toMatch(/service stopped during the run/);
      // A run that never started lost nothing: it starts after the restart.
      expect((await store.getRun(queued))!.status).toBe('queued');
      expect((await store.claimQueuedRun('new-process', T0 + 6000, T0 + 36_000))?.run.id).toBe(queued);
    });

    it('cancels queued runs at once and flags running ones', async () => {
      const a = await agent();
      const [r1, r2] = [randomUUID(), randomUUID()];
      await store.enqueueManualRun(a.id, r1, T0);
      await store.claimQueuedRun('x', T0, T0 + 30_000);
      await store.enqueueManualRun(a.id, r2, T0 + 1);
      const result = await store.requestCancel(a.id, T0 + 2);
      expect(result).toEqual({ cancelledQueued: [r2], runningIds: [r1] });
      expect(await store.getRun(r2)).toMatchObject({ status: 'cancelled', completedAt: T0 + 2 });
      expect(await store.requestCancel(a.id, T0 + 3)).toEqual({ cancelledQueued: [], runningIds: [r1] });
    });

    it('lists runs newest first, with limit and period', async () => {
      const a = await agent();
      for (let i = 0; i < 5; i++) await finishedRun(a.id, 'success', T0 - i * DAY, 0.01, 10);
      const all = await store.listRuns(a.id, { limit: 100, since: null });
      expect(all.map((r) => r.startedAt)).toEqual([0, 1, 2, 3, 4].map((i) => T0 - i * DAY));
      expect(await store.listRuns(a.id, { limit: 2, since: null })).toHaveLength(2);
      expect(await store.listRuns(a.id, { limit: 100, since: T0 - 2 * DAY })).toHaveLength(3);
    });

    it('deletes an agent with all its runs', async () => {
      const a = await agent();
      await finishedRun(a.id, 'success', T0, 0.01, 10);
      expect(await store.deleteAgent(a.id)).toEqual({ id: a.id, name: 'A' });
      expect(await store.getAgent(a.id)).toBeNull();
      expect(await store.listRuns(a.id, { limit: 10, since: null })).toEqual([]);
      expect(await store.deleteAgent(a.id)).toBeNull();
    });

    it('aggregates stats per day in SQL', async () => {
      const a = await agent('a');
      const b = await agent('b');
      await finishedRun(a.id, 'success', T0 - DAY, 0.1, 1000);
      await finishedRun(a.id, 'error', T0, 0.2, 3000);
      await finishedRun(b.id, 'success', T0, 0.3, 2000);
      await finishedRun(b.id, 'success', T0 - 10 * DAY, 5, 2000);
      const now = T0 + 3600_000;
      const stats = await store.agentStats(a.id, now - 7 * DAY, now);
      expect(stats).toMatchObject({ totalRuns: 2, successRate: 50, avgDurationMs: 2000, totalCostUsd: 0.3, lastRunAt: T0 });
      expect(stats.dailyRuns).toHaveLength(8);
      expect(stats.dailyRuns.at(-1)).toEqual({ date: '2026-01-05', success: 0, error: 1, total: 1, costUsd: 0.2 });
      expect(stats.dailyRuns.at(-2)).toEqual({ date: '2026-01-04', success: 1, error: 0, total: 1, costUsd: 0.1 });
      const global = await store.globalStats(now - 7 * DAY, now);
      expect(global).toMatchObject({ totalAgents: 2, activeAgents: 2, runsInPeriod: 3, successRate: 67, totalCostUsd: 0.6, runningAgentIds: [] });
    });

    it('keeps the global totals equal to the sum over agents, through finish, cancel, recovery and delete', async () => {
      const HOUR = 3600_000;
      const agents = [await agent('a'), await agent('b'), await agent('c')];
      // Runs on both sides of hour and day boundaries, over 40 days.
      let k = 0;
      for (let i = 0; i < 60; i++) {
        const at = T0 - i * 16 * HOUR - (i % 7) * 37 * 60_000;
        await finishedRun(agents[i % 3]!.id, (['success', 'error', 'cancelled'] as const)[i % 3]!, at, 0.01 * (i % 5), 1000 + i);
        k++;
      }
      // One queued, one running, one queued-then-cancelled, one abandoned.
      await store.enqueueManualRun(agents[0]!.id, randomUUID(), T0 - HOUR);
      await store.enqueueManualRun(agents[1]!.id, randomUUID(), T0 - 2 * HOUR);
      await store.claimQueuedRun('x', T0 - HOUR, T0 - HOUR + 1000);
      await store.requestCancel(agents[0]!.id, T0);
      await store.enqueueManualRun(agents[2]!.id, randomUUID(), T0 - 30 * 60_000);
      await store.claimQueuedRun('dead', T0 - 30 * 60_000, T0 - 20 * 60_000);
      expect(await store.endAbandonedRuns(T0, { everything: false })).toHaveLength(2);

      const check = async (label: string) => {
        for (const periodMs of [24 * HOUR, 7 * 24 * HOUR, 30 * 24 * HOUR]) {
          for (const now of [T0, T0 + 17 * 60_000, T0 + 5 * HOUR + 1]) {
            const since = now - periodMs;
            const global = await store.globalStats(since, now);
            const per = await Promise.all((await store.listAgents()).map((a) => store.agentStats(a.id, since, now)));
            const sum = (f: (s: (typeof per)[number]) => number) => per.reduce((acc, s) => acc + f(s), 0);
            expect(global.runsInPeriod, label).toBe(sum((s) => s.totalRuns));
            expect(global.totalCostUsd, label).toBeCloseTo(
              sum((s) => s.totalCostUsd),
              6,
            );
            expect(
              global.dailyRuns.map((d) => d.date),
              label,
            ).toEqual(per[0]?.dailyRuns.map((d) => d.date) ?? global.dailyRuns.map((d) => d.date));
            global.dailyRuns.forEach((day, i) => {
              expect(day.total, `${label} ${day.date}`).toBe(per.reduce((acc, s) => acc + s.dailyRuns[i]!.total, 0));
              expect(day.success, `${label} ${day.date}`).toBe(per.reduce((acc, s) => acc + s.dailyRuns[i]!.success, 0));
              expect(day.error, `${label} ${day.date}`).toBe(per.reduce((acc, s) => acc + s.dailyRuns[i]!.error, 0));
            });
          }
        }
      };
      await check('after finishing');
      await store.deleteAgent(agents[1]!.id);
      await check('after a delete');
      await store.rebuildRunTotals();
      await check('after a rebuild');
      expect(k).toBe(60);
    });

    it('names the agents with a run executing', async () => {
      const a = await agent('a');
      await store.enqueueManualRun(a.id, randomUUID(), T0);
      expect((await store.globalStats(T0 - DAY, T0)).runningAgentIds).toEqual([]);
      await store.claimQueuedRun('x', T0, T0 + 1000);
      expect((await store.globalStats(T0 - DAY, T0)).runningAgentIds).toEqual([a.id]);
    });

    describe('concurrent claimers', () => {
      it(`${CLAIMERS} claimers per slot of 10 due agents, over two slots: each slot gives exactly one run`, async () => {
        const agents = await Promise.all(Array.from({ length: 10 }, (_, i) => agent(`agent-${i}`)));
        const first = agents[0]!.nextFireAt!;
        expect(agents.every((a) => a.nextFireAt === first)).toBe(true);
        for (const due of [first, first + HOUR]) {
          // Claimer-major order, so the claims of different agents interleave.
          const claims = Array.from({ length: CLAIMERS }, () => agents.map((a) => ({ agentId: a.id, runId: randomUUID() }))).flat();
          const results = await Promise.all(
            claims.map((c) => store.claimTick({ agentId: c.agentId, due, next: due + HOUR, slot: due, runId: c.runId, now: due })),
          );
          for (const a of agents) {
            const mine = claims.map((c, i) => ({ ...c, result: results[i] })).filter((c) => c.agentId === a.id);
            const fired = mine.filter((c) => c.result === 'fired');
            expect(fired, `claims of ${a.name} for ${new Date(due).toISOString()}`).toHaveLength(1);
            expect(mine.filter((c) => c.result === 'lost')).toHaveLength(CLAIMERS - 1);
            const runs = await store.listRuns(a.id, { limit: 100, since: due });
            expect(runs.map((r) => [r.id, r.scheduledFor, r.status])).toEqual([[fired[0]!.runId, due, 'queued']]);
            expect((await store.getAgent(a.id))!.nextFireAt).toBe(due + HOUR);
          }
          // End the slot's runs, so the overlap rule is not what decides the next slot.
          for (let i = 0; i < agents.length; i++) {
            const claimed = await store.claimQueuedRun('finisher', due, due + 30_000);
            expect(claimed).not.toBeNull();
            expect(await store.finishRun(claimed!.run.id, 'finisher', { ...ZERO_USAGE, status: 'success', output: 'ok' }, due + 1)).toBe(true);
          }
          expect(await store.claimQueuedRun('finisher', due, due + 30_000)).toBeNull();
        }
        for (const a of agents) expect(await store.listRuns(a.id, { limit: 100, since: null })).toHaveLength(2);
      });

      it(`${CLAIMERS} executors claiming 30 queued runs in rounds: each run once, oldest first`, async () => {
        const agents = await Promise.all(Array.from({ length: 5 }, (_, i) => agent(`agent-${i}`)));
        // Queue position i at T0 + i; ids are random, so only queued_at gives the order.
        const queue = Array.from({ length: 30 }, (_, i) => ({ runId: randomUUID(), agentId: agents[i % agents.length]!.id, at: T0 + i }));
        // Enqueued out of order, several at once.
        const shuffled = [...queue].sort((a, b) => (a.runId < b.runId ? -1 : 1));
        await Promise.all(shuffled.map((q) => store.enqueueManualRun(q.agentId, q.runId, q.at)));
        const position = new Map<string, number>(queue.map((q, i) => [q.runId, i]));

        const byClaimer = new Map<string, number[]>();
        const owner = new Map<string, string>();
        let next = 0;
        for (let round = 0; ; round++) {
          const now = T0 + 1000 + round;
          const executors = Array.from({ length: CLAIMERS }, (_, i) => `executor-${i}`);
          const claims = await Promise.all(executors.map((e) => store.claimQueuedRun(e, now, now + 30_000)));
          const got = claims.flatMap((c, i) => (c ? [{ executor: executors[i]!, run: c.run, agent: c.agent }] : []));
          // Every claimer gets a run while runs wait; the round takes exactly the oldest that waited.
          expect(got).toHaveLength(Math.min(CLAIMERS, queue.length - next));
          const positions = got.map((g) => position.get(g.run.id)!).sort((a, b) => a - b);
          expect(positions).toEqual(Array.from({ length: got.length }, (_, i) => next + i));
          for (const g of got) {
            expect(owner.has(g.run.id), `run ${g.run.id} claimed twice`).toBe(false);
            owner.set(g.run.id, g.executor);
            expect(g.run).toMatchObject({ status: 'running', executorId: g.executor, startedAt: now, leaseExpiresAt: now + 30_000 });
            expect(g.agent.id).toBe(queue[position.get(g.run.id)!]!.agentId);
            byClaimer.set(g.executor, [...(byClaimer.get(g.executor) ?? []), position.get(g.run.id)!]);
          }
          next += got.length;
          if (got.length === 0) break;
          expect(round).toBeLessThan(5);
        }
        expect(next).toBe(queue.length);
        expect(owner.size).toBe(queue.length);
        // Per claimer, oldest first.
        for (const positions of byClaimer.values()) expect(positions).toEqual([...positions].sort((a, b) => a - b));
        // The store agrees: each run is held by the one executor that was told it got it.
        for (const q of queue) {
          expect(await store.getRun(q.runId)).toMatchObject({ status: 'running', executorId: owner.get(q.runId) });
        }
      });
    });

    /**
     * An agent with a running and a queued run, deleted while something else ends those runs.
     * PostgreSQL runs these transactions side by side; SQLite one after the other.
     */
    async function deleteWhileEnding(ending: (agentId: string, running: string) => Promise<unknown>[]): Promise<void> {
      const kept = await agent('kept');
      await finishedRun(kept.id, 'success', T0, 0.5, 100);
      for (let i = 0; i < 10; i++) {
        const doomed = await agent(`doomed-${i}`);
        const [running, queued] = [randomUUID(), randomUUID()];
        await store.enqueueManualRun(doomed.id, running, T0 + 1);
        expect((await store.claimQueuedRun('x', T0 + 1, T0 + 30_000))?.run.id).toBe(running);
        await store.enqueueManualRun(doomed.id, queued, T0 + 2);
        await Promise.all([...ending(doomed.id, running), store.deleteAgent(doomed.id)]);
        expect(await store.getAgent(doomed.id)).toBeNull();
        expect(await store.getRun(running)).toBeNull();
        expect(await store.getRun(queued)).toBeNull();
      }
      // Only the kept agent's run is left, and the global figures (kept as running totals) agree.
      const stats = await store.globalStats(T0 - DAY, T0 + HOUR);
      expect(stats).toMatchObject({ totalAgents: 1, runsInPeriod: 1, successRate: 100, totalCostUsd: 0.5 });
    }

    it('a run that finishes while its agent is deleted leaves nothing in the global totals', async () => {
      await deleteWhileEnding((_agentId, running) => [store.finishRun(running, 'x', { ...ZERO_USAGE, status: 'success', output: 'ok', costUsd: 1 }, T0 + 10)]);
    });

    it('a cancel and a delete of the same agent at once neither deadlock nor leave runs in the totals', async () => {
      await deleteWhileEnding((agentId) => [store.requestCancel(agentId, T0 + 10)]);
    });

    it('stores users and tokens; revoked tokens stop authenticating', async () => {
      const user = await store.createUser({ name: 'alice', role: 'member' }, T0);
      await expect(store.createUser({ name: 'alice', role: 'viewer' }, T0)).rejects.toThrow(/already exists/);
      const token = await store.createToken({ userId: user.id, label: 'laptop', tokenHash: 'ab'.repeat(32), prefix: 'cat_abc' }, T0);
      expect((await store.findTokenHolder('ab'.repeat(32)))!.user).toMatchObject({ name: 'alice', role: 'member' });
      await store.touchToken(token.id, T0 + 5);
      expect((await store.listTokens())[0]).toMatchObject({ label: 'laptop', lastUsedAt: T0 + 5, userName: 'alice' });
      expect(await store.revokeToken(token.id, T0 + 6)).toBe(true);
      expect(await store.revokeToken(token.id, T0 + 7)).toBe(false);
      expect(await store.findTokenHolder('ab'.repeat(32))).toBeNull();
    });
  });
}

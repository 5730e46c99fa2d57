import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { encodeRunEvent } from '../../src/domain/run-events.js';
import { PERIOD_MS, ZERO_USAGE, type Agent } from '../../src/domain/types.js';
import { silentLogger } from '../../src/logger.js';
import { Retention } from '../../src/engine/retention.js';
import type { Store } from '../../src/store/store.js';
import { advanceClockTo, dialectsUnderTest, trackStore } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * Retention on both dialects: what it deletes (runs that ended before the cutoff, and their
 * events, in small batches) and what it leaves (every other row, the hourly totals, so the stats
 * stay right), and its lease (once per interval per deployment).
 */

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;
const RETENTION = 90 * DAY;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`retention (${dialect.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await dialect.open();
    });
    afterEach(async () => {
      await store.close();
    });

    async function agent(name: string): Promise<Agent> {
      const { fields, nextFireAt } = planNewAgent({ name, schedule: '0 9 1 6 *', prompt: 'p' }, NOW - 400 * DAY);
      return store.createAgent(fields, null, nextFireAt, NOW - 400 * DAY);
    }

    /** A run queued at `queuedAt`, with `events` events, ended `endedAfter` ms later (or still running). */
    async function run(agentId: string, queuedAt: number, endedAfter: number | null, events = 3): Promise<string> {
      const runId = randomUUID();
      await store.enqueueManualRun(agentId, runId, queuedAt);
      expect((await store.claimQueuedRun('x', queuedAt, queuedAt + 10 * 365 * DAY))?.run.id).toBe(runId);
      const all = Array.from({ length: events }, (_, i) => encodeRunEvent({ seq: i + 1, at: queuedAt + i, type: 'text', text: `e${i}` }));
      for (let i = 0; i < all.length; i += 100) expect(await store.appendRunEvents(runId, 'x', all.slice(i, i + 100))).toBe(true);
      if (endedAfter !== null) {
        const outcome = { ...ZERO_USAGE, status: 'success' as const, output: 'ok', costUsd: 0.5 };
        expect(await store.finishRun(runId, 'x', outcome, queuedAt + endedAfter)).toBe(true);
      }
      return runId;
    }

    function retention(clock: FakeClock, s: Store = store, batchRows = 7): Retention {
      return new Retention({ store: s, clock, logger: silentLogger, retentionMs: RETENTION, instanceId: 'i-1', batchRows });
    }

    it('deletes the runs that ended before the cutoff and their events, and nothing else', async () => {
      const a = await agent('a');
      const b = await agent('b');
      const old = [await run(a.id, NOW - 200 * DAY, 60_000, 25), await run(a.id, NOW - 120 * DAY, 1, 0), await run(b.id, NOW - 91 * DAY, HOUR, 30)];
      const kept = [
        await run(a.id, NOW - 30 * DAY, 60_000),
        // Queued before the cutoff, but ended after it.
        await run(b.id, NOW - 90 * DAY - HOUR, 2 * HOUR),
        // Still running after 100 days: never pruned while active.
        await run(b.id, NOW - 100 * DAY, null),
        await run(b.id, NOW - HOUR, 60_000),
      ];
      const clock = new FakeClock(NOW);
      const result = await retention(clock).prune();
      expect(result).toEqual({ runs: 3, events: 55, endedBefore: NOW - RETENTION, auditEntries: 0 });

      for (const id of old) {
        expect(await store.getRun(id)).toBeNull();
        expect(await store.listRunEvents(id, { after: 0, limit: 100 })).toEqual([]);
      }
      for (const id of kept) {
        expect(await store.getRun(id)).not.toBeNull();
        expect(await store.listRunEvents(id, { after: 0, limit: 100 })).toHaveLength(3);
      }
      expect((await store.listAgents()).map((x) => x.name)).toEqual(['a', 'b']);
      expect(await retention(clock).prune()).toEqual({ runs: 0, events: 0, endedBefore: NOW - RETENTION, auditEntries: 0 });
    });

    it('keeps the stats right: the hourly totals keep pruned runs, the per-agent stats read runs within the retention', async () => {
      const a = await agent('a');
      for (let day = 1; day <= 200; day += 3) await run(a.id, NOW - day * DAY, 60_000, 1);
      const periods = [PERIOD_MS['24h'], PERIOD_MS['7d'], PERIOD_MS['30d'], 90 * DAY, 180 * DAY];
      const before = await Promise.all(periods.map((p) => store.globalStats(NOW - p, NOW)));
      const agentBefore = await Promise.all(periods.slice(0, 3).map((p) => store.agentStats(a.id, NOW - p, NOW)));

      const result = await retention(new FakeClock(NOW), store, 500).prune();
      expect(result.runs).toBeGreaterThan(30);

      expect(await Promise.all(periods.map((p) => store.globalStats(NOW - p, NOW)))).toEqual(before);
      expect(await Promise.all(periods.slice(0, 3).map((p) => store.agentStats(a.id, NOW - p, NOW)))).toEqual(agentBefore);
      // 180 days, longer than the retention, counts the pruned runs from the totals.
      expect(before[4]?.runsInPeriod).toBe(60);
    });

    it('a lease is held until it expires: one holder per interval', async () => {
      expect(await store.claimLease('retention', 'i-1', NOW, NOW + HOUR)).toBe(true);
      expect(await store.claimLease('retention', 'i-2', NOW + HOUR - 1, NOW + 2 * HOUR)).toBe(false);
      expect(await store.claimLease('retention', 'i-1', NOW + 1, NOW + HOUR + 1)).toBe(false);
      expect(await store.claimLease('other-task', 'i-2', NOW, NOW + HOUR)).toBe(true);
      expect(await store.claimLease('retention', 'i-2', NOW + HOUR, NOW + 2 * HOUR)).toBe(true);
      // Claimed at once by several instances: exactly one wins.
      const claims = await Promise.all(['a', 'b', 'c', 'd'].map((holder) => store.claimLease('race', holder, NOW, NOW + HOUR)));
      expect(claims.filter(Boolean)).toHaveLength(1);
    });

    it('on its loop, prunes once per hour per deployment, whichever instance claims the hour', async () => {
      const a = await agent('a');
      const clock = new FakeClock(NOW);
      const { store: tracked, idle } = trackStore(store);
      const first = retention(clock, tracked);
      const second = new Retention({ store: tracked, clock, logger: silentLogger, retentionMs: RETENTION, instanceId: 'i-2' });
      const oldRun = await run(a.id, NOW - 100 * DAY, 1, 2);
      first.start();
      await idle();
      expect(await store.getRun(oldRun)).toBeNull();

      // Half an hour later the other instance starts: the hour is taken, it leaves this run for now.
      await advanceClockTo(clock, NOW + HOUR / 2, idle);
      const later = await run(a.id, NOW - 100 * DAY, 1, 2);
      second.start();
      await idle();
      expect(await store.getRun(later)).not.toBeNull();
      // The next hour is the first instance's again (its timer comes first), and it prunes.
      await advanceClockTo(clock, NOW + HOUR, idle);
      expect(await store.getRun(later)).toBeNull();
      await first.stop();
      await second.stop();
      expect(clock.pendingTimers).toBe(0);
    });

    it('with retention 0, keeps every run and starts no loop', async () => {
      const a = await agent('a');
      const id = await run(a.id, NOW - 1_000 * DAY, 1);
      const clock = new FakeClock(NOW);
      const off = new Retention({ store, clock, logger: silentLogger, retentionMs: 0, instanceId: 'i-1' });
      off.start();
      expect(clock.pendingTimers).toBe(0);
      expect(await off.prune()).toEqual({ runs: 0, events: 0, endedBefore: NOW, auditEntries: 0 });
      expect(await store.getRun(id)).not.toBeNull();
      await off.stop();
    });
  });
}

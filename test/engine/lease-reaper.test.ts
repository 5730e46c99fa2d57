import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { LeaseReaper } from '../../src/engine/lease-reaper.js';
import { silentLogger } from '../../src/logger.js';
import type { Store } from '../../src/store/store.js';
import { advanceClockTo, dialectsUnderTest, trackStore } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';

const INTERVAL_MS = 5_000;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let clock: FakeClock;
    let store: Store;
    let idle: () => Promise<void>;
    let reapers: LeaseReaper[];

    beforeEach(async () => {
      clock = new FakeClock('2026-01-05T08:00:00.000Z');
      ({ store, idle } = trackStore(await dialect.open()));
      reapers = [];
    });

    afterEach(async () => {
      for (const reaper of reapers) await reaper.stop();
      expect(clock.pendingTimers).toBe(0);
      await store.close();
    });

    const advance = (ms: number) => advanceClockTo(clock, clock.now() + ms, idle);

    /** A running run of a new agent, claimed by `executorId` with a lease of `leaseMs`. */
    async function runningRun(name: string, executorId: string, leaseMs: number): Promise<string> {
      const now = clock.now();
      const { fields, nextFireAt } = planNewAgent({ name, schedule: '0 9 * * *', prompt: 'Work', enabled: false }, now);
      const agent = await store.createAgent(fields, null, nextFireAt, now);
      await store.enqueueManualRun(agent.id, `run-${name}`, now);
      const claimed = await store.claimQueuedRun(executorId, now, now + leaseMs);
      expect(claimed?.run.id).toBe(`run-${name}`);
      return `run-${name}`;
    }

    describe('LeaseReaper', () => {
      it('sweeps on its interval, ends only runs whose lease expired, and stops what they left behind', async () => {
        const dead = await runningRun('dead', 'exec-dead', 2_000);
        const alive = await runningRun('alive', 'exec-alive', 60_000);
        const stopped: string[][] = [];
        const reaper = new LeaseReaper({
          store,
          clock,
          logger: silentLogger,
          intervalMs: INTERVAL_MS,
          runner: {
            stopAbandoned: async (runIds) => {
              stopped.push([...runIds]);
              return runIds.length;
            },
          },
        });
        reapers.push(reaper);
        reaper.start();
        reaper.start();
        await idle();
        // No sweep at start: the first comes after one interval.
        expect(await store.getRun(dead)).toMatchObject({ status: 'running' });
        expect(clock.pendingTimers).toBe(1);

        await advance(INTERVAL_MS);
        const ended = await store.getRun(dead);
        expect(ended).toMatchObject({ status: 'error', completedAt: clock.now(), leaseExpiresAt: null });
        expect(ended?.output).toMatch(/lost its executor/);
        expect(await store.getRun(alive)).toMatchObject({ status: 'running', executorId: 'exec-alive' });
        expect(stopped).toEqual([[dead]]);

        // The other run is ended only once its own lease has expired (nobody renews it here).
        await advance(INTERVAL_MS);
        expect(stopped).toEqual([[dead]]);
        await advance(60_000);
        expect(await store.getRun(alive)).toMatchObject({ status: 'error' });
        expect(stopped).toEqual([[dead], [alive]]);
      });

      it('two reapers never end the same run twice', async () => {
        const run = await runningRun('dead', 'exec-dead', 1_000);
        clock.jumpTo(clock.now() + 2_000);
        const options = { store, clock, logger: silentLogger, intervalMs: INTERVAL_MS, runner: null };
        const results = await Promise.all([new LeaseReaper(options).sweep(), new LeaseReaper(options).sweep()]);
        expect(results.flat()).toEqual([run]);
      });

      it('a failed sweep is retried at the next interval; stop() is safe twice and leaves no timer', async () => {
        const run = await runningRun('dead', 'exec-dead', 1_000);
        let failures = 1;
        const flaky = Object.create(store) as Store;
        flaky.endAbandonedRuns = async (...args) => {
          if (failures-- > 0) throw new Error('Connection terminated unexpectedly');
          return store.endAbandonedRuns(...args);
        };
        const errors: unknown[] = [];
        const reaper = new LeaseReaper({
          store: flaky,
          clock,
          logger: { ...silentLogger, error: (obj) => errors.push(obj) },
          intervalMs: INTERVAL_MS,
          runner: null,
        });
        reapers.push(reaper);
        reaper.start();
        await advance(INTERVAL_MS);
        expect(errors).toHaveLength(1);
        expect(await store.getRun(run)).toMatchObject({ status: 'running' });
        await advance(INTERVAL_MS);
        expect(await store.getRun(run)).toMatchObject({ status: 'error' });
        await reaper.stop();
        await reaper.stop();
        expect(clock.pendingTimers).toBe(0);
      });
    });
  });
}

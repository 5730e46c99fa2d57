import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planAgentUpdate, planNewAgent, type AgentInput } from '../../src/domain/agent-fields.js';
import { ZERO_USAGE, type Agent, type Run } from '../../src/domain/types.js';
import { ON_TIME_TOLERANCE_MS, Scheduler, type SchedulerOptions } from '../../src/engine/scheduler.js';
import type { Logger } from '../../src/logger.js';
import type { Store } from '../../src/store/store.js';
import { deferred } from '../support/deferred.js';
import { advanceClockTo, dialectsUnderTest, trackStore } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';

const t = (iso: string): number => Date.parse(iso);
const HOUR = 3600_000;
const POLL_MS = 60_000;

/** A logger that remembers errors, so tests can check a pass went through cleanly. */
function recordingLogger(): Logger & { errors: unknown[] } {
  const errors: unknown[] = [];
  return { errors, info: () => {}, warn: () => {}, debug: () => {}, error: (obj) => errors.push(obj) };
}

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let clock: FakeClock;
    let store: Store;
    /** Waits until no store call is in flight: what a pass set off has finished (see trackStore). */
    let idle: () => Promise<void>;
    let logger: ReturnType<typeof recordingLogger>;
    let schedulers: Scheduler[];

    beforeEach(async () => {
      clock = new FakeClock('2026-01-05T08:00:00.000Z');
      ({ store, idle } = trackStore(await dialect.open()));
      logger = recordingLogger();
      schedulers = [];
    });

    /** The fake clock's advanceTo, with the store going idle after each timer (PostgreSQL needs real round trips). */
    const advanceTo = (target: number | string) => advanceClockTo(clock, target, idle);
    const advance = (ms: number) => advanceClockTo(clock, clock.now() + ms, idle);

    afterEach(async () => {
      for (const scheduler of schedulers) await scheduler.stop();
      expect(clock.pendingTimers).toBe(0);
      await store.close();
    });

    function newScheduler(options: Partial<SchedulerOptions> = {}): Scheduler {
      const scheduler = new Scheduler({ store, clock, logger, catchupWindowMs: HOUR, pollMs: POLL_MS, ...options });
      schedulers.push(scheduler);
      return scheduler;
    }

    async function createAgent(overrides: Partial<AgentInput> = {}): Promise<Agent> {
      const now = clock.now();
      const { fields, nextFireAt } = planNewAgent({ name: 'reporter', schedule: '0 * * * *', prompt: 'Report', ...overrides }, now);
      return store.createAgent(fields, null, nextFireAt, now);
    }

    async function updateAgent(id: string, patch: Partial<AgentInput>): Promise<Agent> {
      const now = clock.now();
      const agent = await store.updateAgent(id, (current) => planAgentUpdate(current, patch, now), now);
      if (!agent) throw new Error(`agent ${id} is gone`);
      return agent;
    }

    /** Runs of the agent, oldest first. */
    async function runsOf(agentId: string): Promise<Run[]> {
      return (await store.listRuns(agentId, { limit: 100, since: null })).reverse();
    }

    /** Runs of the agent that ran or will (skipped rows aside), oldest first. */
    async function ranOf(agentId: string): Promise<Run[]> {
      return (await runsOf(agentId)).filter((r) => r.status !== 'skipped');
    }

    /** The agent's skipped rows, oldest slot first. */
    async function skippedOf(agentId: string): Promise<Run[]> {
      return (await runsOf(agentId)).filter((r) => r.status === 'skipped').sort((a, b) => (a.scheduledFor ?? 0) - (b.scheduledFor ?? 0));
    }

    async function nextFireAtOf(agentId: string): Promise<number | null> {
      return (await store.getAgent(agentId))?.nextFireAt ?? null;
    }

    /** Ends every queued run as a success, as an executor would. */
    async function finishQueuedRuns(): Promise<number> {
      let count = 0;
      for (;;) {
        const now = clock.now();
        const claimed = await store.claimQueuedRun('test-executor', now, now + 30_000);
        if (!claimed) return count;
        const written = await store.finishRun(claimed.run.id, 'test-executor', { ...ZERO_USAGE, status: 'success', output: 'ok' }, now);
        expect(written).toBe(true);
        count++;
      }
    }

    /** A store whose findDueAgents waits at a gate after reading, to interleave an edit with a pass. */
    function gatedStore(inner: Store) {
      const read = deferred<void>();
      const gate = deferred<void>();
      const proxy = new Proxy(inner, {
        get(target, prop, receiver) {
          if (prop === 'findDueAgents') {
            return async (now: number, limit: number) => {
              const due = await target.findDueAgents(now, limit);
              read.resolve();
              await gate.promise;
              return due;
            };
          }
          const value = Reflect.get(target, prop, receiver) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
      return { store: proxy, read: read.promise, open: () => gate.resolve() };
    }

    describe('Scheduler: firing on time', () => {
      it('fires at the slot: scheduledFor is the slot and the run is queued right then', async () => {
        const agent = await createAgent();
        expect(agent.nextFireAt).toBe(t('2026-01-05T09:00:00Z'));
        newScheduler().start();

        await advanceTo(t('2026-01-05T09:00:00Z') - 1);
        expect(await runsOf(agent.id)).toEqual([]);

        await advanceTo('2026-01-05T09:00:00Z');
        const runs = await runsOf(agent.id);
        expect(runs).toHaveLength(1);
        const run = runs[0]!;
        expect(run).toMatchObject({ agentId: agent.id, status: 'queued', trigger: 'schedule', scheduledFor: t('2026-01-05T09:00:00Z') });
        // Queued by the pass the slot's timer started: at the slot on the fake clock, not "soon after" on a real one.
        expect(run.queuedAt).toBe(t('2026-01-05T09:00:00Z'));
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T10:00:00Z'));
        expect(logger.errors).toEqual([]);
      });

      it('stamps queuedAt when the claim writes the run, not when the batch was planned', async () => {
        const agent = await createAgent();
        // A claim that takes 40 ms from planning to writing (a busy database): the run exists only then.
        const slowClaims = new Proxy(store, {
          get(target, prop, receiver) {
            if (prop === 'claimTicks') {
              return async (...args: Parameters<Store['claimTicks']>) => {
                clock.jumpTo(clock.now() + 40);
                return target.claimTicks(...args);
              };
            }
            const value = Reflect.get(target, prop, receiver) as unknown;
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
        newScheduler({ store: slowClaims }).start();
        await advanceTo('2026-01-05T09:00:00Z');
        await idle();
        const [run] = await runsOf(agent.id);
        expect(run?.scheduledFor).toBe(t('2026-01-05T09:00:00Z'));
        expect(run?.queuedAt).toBe(t('2026-01-05T09:00:00Z') + 40);
      });

      it('aims its one timer at the earliest next fire time, within the safety poll', async () => {
        await createAgent({ schedule: '30 8 * * *' });
        await createAgent({ schedule: '0 * * * *' });
        const scheduler = newScheduler({ pollMs: 24 * HOUR });
        scheduler.start();
        scheduler.start(); // twice: still one timer
        await idle();
        expect(clock.pendingTimers).toBe(1);
        expect(clock.nextTimerAt).toBe(t('2026-01-05T08:30:00Z'));

        const polling = newScheduler({ pollMs: POLL_MS });
        await scheduler.stop();
        polling.start();
        await idle();
        expect(clock.nextTimerAt).toBe(clock.now() + POLL_MS);
      });

      it('fires several agents due at the same instant, each once, and keeps firing slot after slot', async () => {
        const a = await createAgent({ name: 'a' });
        const b = await createAgent({ name: 'b', schedule: '*/30 * * * *' });
        newScheduler().start();
        // Runs are ended between ticks, so the overlap rule never applies.
        for (const time of ['08:30', '09:00', '09:30', '10:00', '10:30', '11:00']) {
          await advanceTo(`2026-01-05T${time}:00Z`);
          await finishQueuedRuns();
        }
        expect((await runsOf(a.id)).map((r) => new Date(r.scheduledFor!).toISOString())).toEqual([
          '2026-01-05T09:00:00.000Z',
          '2026-01-05T10:00:00.000Z',
          '2026-01-05T11:00:00.000Z',
        ]);
        expect((await runsOf(b.id)).map((r) => new Date(r.scheduledFor!).toISOString())).toEqual([
          '2026-01-05T08:30:00.000Z',
          '2026-01-05T09:00:00.000Z',
          '2026-01-05T09:30:00.000Z',
          '2026-01-05T10:00:00.000Z',
          '2026-01-05T10:30:00.000Z',
          '2026-01-05T11:00:00.000Z',
        ]);
        expect((await runsOf(a.id)).every((r) => r.status === 'success')).toBe(true);
      });
    });

    describe('Scheduler: daylight saving time (Europe/Berlin)', () => {
      it('on the fall-back day an hourly agent fires on both 02:00s, a 02:30 agent once', async () => {
        clock.jumpTo('2026-10-24T22:30:00Z'); // 00:30 CEST
        const hourly = await createAgent({ name: 'hourly', timezone: 'Europe/Berlin' });
        const fixed = await createAgent({ name: 'fixed', schedule: '30 2 * * *', timezone: 'Europe/Berlin' });
        newScheduler().start();
        for (const at of ['2026-10-24T23:00Z', '2026-10-25T00:00Z', '2026-10-25T00:30Z', '2026-10-25T01:00Z', '2026-10-25T01:30Z', '2026-10-25T02:00Z']) {
          await advanceTo(at);
          await finishQueuedRuns();
        }
        const slots = async (id: string) => (await runsOf(id)).map((r) => new Date(r.scheduledFor!).toISOString());
        expect(await slots(hourly.id)).toEqual([
          '2026-10-24T23:00:00.000Z', // 01:00 CEST
          '2026-10-25T00:00:00.000Z', // 02:00 CEST
          '2026-10-25T01:00:00.000Z', // 02:00 CET
          '2026-10-25T02:00:00.000Z', // 03:00 CET
        ]);
        expect(await slots(fixed.id)).toEqual(['2026-10-25T00:30:00.000Z']);
        expect(await nextFireAtOf(fixed.id)).toBe(t('2026-10-26T01:30:00Z'));
      });

      it('on the spring-forward day a 02:30 agent fires once, at 03:00 local (01:00Z)', async () => {
        clock.jumpTo('2026-03-28T23:00:00Z'); // 00:00 CET
        const fixed = await createAgent({ schedule: '30 2 * * *', timezone: 'Europe/Berlin' });
        expect(fixed.nextFireAt).toBe(t('2026-03-29T01:00:00Z'));
        newScheduler().start();
        await advanceTo('2026-03-29T03:00:00Z');
        expect((await runsOf(fixed.id)).map((r) => r.scheduledFor)).toEqual([t('2026-03-29T01:00:00Z')]);
        expect(await nextFireAtOf(fixed.id)).toBe(t('2026-03-30T00:30:00Z'));
      });
    });

    describe('Scheduler: exactly once', () => {
      it('many passes at the same instant fire a slot once', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler();
        clock.jumpTo('2026-01-05T09:00:00Z');
        const reports = [];
        for (let i = 0; i < 5; i++) reports.push(await scheduler.pass());
        expect(reports.map((r) => r.fired)).toEqual([1, 0, 0, 0, 0]);
        expect(await runsOf(agent.id)).toHaveLength(1);
        // Even with the run ended (so the overlap rule is not what stops it), the slot does not fire again.
        await finishQueuedRuns();
        expect((await scheduler.pass()).fired).toBe(0);
        expect(await runsOf(agent.id)).toHaveLength(1);
      });

      it('two schedulers on the same store, passing concurrently, fire a slot once', async () => {
        const agents = await Promise.all([createAgent({ name: 'a' }), createAgent({ name: 'b' }), createAgent({ name: 'c' })]);
        const first = newScheduler();
        const second = newScheduler();
        for (const slot of ['2026-01-05T09:00:00Z', '2026-01-05T10:00:00Z']) {
          clock.jumpTo(slot);
          const reports = await Promise.all([first.pass(), second.pass(), first.pass(), second.pass()]);
          // One fire per agent in all; the other claimers saw the agent already moved on.
          expect(reports.reduce((sum, r) => sum + r.fired, 0)).toBe(agents.length);
          for (const agent of agents) {
            const runs = await runsOf(agent.id);
            expect(runs.filter((r) => r.scheduledFor === t(slot))).toHaveLength(1);
          }
          await finishQueuedRuns();
        }
        for (const agent of agents) expect(await runsOf(agent.id)).toHaveLength(2);
      });

      it('a claimer that read a stale next fire time loses the compare-and-set', async () => {
        const agent = await createAgent();
        const gated = gatedStore(store);
        const slow = newScheduler({ store: gated.store });
        const fast = newScheduler();
        clock.jumpTo('2026-01-05T09:00:00Z');
        const slowPass = slow.pass();
        await gated.read; // slow has read the agent as due at 09:00
        expect((await fast.pass()).fired).toBe(1);
        gated.open();
        expect(await slowPass).toEqual({ fired: 0, skipped: 0, lost: 1 });
        expect(await runsOf(agent.id)).toHaveLength(1);
      });

      it('an early timer fires nothing; the slot fires when it comes', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler();
        clock.jumpTo(t('2026-01-05T09:00:00Z') - 1);
        expect((await scheduler.pass()).fired).toBe(0);
        expect(await runsOf(agent.id)).toEqual([]);
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T09:00:00Z'));

        clock.jumpTo('2026-01-05T09:00:00Z');
        expect((await scheduler.pass()).fired).toBe(1);
        const runs = await runsOf(agent.id);
        expect(runs.map((r) => r.scheduledFor)).toEqual([t('2026-01-05T09:00:00Z')]);
      });

      it('a late timer fires the slot once, for the slot, and plans the slot after it', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler();
        clock.jumpTo(t('2026-01-05T09:00:00Z') + 5000);
        expect((await scheduler.pass()).fired).toBe(1);
        expect((await scheduler.pass()).fired).toBe(0);
        const runs = await runsOf(agent.id);
        expect(runs).toHaveLength(1);
        expect(runs[0]!.scheduledFor).toBe(t('2026-01-05T09:00:00Z'));
        expect(runs[0]!.queuedAt).toBe(t('2026-01-05T09:00:05Z'));
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T10:00:00Z'));
      });

      it('plans the next slot from the fired slot (seconds schedule, 5 s late)', async () => {
        const agent = await createAgent({ schedule: '*/20 * * * * *' });
        expect(agent.nextFireAt).toBe(t('2026-01-05T08:00:20Z'));
        const scheduler = newScheduler();
        clock.jumpTo('2026-01-05T08:00:25Z');
        expect((await scheduler.pass()).fired).toBe(1);
        expect((await runsOf(agent.id))[0]!.scheduledFor).toBe(t('2026-01-05T08:00:20Z'));
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T08:00:40Z'));
      });

      it('a clock going backwards after a fire does not fire the slot again', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler();
        clock.jumpTo('2026-01-05T09:00:00Z');
        expect((await scheduler.pass()).fired).toBe(1);
        await finishQueuedRuns();

        clock.jumpTo('2026-01-05T08:59:00Z');
        expect((await scheduler.pass()).fired).toBe(0);
        clock.jumpTo('2026-01-05T09:00:00Z');
        expect((await scheduler.pass()).fired).toBe(0);
        clock.jumpTo('2026-01-05T09:30:00Z');
        expect((await scheduler.pass()).fired).toBe(0);
        expect((await runsOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T09:00:00Z')]);
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T10:00:00Z'));

        clock.jumpTo('2026-01-05T10:00:00Z');
        expect((await scheduler.pass()).fired).toBe(1);
      });
    });

    describe('Scheduler: edits', () => {
      it('a schedule change takes effect: the old slot no longer fires, the new one does', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler({ pollMs: 24 * HOUR });
        scheduler.start();
        await advanceTo('2026-01-05T08:10:00Z');
        expect(clock.nextTimerAt).toBe(t('2026-01-05T09:00:00Z'));

        const updated = await updateAgent(agent.id, { schedule: '30 9 * * *' });
        expect(updated.nextFireAt).toBe(t('2026-01-05T09:30:00Z'));
        // The timer still aims at 09:00 (no wake): that pass must find nothing due.
        await advanceTo('2026-01-05T09:00:00Z');
        expect(await runsOf(agent.id)).toEqual([]);

        await advanceTo('2026-01-05T09:30:00Z');
        expect((await runsOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T09:30:00Z')]);
        await finishQueuedRuns();
        await advanceTo('2026-01-06T09:30:00Z');
        expect((await runsOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T09:30:00Z'), t('2026-01-06T09:30:00Z')]);
        expect((await runsOf(agent.id)).some((r) => r.scheduledFor === t('2026-01-05T10:00:00Z'))).toBe(false);
      });

      it('an edit that moves the agent between a pass reading it and claiming it wins', async () => {
        const agent = await createAgent();
        const gated = gatedStore(store);
        const scheduler = newScheduler({ store: gated.store });
        clock.jumpTo('2026-01-05T09:00:00Z');
        const pass = scheduler.pass();
        await gated.read;
        await updateAgent(agent.id, { enabled: false });
        gated.open();
        expect(await pass).toEqual({ fired: 0, skipped: 0, lost: 1 });
        expect(await runsOf(agent.id)).toEqual([]);
        expect(await nextFireAtOf(agent.id)).toBeNull();
      });

      it('a disabled agent does not run, and re-enabling does not run the slots it missed', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler();
        scheduler.start();
        await advanceTo('2026-01-05T08:30:00Z');
        const disabled = await updateAgent(agent.id, { enabled: false });
        expect(disabled.nextFireAt).toBeNull();
        scheduler.wake();

        await advanceTo('2026-01-05T12:30:00Z');
        expect(await runsOf(agent.id)).toEqual([]);

        const enabled = await updateAgent(agent.id, { enabled: true });
        expect(enabled.nextFireAt).toBe(t('2026-01-05T13:00:00Z'));
        scheduler.wake();
        await advance(1);
        expect(await runsOf(agent.id)).toEqual([]);

        await advanceTo('2026-01-05T13:00:00Z');
        expect((await runsOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T13:00:00Z')]);
        expect(logger.errors).toEqual([]);
      });

      it('a prompt edit keeps the planned slot', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler();
        scheduler.start();
        await advanceTo('2026-01-05T08:59:00Z');
        const updated = await updateAgent(agent.id, { prompt: 'new prompt', maxTurns: 3 });
        expect(updated.nextFireAt).toBe(t('2026-01-05T09:00:00Z'));
        await advanceTo('2026-01-05T09:00:00Z');
        expect((await runsOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T09:00:00Z')]);
      });

      it('a deleted agent runs no more, and the scheduler goes on without errors', async () => {
        const doomed = await createAgent({ name: 'doomed' });
        const survivor = await createAgent({ name: 'survivor', schedule: '30 * * * *' });
        const scheduler = newScheduler();
        scheduler.start();
        await advanceTo('2026-01-05T09:00:00Z');
        expect(await runsOf(doomed.id)).toHaveLength(1);

        expect(await store.deleteAgent(doomed.id)).toEqual({ id: doomed.id, name: 'doomed' });
        await finishQueuedRuns();
        for (const time of ['09:30', '10:00', '10:30', '11:00', '11:30', '12:00']) {
          await advanceTo(`2026-01-05T${time}:00Z`);
          await finishQueuedRuns();
        }

        expect(await store.getAgent(doomed.id)).toBeNull();
        // Only the survivor's runs exist (08:30 was before the fire above; 09:30, 10:30, 11:30 after).
        const stats = await store.globalStats(t('2026-01-05T00:00:00Z'), clock.now());
        const survivorRuns = await runsOf(survivor.id);
        expect(survivorRuns.map((r) => new Date(r.scheduledFor!).toISOString())).toEqual([
          '2026-01-05T08:30:00.000Z',
          '2026-01-05T09:30:00.000Z',
          '2026-01-05T10:30:00.000Z',
          '2026-01-05T11:30:00.000Z',
        ]);
        expect(stats.runsInPeriod).toBe(survivorRuns.length);
        expect(stats.totalAgents).toBe(1);
        expect(logger.errors).toEqual([]);
      });

      it('deleting an agent the timer aims at is harmless', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler({ pollMs: 24 * HOUR });
        scheduler.start();
        await idle();
        expect(clock.nextTimerAt).toBe(t('2026-01-05T09:00:00Z'));
        await store.deleteAgent(agent.id);
        await advanceTo('2026-01-05T09:00:00Z');
        expect(await scheduler.pass()).toEqual({ fired: 0, skipped: 0, lost: 0 });
        expect(await store.earliestFireAt()).toBeNull();
        expect(logger.errors).toEqual([]);
      });
    });

    describe('Scheduler: overlap', () => {
      it('skips ticks while a run is queued or running, keeps advancing, and fires after it ends', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler();

        clock.jumpTo('2026-01-05T09:00:00Z');
        expect(await scheduler.pass()).toEqual({ fired: 1, skipped: 0, lost: 0 });

        // 10:00: the 09:00 run is still queued.
        clock.jumpTo('2026-01-05T10:00:00Z');
        expect(await scheduler.pass()).toEqual({ fired: 0, skipped: 1, lost: 0 });
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T11:00:00Z'));

        // 11:00: now it is running.
        const claimed = await store.claimQueuedRun('test-executor', clock.now(), clock.now() + 30_000);
        expect(claimed?.run.scheduledFor).toBe(t('2026-01-05T09:00:00Z'));
        clock.jumpTo('2026-01-05T11:00:00Z');
        expect(await scheduler.pass()).toEqual({ fired: 0, skipped: 1, lost: 0 });
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T12:00:00Z'));

        clock.jumpTo('2026-01-05T11:30:00Z');
        await store.finishRun(claimed!.run.id, 'test-executor', { ...ZERO_USAGE, status: 'success', output: 'ok' }, clock.now());

        clock.jumpTo('2026-01-05T12:00:00Z');
        expect(await scheduler.pass()).toEqual({ fired: 1, skipped: 0, lost: 0 });
        const runs = await runsOf(agent.id);
        // The two slots the 09:00 run blocked, queued then running, are one skipped row.
        expect(runs.map((r) => [r.scheduledFor, r.status])).toEqual([
          [t('2026-01-05T09:00:00Z'), 'success'],
          [t('2026-01-05T10:00:00Z'), 'skipped'],
          [t('2026-01-05T12:00:00Z'), 'queued'],
        ]);
        expect(runs[1]).toMatchObject({ skippedSlots: 2, lastSkippedFor: t('2026-01-05T11:00:00Z'), trigger: 'schedule', costUsd: 0 });
        expect(runs[1]!.output).toContain(claimed!.run.id);
      });

      it('a queued manual run also blocks the scheduled tick', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler();
        await store.enqueueManualRun(agent.id, 'manual-1', clock.now());
        clock.jumpTo('2026-01-05T09:00:00Z');
        expect(await scheduler.pass()).toEqual({ fired: 0, skipped: 1, lost: 0 });
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T10:00:00Z'));
      });

      it('with the timer driving it, an open run suppresses later ticks until it ends', async () => {
        const agent = await createAgent();
        newScheduler().start();
        await advanceTo('2026-01-05T12:00:00Z');
        expect((await ranOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T09:00:00Z')]);
        expect((await skippedOf(agent.id)).map((r) => [r.scheduledFor, r.skippedSlots, r.lastSkippedFor])).toEqual([
          [t('2026-01-05T10:00:00Z'), 3, t('2026-01-05T12:00:00Z')],
        ]);
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T13:00:00Z'));
        await finishQueuedRuns();
        await advanceTo('2026-01-05T13:00:00Z');
        expect((await ranOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T09:00:00Z'), t('2026-01-05T13:00:00Z')]);
        expect(await skippedOf(agent.id)).toHaveLength(1);
      });
    });

    describe('Scheduler: catch-up after downtime', () => {
      it('runs only the latest missed slot when it is within the window', async () => {
        await advanceTo('2026-01-05T08:20:00Z');
        const agent = await createAgent();
        const before = newScheduler({ catchupWindowMs: HOUR });
        before.start();
        await idle();
        await before.stop();
        expect(clock.pendingTimers).toBe(0);

        await advance(5 * HOUR); // down from 08:20 to 13:20: slots 09:00 .. 13:00 missed
        const after = newScheduler({ catchupWindowMs: HOUR });
        after.start();
        await idle();

        const runs = await ranOf(agent.id);
        expect(runs).toHaveLength(1);
        expect(runs[0]!.scheduledFor).toBe(t('2026-01-05T13:00:00Z'));
        expect(runs[0]!.queuedAt).toBe(t('2026-01-05T13:20:00Z'));
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T14:00:00Z'));
        // The rest are not silently dropped: one skipped row says how many slots were missed.
        const [missed, ...more] = await skippedOf(agent.id);
        expect(more).toEqual([]);
        expect(missed).toMatchObject({ scheduledFor: t('2026-01-05T09:00:00Z'), lastSkippedFor: t('2026-01-05T12:00:00Z'), skippedSlots: 4 });
        expect(missed!.output).toMatch(/service was down.*4 slots/);

        // The rest of the missed slots never run, also not on later passes.
        await finishQueuedRuns();
        expect((await after.pass()).fired).toBe(0);
        expect(await ranOf(agent.id)).toHaveLength(1);
        expect(await skippedOf(agent.id)).toHaveLength(1);
      });

      it('runs nothing when the latest missed slot is older than the window, but plans the next slot', async () => {
        await advanceTo('2026-01-05T08:20:00Z');
        const agent = await createAgent();
        clock.jumpTo(t('2026-01-05T13:20:00Z'));
        const scheduler = newScheduler({ catchupWindowMs: 10 * 60_000 });
        expect(await scheduler.pass()).toEqual({ fired: 0, skipped: 1, lost: 0 });
        expect(await ranOf(agent.id)).toEqual([]);
        expect((await skippedOf(agent.id)).map((r) => [r.scheduledFor, r.lastSkippedFor, r.skippedSlots])).toEqual([
          [t('2026-01-05T09:00:00Z'), t('2026-01-05T13:00:00Z'), 5],
        ]);
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-05T14:00:00Z'));
      });

      it('a daily schedule missed by 3 hours with a 1 hour window: no run, next slot tomorrow', async () => {
        const agent = await createAgent({ schedule: '0 9 * * *' });
        expect(agent.nextFireAt).toBe(t('2026-01-05T09:00:00Z'));
        const before = newScheduler();
        before.start();
        await idle();
        await before.stop();

        clock.jumpTo('2026-01-05T12:00:00Z');
        const after = newScheduler({ catchupWindowMs: HOUR });
        after.start();
        await idle();
        expect(await ranOf(agent.id)).toEqual([]);
        expect((await skippedOf(agent.id)).map((r) => [r.scheduledFor, r.skippedSlots])).toEqual([[t('2026-01-05T09:00:00Z'), 1]]);
        expect(await nextFireAtOf(agent.id)).toBe(t('2026-01-06T09:00:00Z'));
      });

      it('a slot late by less than the on-time tolerance fires even with no catch-up window', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler({ catchupWindowMs: 0 });
        clock.jumpTo(t('2026-01-05T09:00:00Z') + ON_TIME_TOLERANCE_MS);
        expect((await scheduler.pass()).fired).toBe(1);
        expect((await runsOf(agent.id))[0]!.scheduledFor).toBe(t('2026-01-05T09:00:00Z'));

        await finishQueuedRuns();
        clock.jumpTo(t('2026-01-05T10:00:00Z') + ON_TIME_TOLERANCE_MS + 1);
        expect(await scheduler.pass()).toEqual({ fired: 0, skipped: 1, lost: 0 });
        expect(await ranOf(agent.id)).toHaveLength(1);
        expect((await skippedOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T10:00:00Z')]);
      });
    });

    describe('Scheduler: lifecycle', () => {
      it('calls onRunQueued when a tick fires, and not when nothing fired', async () => {
        let calls = 0;
        const agent = await createAgent();
        const scheduler = newScheduler({ onRunQueued: () => calls++ });
        scheduler.start();
        await advanceTo('2026-01-05T08:59:59Z');
        expect(calls).toBe(0);
        await advanceTo('2026-01-05T09:00:00Z');
        expect(calls).toBe(1);
        // 10:00 is skipped (the 09:00 run is still queued): no call.
        await advanceTo('2026-01-05T10:00:00Z');
        expect(calls).toBe(1);
        expect(await ranOf(agent.id)).toHaveLength(1);
        await finishQueuedRuns();
        await advanceTo('2026-01-05T11:00:00Z');
        expect(calls).toBe(2);
      });

      it('stop() is safe to call twice and leaves no timers', async () => {
        await createAgent();
        const scheduler = newScheduler();
        scheduler.start();
        await idle();
        expect(clock.pendingTimers).toBe(1);
        await scheduler.stop();
        await scheduler.stop();
        expect(clock.pendingTimers).toBe(0);
        // A stopped scheduler ignores wakes.
        scheduler.wake();
        await idle();
        expect(clock.pendingTimers).toBe(0);
      });

      it('stop() waits for a pass in flight and arms nothing after it', async () => {
        const agent = await createAgent();
        clock.jumpTo('2026-01-05T09:00:00Z');
        const gated = gatedStore(store);
        const scheduler = newScheduler({ store: gated.store });
        scheduler.start();
        await gated.read;
        let stopped = false;
        const stopping = scheduler.stop().then(() => {
          stopped = true;
        });
        await idle();
        expect(stopped).toBe(false);
        gated.open();
        await stopping;
        expect(clock.pendingTimers).toBe(0);
        // The pass that was in flight completed its claim.
        expect(await runsOf(agent.id)).toHaveLength(1);
      });

      it('can start again after stop', async () => {
        const agent = await createAgent();
        const scheduler = newScheduler();
        scheduler.start();
        await idle();
        await scheduler.stop();
        scheduler.start();
        await advanceTo('2026-01-05T09:00:00Z');
        expect(await runsOf(agent.id)).toHaveLength(1);
      });

      it('a failing store is logged and retried at the next poll', async () => {
        const agent = await createAgent();
        let failures = 2;
        const flaky = new Proxy(store, {
          get(target, prop, receiver) {
            if (prop === 'findDueAgents') {
              return async (now: number, limit: number) => {
                if (failures > 0) {
                  failures--;
                  throw new Error('database is locked');
                }
                return target.findDueAgents(now, limit);
              };
            }
            const value = Reflect.get(target, prop, receiver) as unknown;
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        });
        clock.jumpTo('2026-01-05T09:00:00Z');
        newScheduler({ store: flaky }).start();
        await idle();
        expect(logger.errors).toHaveLength(1);
        expect(await runsOf(agent.id)).toEqual([]);
        // No hot retry loop while the store fails (the agent is overdue, but the retry waits for the poll).
        await advance(POLL_MS - 1);
        expect(logger.errors).toHaveLength(1);
        await advance(1);
        expect(logger.errors).toHaveLength(2);
        expect(await runsOf(agent.id)).toEqual([]);
        await advance(POLL_MS);
        expect(logger.errors).toHaveLength(2);
        // 09:00 was missed by two polls (2 min): still within the catch-up window, so it runs.
        expect((await runsOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T09:00:00Z')]);
      });
    });
  });
}

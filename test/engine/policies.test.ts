import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent, type AgentInput } from '../../src/domain/agent-fields.js';
import type { Agent, Run } from '../../src/domain/types.js';
import { RunExecutor } from '../../src/engine/run-executor.js';
import { ON_TIME_TOLERANCE_MS, Scheduler } from '../../src/engine/scheduler.js';
import type { Logger } from '../../src/logger.js';
import type { Store } from '../../src/store/store.js';
import { advanceClockTo, dialectsUnderTest, trackStore } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeRunner } from '../support/fake-runner.js';

/**
 * Issue 11's policies with the scheduler and the executor together on a fake clock, as the app
 * wires them (a replaced run is stopped through onCancelRequested): overlap policies, skipped
 * rows, retries and their backoff (also across a restart), pauses, caps, downtime.
 */

const t = (iso: string): number => Date.parse(iso);
const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`policies on a fake clock (${dialect.name})`, () => {
    let clock: FakeClock;
    let store: Store;
    let idle: () => Promise<void>;
    let runner: FakeRunner;
    let workspacesDir: string;
    let logger: Logger & { errors: unknown[] };
    let schedulers: Scheduler[];
    let executors: RunExecutor[];

    beforeEach(async () => {
      clock = new FakeClock('2026-01-05T08:00:00.000Z');
      ({ store, idle } = trackStore(await dialect.open()));
      runner = new FakeRunner();
      workspacesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-policies-'));
      const errors: unknown[] = [];
      logger = { errors, info: () => {}, warn: () => {}, debug: () => {}, error: (obj) => errors.push(obj) };
      schedulers = [];
      executors = [];
    });

    afterEach(async () => {
      for (const scheduler of schedulers) await scheduler.stop();
      runner.autoFinish = {};
      for (const run of runner.runs) run.finish();
      for (const executor of executors) {
        const stopping = executor.stop(1_000);
        await advance(1_001);
        await stopping;
      }
      expect(clock.pendingTimers).toBe(0);
      expect(logger.errors).toEqual([]);
      await store.close();
      fs.rmSync(workspacesDir, { recursive: true, force: true });
    });

    const advance = (ms: number) => advanceClockTo(clock, clock.now() + ms, idle);
    const advanceTo = (target: number | string) => advanceClockTo(clock, target, idle);

    /**
     * A scheduler and an executor wired as the app wires them (not started). The executor polls
     * every `pollMs` (a second where a retry's start time is measured; else a minute, so that hours
     * of fake time pass in few timers), its lease outlasting the heartbeat.
     */
    function engine(catchupWindowMs = HOUR, pollMs = MINUTE): { scheduler: Scheduler; executor: RunExecutor } {
      const executor = new RunExecutor({
        store,
        runner,
        clock,
        logger,
        instanceId: `exec-${executors.length + 1}`,
        maxConcurrentRuns: 4,
        leaseMs: 5 * MINUTE,
        heartbeatMs: MINUTE,
        pollMs,
        workspacesDir,
        secrets: { forAgent: async () => ({}) },
      });
      const scheduler = new Scheduler({
        store,
        clock,
        logger,
        catchupWindowMs,
        pollMs: MINUTE,
        onRunQueued: () => executor.wake(),
        onCancelRequested: (runIds) => executor.cancelLocal(runIds),
      });
      executors.push(executor);
      schedulers.push(scheduler);
      return { scheduler, executor };
    }

    function start(pollMs = MINUTE): { scheduler: Scheduler; executor: RunExecutor } {
      const parts = engine(HOUR, pollMs);
      parts.executor.start();
      parts.scheduler.start();
      return parts;
    }

    async function createAgent(overrides: Partial<AgentInput> = {}): Promise<Agent> {
      const now = clock.now();
      const { fields, nextFireAt } = planNewAgent({ name: 'worker', schedule: '0 * * * *', prompt: 'work', ...overrides }, now);
      return store.createAgent(fields, null, nextFireAt, now);
    }

    async function runsOf(agentId: string): Promise<Run[]> {
      return (await store.listRuns(agentId, { limit: 1000, since: null })).reverse();
    }

    /** A retry chain, first run first (a retry is queued the instant its run failed: order by attempt). */
    const chainOf = async (agentId: string) => (await runsOf(agentId)).sort((a, b) => a.attempt - b.attempt);

    const skippedOf = async (agentId: string) =>
      (await runsOf(agentId)).filter((r) => r.status === 'skipped').sort((a, b) => (a.scheduledFor ?? 0) - (b.scheduledFor ?? 0));

    /** Yields until `condition` holds (the executor's working directories are real I/O). */
    async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
      const giveUpAt = Date.now() + 10_000;
      for (;;) {
        if (await condition()) return;
        if (Date.now() > giveUpAt) throw new Error(`timed out waiting for: ${what}`);
        await idle();
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }

    const fakeRun = (runId: string) => {
      const run = runner.runs.find((r) => r.request.runId === runId);
      if (!run) throw new Error(`the runner never got ${runId}`);
      return run;
    };

    async function runAt(agentId: string, slot: number): Promise<Run> {
      const run = (await runsOf(agentId)).find((r) => r.scheduledFor === slot && r.status !== 'skipped');
      if (!run) throw new Error(`no run for ${new Date(slot).toISOString()}`);
      return run;
    }

    describe('overlap', () => {
      it('skip: a seconds-cron agent behind a long run makes one skipped row whose skippedSlots counts the slots', async () => {
        const agent = await createAgent({ schedule: '* * * * * *' });
        start();
        await advanceTo('2026-01-05T08:00:01Z');
        const [first] = await runsOf(agent.id);
        await until(() => runner.runs.length === 1, 'the first run to start');
        expect(first).toMatchObject({ status: 'running', scheduledFor: t('2026-01-05T08:00:01Z') });

        await advanceTo('2026-01-05T08:02:00Z');
        // 08:00:02 .. 08:02:00: 119 slots, one row.
        const rows = await skippedOf(agent.id);
        expect(rows.map((r) => [r.scheduledFor, r.lastSkippedFor, r.skippedSlots])).toEqual([[t('2026-01-05T08:00:02Z'), t('2026-01-05T08:02:00Z'), 119]]);
        expect(rows[0]!.output).toContain(first!.id);
        expect(await runsOf(agent.id)).toHaveLength(2);

        fakeRun(first!.id).finish();
        await until(async () => (await store.getRun(first!.id))?.status === 'success', 'the first run to end');
        await advanceTo('2026-01-05T08:02:01Z');
        const second = await runAt(agent.id, t('2026-01-05T08:02:01Z'));
        await until(() => runner.runs.length === 2, 'the next slot to start');
        await advanceTo('2026-01-05T08:02:04Z');
        // The second run's own skips are a row of their own.
        const after = await skippedOf(agent.id);
        expect(after.map((r) => [r.skippedSlots, r.lastSkippedFor])).toEqual([
          [119, t('2026-01-05T08:02:00Z')],
          [3, t('2026-01-05T08:02:04Z')],
        ]);
        expect(after[1]!.output).toContain(second.id);
        const stats = await store.agentStats(agent.id, t('2026-01-05T00:00:00Z'), clock.now());
        expect(stats).toMatchObject({ totalRuns: 2, skippedRuns: 2 });
      });

      it('queue: the waiting slot starts the moment the running run ends; a further slot is skipped', async () => {
        const agent = await createAgent({ overlapPolicy: 'queue' });
        start();
        await advanceTo('2026-01-05T09:00:00Z');
        const nine = await runAt(agent.id, t('2026-01-05T09:00:00Z'));
        await until(() => runner.runs.length === 1, 'the 09:00 run to start');
        await advanceTo('2026-01-05T11:00:00Z');
        expect((await runAt(agent.id, t('2026-01-05T10:00:00Z'))).status).toBe('queued');
        expect((await skippedOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T11:00:00Z')]);
        expect(runner.runs).toHaveLength(1);

        await advanceTo('2026-01-05T11:30:00Z');
        fakeRun(nine.id).finish();
        await until(() => runner.runs.length === 2, 'the waiting slot to start');
        expect(await runAt(agent.id, t('2026-01-05T10:00:00Z'))).toMatchObject({ status: 'running', startedAt: t('2026-01-05T11:30:00Z') });
      });

      it('replace: the running run is cancelled at the slot and the new run starts right away', async () => {
        const agent = await createAgent({ overlapPolicy: 'replace' });
        start();
        await advanceTo('2026-01-05T09:00:00Z');
        const nine = await runAt(agent.id, t('2026-01-05T09:00:00Z'));
        await until(() => runner.runs.length === 1, 'the 09:00 run to start');
        fakeRun(nine.id).accrue({ costUsd: 0.25, numTurns: 1 });

        await advanceTo('2026-01-05T10:00:00Z');
        await until(() => runner.runs.length === 2, 'the 10:00 run to start');
        expect(await store.getRun(nine.id)).toMatchObject({ status: 'cancelled', costUsd: 0.25 });
        expect(await runAt(agent.id, t('2026-01-05T10:00:00Z'))).toMatchObject({ status: 'running', startedAt: t('2026-01-05T10:00:00Z') });
        expect(await skippedOf(agent.id)).toEqual([]);
      });

      it('allow: slots run side by side', async () => {
        const agent = await createAgent({ overlapPolicy: 'allow' });
        start();
        await advanceTo('2026-01-05T10:00:00Z');
        await until(() => runner.runs.length === 2, 'both runs to start');
        expect((await runsOf(agent.id)).map((r) => r.status)).toEqual(['running', 'running']);
      });
    });

    describe('retries', () => {
      it('retries a failed run after retryDelaySeconds, doubled per attempt, until maxRetries', async () => {
        runner.autoFinish = { status: 'error', output: 'the tool crashed' };
        const agent = await createAgent({ schedule: '0 0 1 1 *', maxRetries: 2, retryDelaySeconds: 60 });
        const { executor } = start(SECOND);
        await store.enqueueManualRun(agent.id, 'first', clock.now());
        executor.wake();
        await until(async () => (await runsOf(agent.id)).length === 2, 'the first retry to be queued');
        const failedAt = clock.now();
        await advance(60 * SECOND - 1);
        expect(runner.runs).toHaveLength(1);
        await advance(1 * SECOND);
        await until(async () => (await runsOf(agent.id)).length === 3, 'the second retry to be queued');
        const [, retry1, retry2] = await chainOf(agent.id);
        expect(retry1).toMatchObject({ status: 'error', trigger: 'retry', attempt: 2, retryOf: 'first' });
        expect(retry1!.startedAt! - failedAt).toBeGreaterThanOrEqual(60 * SECOND);
        expect(retry1!.startedAt! - failedAt).toBeLessThanOrEqual(61 * SECOND);
        expect(retry2).toMatchObject({ status: 'queued', attempt: 3, notBefore: retry1!.completedAt! + 120 * SECOND });

        await advance(120 * SECOND);
        await until(async () => (await store.getRun(retry2!.id))?.status === 'error', 'the second retry to fail');
        await advance(5 * MINUTE);
        expect((await chainOf(agent.id)).map((r) => [r.trigger, r.attempt, r.status])).toEqual([
          ['manual', 1, 'error'],
          ['retry', 2, 'error'],
          ['retry', 3, 'error'],
        ]);
      });

      it('a retry survives a restart, and a run interrupted by a crash is retried after it', async () => {
        const agent = await createAgent({ schedule: '0 0 1 1 *', maxRetries: 2, retryDelaySeconds: 30 });
        // A process claimed a run and died (no executor here will finish it).
        await store.enqueueManualRun(agent.id, 'interrupted', clock.now());
        expect((await store.claimQueuedRun('dead-process', clock.now(), clock.now() + MINUTE))?.run.id).toBe('interrupted');
        await advance(10 * MINUTE);

        // The restart, as App.start does it on the embedded database.
        const restartedAt = clock.now();
        await store.endAbandonedRuns(restartedAt, { everything: true, staleSlotsBefore: restartedAt - HOUR, catchupWindowMs: HOUR });
        expect(await store.getRun('interrupted')).toMatchObject({ status: 'error' });
        const { executor } = start(SECOND);
        await advance(29 * SECOND);
        expect(runner.runs).toHaveLength(0);
        await advance(2 * SECOND);
        await until(() => runner.runs.length === 1, 'the retry to start');
        const retry = (await chainOf(agent.id))[1]!;
        expect(retry).toMatchObject({ trigger: 'retry', retryOf: 'interrupted', attempt: 2, status: 'running' });
        expect(retry.startedAt).toBe(restartedAt + 30 * SECOND);

        // It fails too; its retry (a minute later) is queued, and the service stops meanwhile.
        fakeRun(retry.id).finish({ status: 'error', output: 'again' });
        await until(async () => (await runsOf(agent.id)).length === 3, 'the next retry to be queued');
        const stopping = executor.stop(1_000);
        await advance(1_001);
        await stopping;
        await schedulers[0]!.stop();
        await advance(5 * MINUTE);
        const next = (await chainOf(agent.id))[2]!;
        const failedAt = (await store.getRun(retry.id))!.completedAt!;
        expect(next).toMatchObject({ status: 'queued', attempt: 3, notBefore: failedAt + 60 * SECOND });

        // Started again later: the retry, overdue now, starts at once, and succeeds.
        runner.autoFinish = { status: 'success', output: 'third time lucky' };
        start(SECOND);
        await until(async () => (await store.getRun(next.id))?.status === 'success', 'the retry to run after the restart');
        expect(await store.getRun(next.id)).toMatchObject({ trigger: 'retry', retryOf: 'interrupted', output: 'third time lucky' });
      });
    });

    it('pauses the agent after pauseAfterFailures failed runs, emits agent.paused, and fires no more', async () => {
      runner.autoFinish = { status: 'error', output: 'upstream down' };
      const hook = await store.createWebhook(
        {
          id: randomUUID(),
          fields: { name: 'h', url: 'https://hooks.example.com/x', events: ['agent.paused', 'run.failed'], agentIds: null, format: 'standard', enabled: true },
          encryptedSecret: 'sealed',
        },
        clock.now(),
      );
      const agent = await createAgent({ schedule: '*/5 * * * *', pauseAfterFailures: 3 });
      start();
      // Slot by slot: each run ends (after the executor's real file system work) before the next slot.
      for (const slot of ['2026-01-05T08:05:00Z', '2026-01-05T08:10:00Z', '2026-01-05T08:15:00Z']) {
        await advanceTo(slot);
        await until(async () => (await runsOf(agent.id)).some((r) => r.scheduledFor === t(slot) && r.status === 'error'), `the ${slot} run to fail`);
      }
      await until(async () => (await store.getAgent(agent.id))?.enabled === false, 'the agent to be paused');
      const paused = (await store.getAgent(agent.id))!;
      expect(paused).toMatchObject({ enabled: false, nextFireAt: null, pausedAt: t('2026-01-05T08:15:00Z') });
      expect(paused.pausedReason).toMatch(/3 failed runs in a row.*upstream down/);
      await advanceTo('2026-01-05T09:00:00Z');
      expect((await runsOf(agent.id)).map((r) => r.scheduledFor)).toEqual([t('2026-01-05T08:05:00Z'), t('2026-01-05T08:10:00Z'), t('2026-01-05T08:15:00Z')]);
      const types = (await store.listDeliveries(hook.id, 100)).map((d) => d.eventType).sort();
      expect(types).toEqual(['agent.paused', 'run.failed', 'run.failed', 'run.failed']);
    });

    it('slots a used-up cap stops are one skipped row naming the cap', async () => {
      runner.autoFinish = { status: 'success', output: 'done', costUsd: 1.25 };
      const agent = await createAgent({ schedule: '* * * * *', dailyBudgetUsd: 1 });
      start();
      await advanceTo('2026-01-05T08:01:00Z');
      await until(async () => (await runsOf(agent.id))[0]?.status === 'success', 'the first run to end');
      // The first run was given the cap as its budget (no per-run limit of its own).
      expect(runner.runs[0]!.request.maxBudgetUsd).toBe(1);
      await advanceTo('2026-01-05T08:06:00Z');
      await idle();
      const rows = await skippedOf(agent.id);
      expect(rows.map((r) => [r.scheduledFor, r.lastSkippedFor, r.skippedSlots])).toEqual([[t('2026-01-05T08:02:00Z'), t('2026-01-05T08:06:00Z'), 5]]);
      expect(rows[0]!.output).toMatch(/cap/i);
      expect(runner.runs).toHaveLength(1);
      expect(await runsOf(agent.id)).toHaveLength(2);
    });

    it('after downtime, the queued slot gone stale and the slots missed are one row; the latest slot runs', async () => {
      const agent = await createAgent();
      const { scheduler } = engine();
      scheduler.start();
      await advanceTo('2026-01-05T09:00:00Z');
      expect((await runAt(agent.id, t('2026-01-05T09:00:00Z'))).status).toBe('queued');
      await scheduler.stop();

      // Down from 09:30 to 13:20; the 09:00 run never started.
      await advanceTo('2026-01-05T13:20:00Z');
      const restartedAt = clock.now();
      await store.endAbandonedRuns(restartedAt, {
        everything: true,
        staleSlotsBefore: restartedAt - Math.max(HOUR, ON_TIME_TOLERANCE_MS),
        catchupWindowMs: HOUR,
      });
      const after = engine();
      after.executor.start();
      after.scheduler.start(restartedAt);
      await until(() => runner.runs.length === 1, 'the latest slot to run');
      const runs = await runsOf(agent.id);
      expect(runs.filter((r) => r.status !== 'skipped').map((r) => [r.scheduledFor, r.status])).toEqual([[t('2026-01-05T13:00:00Z'), 'running']]);
      const rows = await skippedOf(agent.id);
      expect(rows.map((r) => [r.scheduledFor, r.lastSkippedFor, r.skippedSlots])).toEqual([[t('2026-01-05T09:00:00Z'), t('2026-01-05T12:00:00Z'), 4]]);
      expect(rows[0]!.output).toMatch(/service was down.*4 slots/);
    });
  });
}

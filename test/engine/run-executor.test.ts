import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planAgentUpdate, planNewAgent, type AgentInput } from '../../src/domain/agent-fields.js';
import { ZERO_USAGE, type Agent, type Run, type RunStatus } from '../../src/domain/types.js';
import type { AgentRunner } from '../../src/engine/agent-runner.js';
import { LeaseReaper } from '../../src/engine/lease-reaper.js';
import { FINISH_RETRY_DELAYS_MS, RunExecutor, type RunExecutorOptions } from '../../src/engine/run-executor.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import type { Store } from '../../src/store/store.js';
import { advanceClockTo, dialectsUnderTest, trackStore } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeRunner } from '../support/fake-runner.js';

const HEARTBEAT_MS = 5_000;
const LEASE_MS = 30_000;
const POLL_MS = 1_000;
const DAY_MS = 86_400_000;

/** What a run accrues in the usage tests, in two model turns (binary fractions: sums are exact). */
const TURN_1 = { costUsd: 0.25, inputTokens: 700, outputTokens: 100, cacheReadInputTokens: 300, numTurns: 1 };
const TURN_2 = { costUsd: 0.125, inputTokens: 500, outputTokens: 50, cacheCreationInputTokens: 40, numTurns: 1 };
const ACCRUED = { costUsd: 0.375, inputTokens: 1_200, outputTokens: 150, cacheReadInputTokens: 300, cacheCreationInputTokens: 40, numTurns: 2 };

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let clock: FakeClock;
    let store: Store;
    /** Waits until no store call is in flight: what a claim or heartbeat set off has finished (see trackStore). */
    let idle: () => Promise<void>;
    let runner: FakeRunner;
    let workspacesDir: string;
    let executors: RunExecutor[];
    let logger: Logger & { errors: unknown[] };

    beforeEach(async () => {
      clock = new FakeClock('2026-01-05T08:00:00.000Z');
      ({ store, idle } = trackStore(await dialect.open()));
      runner = new FakeRunner();
      workspacesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-executor-'));
      executors = [];
      const errors: unknown[] = [];
      logger = { errors, info: () => {}, warn: () => {}, debug: () => {}, error: (obj) => errors.push(obj) };
    });

    afterEach(async () => {
      for (const run of runner.runs) run.finish();
      for (const executor of executors) {
        const stopping = executor.stop(1_000);
        await advance(1_001);
        await stopping;
      }
      expect(clock.pendingTimers).toBe(0);
      await store.close();
      fs.rmSync(workspacesDir, { recursive: true, force: true });
    });

    /** The fake clock's advance, with the store going idle after each timer (PostgreSQL needs real round trips). */
    const advance = (ms: number) => advanceClockTo(clock, clock.now() + ms, idle);
    const advanceTo = (target: number) => advanceClockTo(clock, target, idle);

    function newExecutor(options: Partial<RunExecutorOptions> = {}): RunExecutor {
      const executor = new RunExecutor({
        store,
        runner,
        clock,
        logger,
        instanceId: 'exec-1',
        maxConcurrentRuns: 2,
        leaseMs: LEASE_MS,
        heartbeatMs: HEARTBEAT_MS,
        pollMs: POLL_MS,
        workspacesDir,
        secrets: { forAgent: async () => ({}) },
        ...options,
      });
      executors.push(executor);
      return executor;
    }

    async function createAgent(overrides: Partial<AgentInput> = {}): Promise<Agent> {
      const now = clock.now();
      const { fields, nextFireAt } = planNewAgent({ name: 'worker', schedule: '0 9 * * *', prompt: 'Do the work', enabled: false, ...overrides }, now);
      return store.createAgent(fields, null, nextFireAt, now);
    }

    /** Queues a manual run, 1 ms after the previous one so the queue order is unambiguous. */
    async function enqueue(agentId: string, runId: string): Promise<Run> {
      await advance(1);
      const run = await store.enqueueManualRun(agentId, runId, clock.now());
      if (!run) throw new Error('agent missing');
      return run;
    }

    async function statusOf(runId: string): Promise<RunStatus | undefined> {
      return (await store.getRun(runId))?.status;
    }

    /**
     * Yields to the event loop until `condition` holds. The executor creates each agent's working
     * directory on the real file system before calling the runner, so a run reaches the runner after
     * real (but short) I/O; this waits for that without any timer.
     */
    async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
      // Bounded by real time, not by a count of turns: file system work runs on libuv's thread pool
      // and can take a while on a busy machine.
      const giveUpAt = Date.now() + 10_000;
      for (;;) {
        if (await condition()) return;
        if (Date.now() > giveUpAt) throw new Error(`timed out waiting for: ${what}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }

    /**
     * Ids of the runs the runner was asked to do, sorted: runs claimed together reach the runner in
     * the order their (real) working-directory creation completes, so the claim order is checked
     * through the store's statuses instead.
     */
    const requestedRunIds = () => runner.runs.map((r) => r.request.runId).sort();

    async function untilStatus(runId: string, status: RunStatus): Promise<Run> {
      await until(async () => (await statusOf(runId)) === status, `run ${runId} to be ${status}`);
      return (await store.getRun(runId))!;
    }

    function fakeRun(runId: string) {
      const run = runner.runs.find((r) => r.request.runId === runId);
      if (!run) throw new Error(`the runner never got ${runId}`);
      return run;
    }

    describe('RunExecutor: concurrency and queue order', () => {
      it('runs beyond maxConcurrentRuns stay queued and start in queue order as slots free up', async () => {
        const a = await createAgent({ name: 'a' });
        const b = await createAgent({ name: 'b' });
        // Ids in reverse alphabetical order, so only queue order explains the start order.
        await enqueue(a.id, 'run-d');
        await enqueue(b.id, 'run-c');
        await enqueue(a.id, 'run-b');
        await enqueue(b.id, 'run-a');

        newExecutor({ maxConcurrentRuns: 2 }).start();
        await until(() => runner.runs.length === 2, 'two runs to start');
        await idle();
        expect(requestedRunIds()).toEqual(['run-c', 'run-d']);
        expect(await statusOf('run-d')).toBe('running');
        expect(await statusOf('run-c')).toBe('running');
        expect(await statusOf('run-b')).toBe('queued');
        expect(await statusOf('run-a')).toBe('queued');

        // Polls do not start more while both slots are taken.
        await advance(3 * POLL_MS);
        expect(await statusOf('run-b')).toBe('queued');
        expect(runner.runs).toHaveLength(2);

        fakeRun('run-c').finish({ output: 'c done', costUsd: 0.5 });
        await until(() => runner.runs.length === 3, 'the third run to start');
        // The slot went to run-b, next in the queue, not run-a.
        expect(requestedRunIds()).toEqual(['run-b', 'run-c', 'run-d']);
        expect(await statusOf('run-b')).toBe('running');
        const c = await untilStatus('run-c', 'success');
        expect(c).toMatchObject({ output: 'c done', costUsd: 0.5, executorId: 'exec-1' });
        expect(await statusOf('run-a')).toBe('queued');

        fakeRun('run-d').finish();
        await until(() => runner.runs.length === 4, 'the fourth run to start');
        expect(requestedRunIds()).toEqual(['run-a', 'run-b', 'run-c', 'run-d']);
        fakeRun('run-b').finish();
        fakeRun('run-a').finish({ status: 'error', output: 'it broke' });
        await untilStatus('run-a', 'error');
        await untilStatus('run-b', 'success');
        expect(logger.errors).toEqual([]);
      });

      it('records a finished run with its timings', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        newExecutor().start();
        await until(() => runner.runs.length === 1, 'the run to start');
        const started = await store.getRun('run-1');
        expect(started).toMatchObject({ status: 'running', executorId: 'exec-1', startedAt: clock.now() });
        expect(started?.leaseExpiresAt).toBe(clock.now() + LEASE_MS);
        const startedAt = clock.now();
        await advance(2_500);
        fakeRun('run-1').finish({ numTurns: 3, outputTokens: 40 });
        const done = await untilStatus('run-1', 'success');
        expect(done).toMatchObject({ completedAt: startedAt + 2_500, durationMs: 2_500, numTurns: 3, outputTokens: 40, leaseExpiresAt: null });
      });

      it('wake() starts a run queued after start at once, without waiting for the poll', async () => {
        const agent = await createAgent();
        const executor = newExecutor();
        executor.start();
        await idle();
        await store.enqueueManualRun(agent.id, 'run-now', clock.now());
        executor.wake();
        await until(() => runner.runs.length === 1, 'the run to start');
        expect(requestedRunIds()).toEqual(['run-now']);
      });

      it('the poll picks up a run queued by someone else', async () => {
        const agent = await createAgent();
        newExecutor().start();
        await idle();
        await store.enqueueManualRun(agent.id, 'run-elsewhere', clock.now());
        await idle();
        expect(await statusOf('run-elsewhere')).toBe('queued');
        await advance(POLL_MS);
        await until(() => runner.runs.length === 1, 'the poll to start the run');
      });
    });

    describe('RunExecutor: the agent as it is at run start', () => {
      it('passes the CURRENT prompt, maxTurns and maxBudgetUsd, edited after enqueue', async () => {
        const agent = await createAgent({ prompt: 'old prompt', maxTurns: 5, maxBudgetUsd: 1, allowedTools: ['Read'] });
        await enqueue(agent.id, 'run-1');
        const now = clock.now();
        await store.updateAgent(
          agent.id,
          (current) =>
            planAgentUpdate(current, { prompt: 'new prompt', maxTurns: 12, maxBudgetUsd: 2.5, model: 'claude-x', allowedTools: ['Read', 'Grep'] }, now),
          now,
        );
        newExecutor().start();
        await until(() => runner.runs.length === 1, 'the run to start');
        const request = runner.runs[0]!.request;
        expect(request).toMatchObject({
          runId: 'run-1',
          prompt: 'new prompt',
          maxTurns: 12,
          maxBudgetUsd: 2.5,
          model: 'claude-x',
          allowedTools: ['Read', 'Grep'],
          cwd: path.join(workspacesDir, agent.id),
        });
        expect(fs.statSync(request.cwd).isDirectory()).toBe(true);
      });

      it('a removed budget reaches the runner as null', async () => {
        const agent = await createAgent({ maxBudgetUsd: 3 });
        await enqueue(agent.id, 'run-1');
        const now = clock.now();
        await store.updateAgent(agent.id, (current) => planAgentUpdate(current, { maxBudgetUsd: null }, now), now);
        newExecutor().start();
        await until(() => runner.runs.length === 1, 'the run to start');
        expect(runner.runs[0]!.request.maxBudgetUsd).toBeNull();
      });
    });

    describe('RunExecutor: cancel', () => {
      it('cancelLocal stops the run and it ends cancelled', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        const executor = newExecutor();
        executor.start();
        await until(() => runner.runs.length === 1, 'the run to start');
        expect(executor.activeRunIds).toEqual(['run-1']);
        expect(executor.cancelLocal(['run-1', 'not-mine'])).toBe(1);
        expect(runner.runs[0]!.request.signal.aborted).toBe(true);
        const run = await untilStatus('run-1', 'cancelled');
        expect(run.output).toBe('Cancelled');
        expect(run.completedAt).toBe(clock.now());
        await until(() => executor.activeRunIds.length === 0, 'the run to leave the executor');
      });

      it('cancelAgentLocal stops only that agent’s runs', async () => {
        const a = await createAgent({ name: 'a' });
        const b = await createAgent({ name: 'b' });
        await enqueue(a.id, 'run-a');
        await enqueue(b.id, 'run-b');
        const executor = newExecutor();
        executor.start();
        await until(() => runner.runs.length === 2, 'both runs to start');
        expect(executor.cancelAgentLocal(a.id)).toBe(1);
        await untilStatus('run-a', 'cancelled');
        expect(await statusOf('run-b')).toBe('running');
        expect(fakeRun('run-b').request.signal.aborted).toBe(false);
      });

      it('a cancel requested through the store is picked up at the next heartbeat', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        newExecutor().start();
        await until(() => runner.runs.length === 1, 'the run to start');
        const startedAt = clock.now();

        const result = await store.requestCancel(agent.id, clock.now());
        expect(result).toEqual({ cancelledQueued: [], runningIds: ['run-1'] });
        await idle();
        // Not yet: only the heartbeat reads the flag.
        expect(runner.runs[0]!.request.signal.aborted).toBe(false);
        expect(await statusOf('run-1')).toBe('running');

        await advanceTo(startedAt + HEARTBEAT_MS);
        await until(() => runner.runs[0]!.request.signal.aborted, 'the heartbeat to abort the run');
        const run = await untilStatus('run-1', 'cancelled');
        expect(run.output).toBe('Cancelled');
      });

      it('store.requestCancel ends queued runs as cancelled at once; they never start', async () => {
        const busy = await createAgent({ name: 'busy' });
        const waiting = await createAgent({ name: 'waiting' });
        await enqueue(busy.id, 'run-busy');
        await enqueue(waiting.id, 'run-waiting');
        newExecutor({ maxConcurrentRuns: 1 }).start();
        await until(() => runner.runs.length === 1, 'the first run to start');
        expect(await statusOf('run-waiting')).toBe('queued');

        const result = await store.requestCancel(waiting.id, clock.now());
        expect(result).toEqual({ cancelledQueued: ['run-waiting'], runningIds: [] });
        const cancelled = await store.getRun('run-waiting');
        expect(cancelled).toMatchObject({ status: 'cancelled', completedAt: clock.now(), durationMs: 0, startedAt: null });
        expect(cancelled?.output).toMatch(/before it started/i);

        fakeRun('run-busy').finish();
        await untilStatus('run-busy', 'success');
        await advance(3 * POLL_MS);
        expect(requestedRunIds()).toEqual(['run-busy']);
        expect(await statusOf('run-waiting')).toBe('cancelled');
      });
    });

    describe('RunExecutor: a stopped run keeps the usage it accrued', () => {
      /** The cost the hourly totals ledger holds for today: what the stats pages show. */
      async function ledgerCost(): Promise<number> {
        return (await store.globalStats(clock.now() - DAY_MS, clock.now())).totalCostUsd;
      }

      /** Starts run-1 and has it accrue ACCRUED in two turns, reported through onProgress. */
      async function startAccruingRun(executor: RunExecutor): Promise<void> {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        executor.start();
        await until(() => runner.runs.length === 1, 'the run to start');
        fakeRun('run-1').accrue(TURN_1);
        fakeRun('run-1').accrue(TURN_2);
        expect(fakeRun('run-1').usage).toEqual(ACCRUED);
      }

      it('cancel: the cancelled run records the accrued cost and tokens', async () => {
        const executor = newExecutor();
        await startAccruingRun(executor);
        await idle();
        // No heartbeat has saved any of it: only the run's own outcome can carry the usage.
        expect(await store.getRun('run-1')).toMatchObject({ status: 'running', costUsd: 0, inputTokens: 0 });

        expect(executor.cancelLocal(['run-1'])).toBe(1);
        const run = await untilStatus('run-1', 'cancelled');
        expect(run).toMatchObject({ output: 'Cancelled', ...ACCRUED });
        expect(await ledgerCost()).toBe(ACCRUED.costUsd);
      });

      it('shutdown past the grace period: the cancelled run records the accrued cost and tokens', async () => {
        const executor = newExecutor();
        await startAccruingRun(executor);
        // Shorter than the heartbeat: again only the outcome carries the usage.
        const graceMs = HEARTBEAT_MS / 2;
        const stopping = executor.stop(graceMs);
        await advance(graceMs);
        await stopping;
        const run = await store.getRun('run-1');
        expect(run).toMatchObject({ status: 'cancelled', ...ACCRUED });
        expect(run?.output).toMatch(/shut down/);
        expect(await ledgerCost()).toBe(ACCRUED.costUsd);
      });

      it('lost lease: the run another instance ended keeps the usage the heartbeat saved', async () => {
        // The executor's own database calls for leases fail for longer than a lease (a network split).
        let renewalsFail = false;
        const split = Object.create(store) as Store;
        split.renewLeases = async (...args) => {
          if (renewalsFail) throw new Error('Connection terminated unexpectedly');
          return store.renewLeases(...args);
        };
        const executor = newExecutor({ store: split });
        await startAccruingRun(executor);
        await advance(HEARTBEAT_MS);
        await until(async () => (await store.getRun('run-1'))?.costUsd === ACCRUED.costUsd, 'the heartbeat to save the usage');

        renewalsFail = true;
        await advance(LEASE_MS + 1);
        expect(await store.getRun('run-1')).toMatchObject({ status: 'running' });
        // Another instance's reaper ends the run whose lease expired.
        const reaper = new LeaseReaper({ store, clock, logger: silentLogger, intervalMs: HEARTBEAT_MS, runner: null });
        expect(await reaper.sweep()).toEqual(['run-1']);

        renewalsFail = false;
        await advance(HEARTBEAT_MS);
        await until(() => fakeRun('run-1').request.signal.aborted, 'the heartbeat to stop the lost run');
        await until(() => executor.activeRunIds.length === 0, 'the executor to let go of the run');
        const run = await store.getRun('run-1');
        expect(run).toMatchObject({ status: 'error', ...ACCRUED });
        expect(run?.output).toMatch(/lost its executor/);
        expect(await ledgerCost()).toBe(ACCRUED.costUsd);
      });

      it('a runner that throws after accruing usage: the error run records it', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        const throwing: AgentRunner = {
          run: async (request) => {
            request.onProgress?.({ ...ZERO_USAGE, ...ACCRUED });
            throw new Error('sdk exploded');
          },
        };
        newExecutor({ runner: throwing }).start();
        const run = await untilStatus('run-1', 'error');
        expect(run).toMatchObject(ACCRUED);
        expect(await ledgerCost()).toBe(ACCRUED.costUsd);
      });
    });

    describe('RunExecutor: fencing and leases', () => {
      it('finishRun by another executor is refused', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        const now = clock.now();
        const claimed = await store.claimQueuedRun('exec-A', now, now + LEASE_MS);
        expect(claimed?.run.id).toBe('run-1');
        const outcome = { ...ZERO_USAGE, status: 'success' as const, output: 'stolen' };
        expect(await store.finishRun('run-1', 'exec-B', outcome, now + 10)).toBe(false);
        expect(await store.getRun('run-1')).toMatchObject({ status: 'running', executorId: 'exec-A', output: null });
        expect(await store.finishRun('run-1', 'exec-A', { ...outcome, output: 'mine' }, now + 20)).toBe(true);
        expect(await store.getRun('run-1')).toMatchObject({ status: 'success', output: 'mine', durationMs: 20 });
        // Written once: a second finish is refused too.
        expect(await store.finishRun('run-1', 'exec-A', { ...outcome, status: 'error', output: 'again' }, now + 30)).toBe(false);
        expect(await statusOf('run-1')).toBe('success');
      });

      it('an executor whose run was taken over stops it at the heartbeat and cannot overwrite the result', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        const executor = newExecutor();
        executor.start();
        await until(() => runner.runs.length === 1, 'the run to start');
        // Another instance decides the run is abandoned.
        expect(await store.endAbandonedRuns(clock.now(), { everything: true })).toHaveLength(1);
        await advance(HEARTBEAT_MS);
        await until(() => runner.runs[0]!.request.signal.aborted, 'the heartbeat to stop the lost run');
        // The executor has tried to write its (cancelled) outcome and was refused.
        await until(() => executor.activeRunIds.length === 0, 'the executor to let go of the run');
        const run = await store.getRun('run-1');
        expect(run?.status).toBe('error');
        expect(run?.output).toMatch(/service stopped/);
      });

      it('the heartbeat renews the lease and saves usage reported so far', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        newExecutor().start();
        await until(() => runner.runs.length === 1, 'the run to start');
        runner.runs[0]!.request.onProgress?.({ ...ZERO_USAGE, costUsd: 0.42, inputTokens: 100, numTurns: 2 });
        await advance(HEARTBEAT_MS);
        await until(async () => (await store.getRun('run-1'))?.costUsd === 0.42, 'usage to be saved');
        const run = await store.getRun('run-1');
        expect(run).toMatchObject({ status: 'running', inputTokens: 100, numTurns: 2, leaseExpiresAt: clock.now() + LEASE_MS });
        // Well past the first lease: still held, because the heartbeat keeps renewing it.
        await advance(2 * LEASE_MS);
        const later = await store.getRun('run-1');
        expect(later).toMatchObject({ status: 'running' });
        expect(later!.leaseExpiresAt).toBeGreaterThan(clock.now());
      });

      it('a runner that throws still ends the run, as error', async () => {
        const throwing: AgentRunner = {
          run: async () => {
            throw new Error('sdk exploded');
          },
        };
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        newExecutor({ runner: throwing }).start();
        const run = await untilStatus('run-1', 'error');
        expect(run.output).toContain('sdk exploded');
      });
    });

    describe('RunExecutor: recording results', () => {
      /** The store, but its next `failures` finishRun calls fail as a busy or unreachable database would. */
      function flakyFinish(failures: number): Store & { finishAttempts: number } {
        let left = failures;
        const flaky = Object.create(store) as Store & { finishAttempts: number };
        flaky.finishAttempts = 0;
        flaky.finishRun = async (...args) => {
          flaky.finishAttempts++;
          if (left-- > 0) throw new Error('SQLITE_BUSY: database is locked');
          return store.finishRun(...args);
        };
        return flaky;
      }

      it('tries again when the database refuses the write, and records the result as it was', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        const flaky = flakyFinish(2);
        newExecutor({ store: flaky }).start();
        await until(() => runner.runs.length === 1, 'the run to start');
        await advance(3_000);
        const finishedAt = clock.now();
        fakeRun('run-1').finish({ output: 'worth keeping', costUsd: 0.42 });
        await until(() => flaky.finishAttempts === 1, 'the first attempt');
        await idle();
        expect(await statusOf('run-1')).toBe('running');
        await advance(FINISH_RETRY_DELAYS_MS[0]!);
        await until(() => flaky.finishAttempts === 2, 'the second attempt');
        await idle();
        expect(await statusOf('run-1')).toBe('running');
        await advance(FINISH_RETRY_DELAYS_MS[1]!);
        const run = await untilStatus('run-1', 'success');
        // Timed when the run ended, not when the write finally went through.
        expect(run).toMatchObject({ output: 'worth keeping', costUsd: 0.42, completedAt: finishedAt, durationMs: 3_000 });
        expect(flaky.finishAttempts).toBe(3);
        expect(logger.errors).toEqual([]);
      });

      it('keeps the lease while it retries', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        const flaky = flakyFinish(FINISH_RETRY_DELAYS_MS.length);
        newExecutor({ store: flaky }).start();
        await until(() => runner.runs.length === 1, 'the run to start');
        fakeRun('run-1').finish();
        await until(() => flaky.finishAttempts === 1, 'the first attempt');
        const before = (await store.getRun('run-1'))!.leaseExpiresAt!;
        await advance(HEARTBEAT_MS);
        expect((await store.getRun('run-1'))!.leaseExpiresAt).toBeGreaterThan(before);
        await advance(FINISH_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0));
        await untilStatus('run-1', 'success');
      });

      it('gives up after the last retry, logs it, frees the slot, and leaves the run to recovery', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        const flaky = flakyFinish(Number.POSITIVE_INFINITY);
        const executor = newExecutor({ store: flaky });
        executor.start();
        await until(() => runner.runs.length === 1, 'the run to start');
        fakeRun('run-1').finish();
        for (const delay of FINISH_RETRY_DELAYS_MS) await advance(delay);
        await until(() => executor.activeRunIds.length === 0, 'the executor to let the run go');
        expect(flaky.finishAttempts).toBe(FINISH_RETRY_DELAYS_MS.length + 1);
        expect(logger.errors).toHaveLength(1);
        expect(await statusOf('run-1')).toBe('running');
      });
    });

    describe('RunExecutor: stop', () => {
      it('lets runs finish within the grace period, cancels the rest after it, and claims nothing more', async () => {
        const a = await createAgent({ name: 'a' });
        const b = await createAgent({ name: 'b' });
        await enqueue(a.id, 'run-quick');
        await enqueue(b.id, 'run-slow');
        await enqueue(a.id, 'run-waiting');
        const executor = newExecutor({ maxConcurrentRuns: 2 });
        executor.start();
        await until(() => runner.runs.length === 2, 'two runs to start');

        let stopped = false;
        const stopping = executor.stop(10_000).then(() => {
          stopped = true;
        });
        await advance(4_000);
        fakeRun('run-quick').finish({ output: 'made it' });
        await untilStatus('run-quick', 'success');
        // The freed slot is not refilled while stopping.
        await idle();
        expect(requestedRunIds()).toEqual(['run-quick', 'run-slow']);
        expect(await statusOf('run-waiting')).toBe('queued');
        expect(stopped).toBe(false);
        expect(fakeRun('run-slow').request.signal.aborted).toBe(false);

        await advance(5_999); // 9.999 s into the grace period
        expect(fakeRun('run-slow').request.signal.aborted).toBe(false);
        expect(stopped).toBe(false);

        await advance(1);
        await stopping;
        expect(stopped).toBe(true);
        const slow = await store.getRun('run-slow');
        expect(slow?.status).toBe('cancelled');
        expect(slow?.output).toMatch(/shut down/);
        expect(await store.getRun('run-quick')).toMatchObject({ status: 'success', output: 'made it' });
        expect(await statusOf('run-waiting')).toBe('queued');
        expect(executor.activeRunIds).toEqual([]);
        expect(clock.pendingTimers).toBe(0);
      });

      it('returns as soon as every run finished within the grace period', async () => {
        const agent = await createAgent();
        await enqueue(agent.id, 'run-1');
        const executor = newExecutor();
        executor.start();
        await until(() => runner.runs.length === 1, 'the run to start');
        let stopped = false;
        const stopping = executor.stop(60_000).then(() => {
          stopped = true;
        });
        await advance(1_000);
        fakeRun('run-1').finish();
        await until(() => stopped, 'stop to return');
        await stopping;
        expect(await statusOf('run-1')).toBe('success');
        expect(clock.pendingTimers).toBe(0);
      });

      it('stop() without runs is immediate, safe twice, and leaves no timers', async () => {
        const executor = newExecutor();
        executor.start();
        await idle();
        expect(clock.pendingTimers).toBeGreaterThan(0);
        await executor.stop(5_000);
        await executor.stop(5_000);
        expect(clock.pendingTimers).toBe(0);
        // A stopped executor claims nothing.
        const agent = await createAgent();
        await store.enqueueManualRun(agent.id, 'late', clock.now());
        executor.wake();
        await idle();
        expect(runner.runs).toHaveLength(0);
        expect(await statusOf('late')).toBe('queued');
      });
    });
  });
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import type { RunEvent } from '../../src/domain/run-events.js';
import type { Agent, Run, RunStatus } from '../../src/domain/types.js';
import type { RunEventUpdate } from '../../src/engine/run-event-bus.js';
import { RunExecutor, type RunExecutorOptions } from '../../src/engine/run-executor.js';
import { silentLogger } from '../../src/logger.js';
import type { Store } from '../../src/store/store.js';
import { advanceClockTo, dialectsUnderTest, trackStore } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeRunner, type PendingFakeRun } from '../support/fake-runner.js';

/**
 * The executor's side of the transcript, with the fake runner: what a runner reports through
 * onEvent and onProgress is numbered, redacted, capped and stored, closed by the run's result
 * before the run is recorded, and published on the bus once stored.
 */
const TOKEN = 'ghp_supersecret123';

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`RunExecutor transcripts (${dialect.name})`, () => {
    let clock: FakeClock;
    let store: Store;
    let idle: () => Promise<void>;
    let runner: FakeRunner;
    let workspacesDir: string;
    let executor: RunExecutor | null;

    beforeEach(async () => {
      clock = new FakeClock('2026-01-05T08:00:00.000Z');
      ({ store, idle } = trackStore(await dialect.open()));
      runner = new FakeRunner();
      workspacesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-events-'));
      executor = null;
    });

    afterEach(async () => {
      for (const run of runner.runs) run.finish();
      if (executor) {
        const stopping = executor.stop(1_000);
        await advance(1_001);
        await stopping;
      }
      expect(clock.pendingTimers).toBe(0);
      await store.close();
      fs.rmSync(workspacesDir, { recursive: true, force: true });
    });

    const advance = (ms: number) => advanceClockTo(clock, clock.now() + ms, idle);

    function start(options: Partial<RunExecutorOptions> = {}): RunExecutor {
      executor = new RunExecutor({
        store,
        runner,
        clock,
        logger: silentLogger,
        instanceId: 'exec-1',
        maxConcurrentRuns: 2,
        leaseMs: 30_000,
        heartbeatMs: 5_000,
        pollMs: 1_000,
        workspacesDir,
        secrets: { forAgent: async () => ({ GITHUB_TOKEN: TOKEN }) },
        ...options,
      });
      executor.start();
      return executor;
    }

    async function queuedRun(runId: string): Promise<Agent> {
      const { fields, nextFireAt } = planNewAgent({ name: 'a', schedule: '0 9 * * *', prompt: 'p', enabled: false }, clock.now());
      const agent = await store.createAgent(fields, null, nextFireAt, clock.now());
      await store.enqueueManualRun(agent.id, runId, clock.now());
      return agent;
    }

    async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
      const giveUpAt = Date.now() + 10_000;
      while (!(await condition())) {
        if (Date.now() > giveUpAt) throw new Error(`timed out waiting for: ${what}`);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }

    async function started(): Promise<PendingFakeRun> {
      await until(() => runner.runs.length === 1, 'the run to start');
      return runner.runs[0]!;
    }

    async function ended(runId: string, status: RunStatus): Promise<Run> {
      await until(async () => (await store.getRun(runId))?.status === status, `the run to be ${status}`);
      return (await store.getRun(runId))!;
    }

    const stored = (runId: string) => store.listRunEvents(runId, { after: 0, limit: 5_000 });

    it('records what the runner reports, in order, closed by the result; the bus gets each stored batch, then the end', async () => {
      await queuedRun('run-1');
      const bus = start().runEvents;
      const updates: { kind: string; seqs?: number[]; status?: RunStatus }[] = [];
      bus.subscribe('run-1', (update: RunEventUpdate) => {
        if (update.kind === 'events') updates.push({ kind: 'events', seqs: update.events.map((e) => e.seq) });
        // The run is recorded by the time the end is announced.
        else void store.getRun('run-1').then((run) => updates.push({ kind: 'ended', status: run?.status }));
      });
      const run = await started();
      expect(bus.executing('run-1')).toBe(true);
      run.emit({ type: 'init', model: 'claude-x', tools: ['Bash'], mcpServers: [] });
      run.accrue({ costUsd: 0.01, inputTokens: 10, numTurns: 1 });
      run.emit({ type: 'tool_use', id: 't1', name: 'Bash', input: { command: `echo ${TOKEN}` } });
      await advance(200);
      expect((await stored('run-1')).map((e) => e.type)).toEqual(['init', 'usage', 'tool_use']);
      run.emit({ type: 'tool_result', toolUseId: 't1', isError: false, content: TOKEN });
      run.accrue({ costUsd: 0.02, outputTokens: 5, numTurns: 1 });
      await advance(1_000);
      run.emit({ type: 'text', text: 'done' });
      run.finish({ output: `final ${TOKEN}` });
      const finished = await ended('run-1', 'success');
      await until(() => updates.some((u) => u.kind === 'ended'), 'the end on the bus');

      const events = await stored('run-1');
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'init'],
        [2, 'usage'],
        [3, 'tool_use'],
        [4, 'tool_result'],
        [5, 'usage'],
        [6, 'text'],
        [7, 'result'],
      ]);
      expect(JSON.stringify(events)).not.toContain(TOKEN);
      expect(events[2]).toMatchObject({ input: { command: 'echo [secret:GITHUB_TOKEN]' } });
      expect(events[3]).toMatchObject({ content: '[secret:GITHUB_TOKEN]' });
      expect(events[4]).toMatchObject({ costUsd: 0.03, inputTokens: 10, outputTokens: 5, numTurns: 2 });
      expect(events[6]).toEqual<RunEvent>({
        seq: 7,
        at: finished.completedAt!,
        type: 'result',
        status: 'success',
        costUsd: finished.costUsd,
        inputTokens: 10,
        outputTokens: 5,
        cacheReadInputTokens: 0,
        cacheCreationInputTokens: 0,
        numTurns: 2,
      });
      expect(finished.output).toBe('final [secret:GITHUB_TOKEN]');
      expect(updates.flatMap((u) => u.seqs ?? [])).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(updates.at(-1)).toEqual({ kind: 'ended', status: 'success' });
      expect(bus.executing('run-1')).toBe(false);
    });

    it('says why a run failed, and redacts its structured output', async () => {
      await queuedRun('run-1');
      start();
      (await started()).finish({ status: 'error', output: `bad token ${TOKEN}` });
      await ended('run-1', 'error');
      const events = await stored('run-1');
      expect(events.map((e) => e.type)).toEqual(['error', 'result']);
      expect(events[0]).toMatchObject({ message: 'bad token [secret:GITHUB_TOKEN]' });

      await store.enqueueManualRun((await store.getRun('run-1'))!.agentId, 'run-2', clock.now());
      executor!.wake();
      await until(() => runner.runs.length === 2, 'the second run');
      runner.runs[1]!.finish({ output: '{}', structuredOutput: { token: TOKEN, list: [TOKEN] } });
      const second = await ended('run-2', 'success');
      expect(second.structuredOutput).toEqual({ token: '[secret:GITHUB_TOKEN]', list: ['[secret:GITHUB_TOKEN]'] });
    });

    it('caps the transcript with one truncated event; the run goes on and ends with its true status and cost', async () => {
      await queuedRun('run-1');
      start({ eventLimits: { maxBytes: 32 * 1024 } });
      const run = await started();
      for (let i = 0; i < 30; i++) {
        run.emit({ type: 'tool_use', id: `t${i}`, name: 'Bash', input: { command: 'cat big' } });
        run.emit({ type: 'tool_result', toolUseId: `t${i}`, isError: false, content: 'b'.repeat(3_000) });
        await advance(200);
      }
      run.accrue({ costUsd: 1.5, numTurns: 30 });
      run.finish({ output: 'went on' });
      const finished = await ended('run-1', 'success');
      expect(finished).toMatchObject({ costUsd: 1.5, numTurns: 30, output: 'went on' });
      const events = await stored('run-1');
      expect(events.filter((e) => e.type === 'truncated')).toHaveLength(1);
      expect(events.at(-2)?.type).toBe('truncated');
      expect(events.at(-1)).toMatchObject({ type: 'result', status: 'success', costUsd: 1.5, numTurns: 30 });
      expect(events.reduce((bytes, e) => bytes + Buffer.byteLength(JSON.stringify(e)), 0)).toBeLessThanOrEqual(32 * 1024);
    });
  });
}

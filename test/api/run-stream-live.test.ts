import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { DEFAULTS } from '../../src/defaults.js';
import type { Store } from '../../src/store/store.js';
import type { RunEventInput } from '../../src/domain/run-events.js';
import { RUN_EVENT_LIMITS } from '../../src/engine/run-event-writer.js';
import { dialectsUnderTest } from '../support/dialects.js';
import type { PendingFakeRun } from '../support/fake-runner.js';
import { eventFrames, openSse, type SseConnection } from '../support/sse-client.js';
import type { TestApp } from '../support/test-app.js';
import { call, createAgent, triggerRun, useTestApp, waitFor, waitForRunnerRuns, waitForRunStatus } from './api-helpers.js';

/**
 * GET /api/runs/:runId/stream of a run this instance executes: its events come from the
 * executor's bus as each batch is stored (the fake clock moves the writer's flush), never from a
 * poll; the end comes once the outcome is recorded.
 */

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let t: TestApp;
    useTestApp(
      'each',
      async (app) => {
        t = app;
        await app.app.server.listen({ port: 0, host: '127.0.0.1' });
      },
      {},
      dialect,
    );

    const stream = (runId: string, headers: Record<string, string> = {}) =>
      openSse(`${t.app.url}/api/runs/${runId}/stream`, { ...t.auth('viewer'), ...headers });
    const types = (connection: SseConnection) => eventFrames(connection).map((e) => e.type);
    const received = (connection: SseConnection, count: number) => connection.until((c) => eventFrames(c).length >= count, `${count} events`);
    /** The writer's batch goes out: stored, then published. */
    const flush = () => t.advance(RUN_EVENT_LIMITS.flushMs);
    const bus = () => {
      const executor = t.app.executor;
      if (!executor) throw new Error('the test app executes runs');
      return executor.runEvents;
    };

    async function startRun(): Promise<{ runId: string; pending: PendingFakeRun; emit: (...events: RunEventInput[]) => void }> {
      const agent = await createAgent(t);
      const before = t.runner.runs.length;
      const runId = await triggerRun(t, agent.id);
      await waitForRunnerRuns(t, before + 1);
      await waitForRunStatus(t, agent.id, runId, (status) => status === 'running');
      const pending = t.runner.runs[before];
      if (!pending) throw new Error('no runner call');
      return { runId, pending, emit: (...events) => events.forEach((event) => pending.request.onEvent?.(event)) };
    }

    it('streams a run with several tool calls live, in order, then its result and end', async () => {
      const { runId, pending, emit } = await startRun();
      const sse = await stream(runId);
      emit({ type: 'init', model: 'claude-test', tools: ['Bash', 'Read'], mcpServers: [] });
      await flush();
      await received(sse, 1);
      emit(
        { type: 'tool_use', id: 'tu_1', name: 'Bash', input: { command: 'ls' } },
        { type: 'tool_result', toolUseId: 'tu_1', isError: false, content: 'a.txt' },
        { type: 'tool_use', id: 'tu_2', name: 'Read', input: { file_path: '/w/a.txt' } },
        { type: 'tool_result', toolUseId: 'tu_2', isError: true, content: 'no such file' },
        { type: 'text', text: 'Done.' },
      );
      await flush();
      await received(sse, 6);
      pending.finish({ status: 'success', costUsd: 0.42, numTurns: 3 });
      await sse.ended;

      expect(types(sse)).toEqual(['init', 'tool_use', 'tool_result', 'tool_use', 'tool_result', 'text', 'result']);
      expect(eventFrames(sse).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(eventFrames(sse)[4]).toMatchObject({ toolUseId: 'tu_2', isError: true, content: 'no such file' });
      expect(eventFrames(sse)[6]).toMatchObject({ type: 'result', status: 'success', costUsd: 0.42 });
      expect(JSON.parse(sse.frames.at(-1)?.data ?? 'null')).toMatchObject({ id: runId, status: 'success', costUsd: 0.42 });
      const page = await call<{ data: unknown[] }>(t, 'GET', `/api/runs/${runId}/events`);
      expect(eventFrames(sse)).toEqual(page.body.data);
      await waitFor(() => bus().listenerCount() === 0, 'the stream to unsubscribe');
    });

    it('a client that disconnects mid-run and reconnects with Last-Event-ID gets the rest exactly once', async () => {
      const { runId, pending, emit } = await startRun();
      const first = await stream(runId);
      emit({ type: 'text', text: 'one' }, { type: 'text', text: 'two' });
      await flush();
      await received(first, 2);
      first.close();
      await waitFor(() => bus().listenerCount(runId) === 0, 'the first stream to unsubscribe');

      // Stored while no one listened, and more after the reconnect: a batch big enough to go at once.
      emit({ type: 'text', text: 'three' });
      await flush();
      const second = await stream(runId, { 'last-event-id': '2' });
      await received(second, 1);
      for (let i = 0; i < RUN_EVENT_LIMITS.flushEvents; i++) emit({ type: 'text', text: `more ${i}` });
      await received(second, 1 + RUN_EVENT_LIMITS.flushEvents);
      pending.finish();
      await second.ended;

      const seqs = eventFrames(second).map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 3));
      expect(eventFrames<{ text?: string }>(second)[0]?.text).toBe('three');
      expect(types(second).at(-1)).toBe('result');
    });

    it('several streams of one run hear the same events; each ends, and none is left subscribed', async () => {
      const { runId, pending, emit } = await startRun();
      const streams = await Promise.all([stream(runId), stream(runId), stream(runId)]);
      await waitFor(() => bus().listenerCount(runId) === 3, 'three subscribers');
      emit({ type: 'thinking', text: 'hmm' }, { type: 'text', text: 'hi', parentToolUseId: 'tu_task' });
      await flush();
      pending.finish({ status: 'error', output: 'it broke' });
      await Promise.all(streams.map((s) => s.ended));
      for (const sse of streams) {
        expect(types(sse)).toEqual(['thinking', 'text', 'error', 'result']);
        expect(eventFrames(sse)[1]).toMatchObject({ parentToolUseId: 'tu_task' });
        expect(sse.frames.at(-1)?.event).toBe('end');
      }
      expect(bus().listenerCount()).toBe(0);
    });

    it('streams a run executing on another instance of the same database, by polling the store', async () => {
      // A second instance: the same database (its close left to the first), no runner, no bus of its own.
      const shared = Object.create(t.app.store, { close: { value: async () => {} } }) as Store;
      const config = loadConfig({}, { dataDir: t.dataDir, port: 0, logLevel: 'silent', runnerEnabled: false });
      const other = await App.create(config, { clock: t.clock, store: shared, logger: pino({ level: 'silent' }), print: () => {} });
      try {
        await other.server.listen({ port: 0, host: '127.0.0.1' });
        const { runId, pending, emit } = await startRun();
        emit({ type: 'text', text: 'before' });
        await flush();
        const sse = await openSse(`${other.url}/api/runs/${runId}/stream`, t.auth('viewer'));
        await received(sse, 1);
        emit(
          { type: 'tool_use', id: 'tu_1', name: 'Bash', input: { command: 'date' } },
          { type: 'tool_result', toolUseId: 'tu_1', isError: false, content: 'now' },
        );
        await flush();
        expect(eventFrames(sse)).toHaveLength(1);
        await t.advance(DEFAULTS.streamPollMs);
        await received(sse, 3);
        pending.finish({ costUsd: 1.5 });
        await waitForRunStatus(t, pending.request.agentId, runId, (status) => status === 'success');
        await t.advance(DEFAULTS.streamPollMs);
        await sse.ended;
        expect(types(sse)).toEqual(['text', 'tool_use', 'tool_result', 'result']);
        expect(JSON.parse(sse.frames.at(-1)?.data ?? 'null')).toMatchObject({ id: runId, status: 'success', costUsd: 1.5 });
      } finally {
        await other.stop();
      }
    });
  });
}

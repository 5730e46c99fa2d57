import { describe, expect, it } from 'vitest';
import { DEFAULTS, LIMITS } from '../../src/defaults.js';
import { hashPassword } from '../../src/domain/passwords.js';
import { dialectsUnderTest } from '../support/dialects.js';
import { eventFrames, openSse, type SseConnection } from '../support/sse-client.js';
import type { TestApp } from '../support/test-app.js';
import { call, expectError, useTestApp, waitFor, type RunJson } from './api-helpers.js';
import { remoteRun, texts, toolCall } from './run-helpers.js';

/**
 * GET /api/runs/:runId/stream for a run another instance executes: replay, then what that
 * instance stores (read by the stream's poll, on the fake clock), then `end`; reconnects, the
 * bound per user, heartbeats, and nothing left behind when a client goes. The live path of a run
 * this instance executes is in run-stream-live.test.ts.
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
      { runnerEnabled: false },
      dialect,
    );

    const stream = (runId: string, headers: Record<string, string> = {}, query = '') =>
      openSse(`${t.app.url}/api/runs/${runId}/stream${query}`, { ...t.auth('viewer'), ...headers });
    const seqs = (connection: SseConnection) => eventFrames(connection).map((e) => e.seq);
    const received = (connection: SseConnection, count: number) => connection.until((c) => eventFrames(c).length >= count, `${count} events`);
    /** One poll of the store by the streams: what another instance stored reaches them. */
    const poll = () => t.advance(DEFAULTS.streamPollMs);

    it('replays, then streams what the other instance stores, then sends end with the run and closes', async () => {
      const run = await remoteRun(t);
      await run.append([{ type: 'init', model: 'claude-test', tools: ['Bash'], mcpServers: [] }, ...toolCall('tu_1', 'ls', 'a')]);
      const sse = await stream(run.runId);
      expect(sse.status).toBe(200);
      expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(sse.headers['cache-control']).toBe('no-store');
      await received(sse, 3);

      await run.append([...toolCall('tu_2', 'cat a', 'b'), ...texts(2)]);
      await poll();
      await received(sse, 7);
      await run.finish({ costUsd: 0.75 });
      await poll();
      await sse.ended;

      expect(seqs(sse)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      const frames = sse.frames;
      expect(frames.slice(0, 7).map((f) => [f.id, f.event])).toEqual([
        ['1', 'init'],
        ['2', 'tool_use'],
        ['3', 'tool_result'],
        ['4', 'tool_use'],
        ['5', 'tool_result'],
        ['6', 'text'],
        ['7', 'text'],
      ]);
      const end = frames.at(-1);
      expect(end?.event).toBe('end');
      expect(end?.id).toBeNull();
      expect(JSON.parse(end?.data ?? 'null')).toMatchObject({ id: run.runId, status: 'success', costUsd: 0.75 });
      expect(frames).toHaveLength(8);
      // The stream's events are the events page's, field for field.
      const page = await call<{ data: unknown[] }>(t, 'GET', `/api/runs/${run.runId}/events`);
      expect(eventFrames(sse)).toEqual(page.body.data);
    });

    it('a client that reconnects with Last-Event-ID gets the rest exactly once', async () => {
      const run = await remoteRun(t);
      await run.append(texts(3));
      const first = await stream(run.runId);
      await received(first, 3);
      first.close();
      await run.append(texts(3, 3));

      const second = await stream(run.runId, { 'last-event-id': first.frames.at(-1)?.id ?? '' });
      await received(second, 3);
      await run.append(texts(2, 6));
      await poll();
      await received(second, 5);
      await run.finish();
      await poll();
      await second.ended;
      expect(seqs(second)).toEqual([4, 5, 6, 7, 8]);
      expect(second.frames.at(-1)?.event).toBe('end');

      // ?after= says the same; Last-Event-ID (a reconnecting browser's) wins over it.
      const after = await stream(run.runId, {}, '?after=6');
      await after.ended;
      expect(seqs(after)).toEqual([7, 8]);
      const both = await stream(run.runId, { 'last-event-id': '7' }, '?after=2');
      await both.ended;
      expect(seqs(both)).toEqual([8]);
    });

    it('a run that has ended replays its events and ends at once', async () => {
      const run = await remoteRun(t);
      await run.append(texts(1_100));
      await run.finish({ status: 'error', output: 'boom' });
      const sse = await stream(run.runId);
      await sse.ended;
      expect(seqs(sse)).toEqual(Array.from({ length: 1_100 }, (_, i) => i + 1));
      expect(JSON.parse(sse.frames.at(-1)?.data ?? 'null')).toMatchObject({ status: 'error', output: 'boom' });
    });

    it('answers 404 for an unknown run, 400 for a bad Last-Event-ID, 401 without credentials', async () => {
      const missing = await stream('no-such-run');
      expect(missing.status).toBe(404);
      expect(JSON.parse(await missing.body())).toMatchObject({ error: { code: 'not_found' } });
      const run = await remoteRun(t);
      for (const [headers, query] of [
        [{ 'last-event-id': 'abc' }, ''],
        [{ 'last-event-id': '-1' }, ''],
        [{}, '?after=x'],
      ] as const) {
        const bad = await stream(run.runId, headers, query);
        expect(bad.status).toBe(400);
        expect(JSON.parse(await bad.body())).toMatchObject({ error: { code: 'validation_error' } });
      }
      const anonymous = await openSse(`${t.app.url}/api/runs/${run.runId}/stream`, {});
      expect(anonymous.status).toBe(401);
      await anonymous.body();
      // No HEAD: it would hold a connection open for a stream it never reads.
      const head = await t.app.server.inject({ method: 'HEAD', url: `/api/runs/${run.runId}/stream`, headers: t.auth('viewer') });
      expect(head.statusCode).toBe(404);
    });

    it("authenticates the dashboard's session cookie, as a browser's EventSource sends it", async () => {
      const viewer = await t.app.store.findUserByName('viewer-user');
      expect(await t.app.store.setUserPassword(viewer?.id ?? '', await hashPassword('correct horse battery'))).toBe(true);
      const signIn = await t.app.server.inject({
        method: 'POST',
        url: '/api/session',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ name: 'viewer-user', password: 'correct horse battery' }),
      });
      expect(signIn.statusCode, signIn.body).toBe(200);
      const cookie = String(signIn.headers['set-cookie']).split(';')[0] ?? '';
      const run = await remoteRun(t);
      await run.append(texts(2));
      const sse = await openSse(`${t.app.url}/api/runs/${run.runId}/stream`, { cookie });
      expect(sse.status).toBe(200);
      await received(sse, 2);
      sse.close();
    });

    it(`bounds the open streams per user (${LIMITS.streamsPerUser}; 429 beyond), and frees a slot when a client goes`, async () => {
      const run = await remoteRun(t);
      const open: SseConnection[] = [];
      for (let i = 0; i < LIMITS.streamsPerUser; i++) open.push(await stream(run.runId));
      expect(open.map((c) => c.status)).toEqual(open.map(() => 200));

      const refused = await stream(run.runId);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      const body = JSON.parse(await refused.body()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('too_many_streams');
      expect(body.error.message).toContain(`at most ${LIMITS.streamsPerUser}`);
      // Another user has slots of their own.
      const other = await openSse(`${t.app.url}/api/runs/${run.runId}/stream`, t.auth('member'));
      expect(other.status).toBe(200);

      open.pop()?.close();
      const again = await waitFor(async () => {
        const attempt = await stream(run.runId);
        if (attempt.status === 200) return attempt;
        await attempt.body();
        return null;
      }, 'a slot freed by the client that went');
      expect(again.status).toBe(200);
    });

    it(`sends a heartbeat comment every ${DEFAULTS.streamHeartbeatMs / 1000} s`, async () => {
      const run = await remoteRun(t);
      const sse = await stream(run.runId);
      await sse.until((c) => c.frames.length === 0 && c.comments.length === 0, 'the stream to open');
      await t.advance(DEFAULTS.streamHeartbeatMs - 1);
      expect(sse.comments).toEqual([]);
      await t.advance(1);
      await sse.until((c) => c.comments.length === 1, 'a heartbeat');
      await t.advance(DEFAULTS.streamHeartbeatMs);
      await sse.until((c) => c.comments.length === 2, 'a second heartbeat');
      expect(sse.comments).toEqual(['heartbeat', 'heartbeat']);
    });

    it('leaves no timer or listener behind when the client goes away', async () => {
      const run = await remoteRun(t);
      const before = t.clock.pendingTimers;
      const sse = await stream(run.runId);
      await run.append(texts(1));
      await poll();
      await received(sse, 1);
      // The stream's heartbeat and its poll.
      expect(t.clock.pendingTimers).toBe(before + 2);
      sse.close();
      await waitFor(() => t.clock.pendingTimers === before, 'the stream to stop its timers');
      // Nothing more is read or sent for it: the other instance goes on without a listener here.
      await run.append(texts(1, 1));
      await poll();
      expect(t.clock.pendingTimers).toBe(before);
    });

    it('the end event carries the run as GET /api/runs/:runId shows it', async () => {
      const run = await remoteRun(t);
      const sse = await stream(run.runId);
      await run.finish({ status: 'budget_exceeded', output: 'over budget', costUsd: 2 });
      await poll();
      await sse.ended;
      const shown = await call<{ data: RunJson }>(t, 'GET', `/api/runs/${run.runId}`);
      expect(JSON.parse(sse.frames.at(-1)?.data ?? 'null')).toEqual(shown.body.data);
      expectError(await call(t, 'GET', `/api/runs/${run.runId}/stream?limit=1`), 400, 'validation_error');
    });
  });
}

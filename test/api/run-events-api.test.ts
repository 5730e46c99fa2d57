import { describe, expect, it } from 'vitest';
import type { RunEventJson } from '../../src/api/schemas/index.js';
import { dialectsUnderTest } from '../support/dialects.js';
import type { TestApp } from '../support/test-app.js';
import { call, expectError, expectRunShape, ISO, useTestApp, type RunJson } from './api-helpers.js';
import { remoteRun, texts, toolCall } from './run-helpers.js';

/** GET /api/runs/:runId, its events a page at a time, and the transcript download. */

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let t: TestApp;
    useTestApp(
      'each',
      (app) => {
        t = app;
      },
      { runnerEnabled: false },
      dialect,
    );

    async function events(runId: string, query = ''): Promise<RunEventJson[]> {
      const response = await call<{ data: RunEventJson[] }>(t, 'GET', `/api/runs/${runId}/events${query}`, { as: 'viewer' });
      expect(response.status, response.text).toBe(200);
      expect(Object.keys(response.body)).toEqual(['data']);
      return response.body.data;
    }

    it('GET /api/runs/:runId answers {"data": Run}, and 404 for an unknown run', async () => {
      const run = await remoteRun(t);
      const response = await call<{ data: RunJson }>(t, 'GET', `/api/runs/${run.runId}`, { as: 'viewer' });
      expect(response.status, response.text).toBe(200);
      expectRunShape(response.body.data);
      expect(response.body.data).toMatchObject({ id: run.runId, agentId: run.agentId, status: 'running', executorId: 'other-instance:1:abcd' });
      await run.finish({ costUsd: 0.5 });
      expect((await call<{ data: RunJson }>(t, 'GET', `/api/runs/${run.runId}`)).body.data).toMatchObject({ status: 'success', costUsd: 0.5 });

      expectError(await call(t, 'GET', '/api/runs/no-such-run'), 404, 'not_found');
      expectError(await call(t, 'GET', '/api/runs/no-such-run/events'), 404, 'not_found');
      expectError(await call(t, 'GET', '/api/runs/no-such-run/transcript.jsonl'), 404, 'not_found');
      expectError(await call(t, 'GET', `/api/runs/${run.runId}`, { as: null }), 401, 'unauthorized');
    });

    it('lists the events oldest first with ISO times, a page at a time (after, limit)', async () => {
      const run = await remoteRun(t);
      expect(await events(run.runId)).toEqual([]);
      await run.append([{ type: 'init', model: 'claude-test', tools: ['Bash'], mcpServers: [{ name: 'files', status: 'connected' }] }]);
      await run.append([...toolCall('tu_1', 'ls', 'a\nb'), ...texts(4)]);

      const all = await events(run.runId);
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(all.map((e) => e.type)).toEqual(['init', 'tool_use', 'tool_result', 'text', 'text', 'text', 'text']);
      for (const event of all) expect(event.at).toMatch(ISO);
      expect(all[0]).toMatchObject({ mcpServers: [{ name: 'files', status: 'connected' }], model: 'claude-test' });
      expect(all[1]).toMatchObject({ id: 'tu_1', name: 'Bash', input: { command: 'ls' } });
      expect(all[2]).toMatchObject({ toolUseId: 'tu_1', isError: false, content: 'a\nb' });

      expect((await events(run.runId, '?limit=3')).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect((await events(run.runId, '?after=3&limit=3')).map((e) => e.seq)).toEqual([4, 5, 6]);
      expect((await events(run.runId, '?after=6')).map((e) => e.seq)).toEqual([7]);
      expect(await events(run.runId, '?after=7')).toEqual([]);
      expect(await events(run.runId, '?after=70')).toEqual([]);
    });

    it('pages 500 events by default, at most 5,000, and refuses bad values with 400', async () => {
      const run = await remoteRun(t);
      await run.append(texts(600));
      expect(await events(run.runId)).toHaveLength(500);
      expect(await events(run.runId, '?limit=5000')).toHaveLength(600);
      for (const query of ['?limit=0', '?limit=5001', '?limit=x', '?after=-1', '?after=1.5', '?after=abc', '?other=1']) {
        expectError(await call(t, 'GET', `/api/runs/${run.runId}/events${query}`), 400, 'validation_error');
      }
    });

    it('downloads the whole transcript as JSON Lines, the same events as the events page', async () => {
      const run = await remoteRun(t);
      await run.append([...toolCall('tu_1', 'cat big', 'x'.repeat(2_000)), ...texts(1_200)]);
      const response = await call(t, 'GET', `/api/runs/${run.runId}/transcript.jsonl`, { as: 'viewer' });
      expect(response.status).toBe(200);
      expect(response.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      expect(response.headers['content-disposition']).toBe(`attachment; filename="run-${run.runId}.jsonl"`);
      expect(response.text.endsWith('\n')).toBe(true);
      const lines = response.text.trimEnd().split('\n');
      expect(lines).toHaveLength(1_202);
      const parsed = lines.map((line) => JSON.parse(line) as RunEventJson);
      expect(parsed.map((e) => e.seq)).toEqual(Array.from({ length: 1_202 }, (_, i) => i + 1));
      expect(parsed.slice(0, 500)).toEqual(await events(run.runId, '?limit=500'));

      const empty = await remoteRun(t);
      const none = await call(t, 'GET', `/api/runs/${empty.runId}/transcript.jsonl`);
      expect(none.status).toBe(200);
      expect(none.text).toBe('');
    });

    it('documents the routes in the OpenAPI document', async () => {
      const doc = (await call<{ paths: Record<string, Record<string, { summary?: string; tags?: string[] }>> }>(t, 'GET', '/api/openapi.json', { as: null }))
        .body;
      for (const path of ['/api/runs/{runId}', '/api/runs/{runId}/events', '/api/runs/{runId}/stream', '/api/runs/{runId}/transcript.jsonl']) {
        expect(doc.paths[path]?.get?.tags, path).toEqual(['runs']);
      }
      expect(JSON.stringify(doc.paths['/api/runs/{runId}/stream'])).toContain('text/event-stream');
      expect(JSON.stringify(doc.paths['/api/runs/{runId}/stream'])).toContain('last-event-id');
      expect(JSON.stringify(doc.paths['/api/runs/{runId}/transcript.jsonl'])).toContain('application/x-ndjson');
    });
  });
}

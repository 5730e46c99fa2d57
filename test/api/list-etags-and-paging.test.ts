import { describe, expect, it } from 'vitest';
import { dialectsUnderTest } from '../support/dialects.js';
import type { TestApp } from '../support/test-app.js';
import { call, createAgent, expectError, triggerRun, useTestApp, waitForRunnerRuns, type AgentJson } from './api-helpers.js';

/**
 * What a dashboard polling every few seconds costs at thousands of agents (issue 13): ETag and
 * 304 on the lists and the overview, and optional paging of GET /api/agents.
 */

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let t: TestApp;
    useTestApp(
      'each',
      (app) => {
        t = app;
      },
      {},
      dialect,
    );

    describe('ETag and If-None-Match', () => {
      /** GETs `url`, then again with its ETag: 304 with no body while nothing changed. */
      async function expectNotModified(url: string): Promise<string> {
        const first = await call(t, 'GET', url, { as: 'viewer' });
        expect(first.status, first.text).toBe(200);
        const etag = String(first.headers.etag);
        expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
        const again = await call(t, 'GET', url, { as: 'viewer', headers: { 'if-none-match': etag } });
        expect(again.status).toBe(304);
        expect(again.text).toBe('');
        expect(again.headers.etag).toBe(etag);
        expect(again.headers['cache-control']).toBe('no-store');
        // A list of tags, or a weak form of the tag, matches too; another tag does not.
        expect((await call(t, 'GET', url, { as: 'viewer', headers: { 'if-none-match': `"other", W/${etag}` } })).status).toBe(304);
        expect((await call(t, 'GET', url, { as: 'viewer', headers: { 'if-none-match': '"other"' } })).status).toBe(200);
        return etag;
      }

      it('GET /api/agents answers 304 to a matching If-None-Match, and 200 with a new ETag once an agent changed', async () => {
        const agent = await createAgent(t);
        const etag = await expectNotModified('/api/agents');
        expect((await call(t, 'PATCH', `/api/agents/${agent.id}`, { body: { prompt: 'changed' } })).status).toBe(200);
        const changed = await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents', { headers: { 'if-none-match': etag } });
        expect(changed.status).toBe(200);
        expect(changed.headers.etag).not.toBe(etag);
        expect(changed.body.data[0]!.prompt).toBe('changed');
      });

      it('GET /api/agents/stats and the runs list do the same', async () => {
        const agent = await createAgent(t);
        await expectNotModified('/api/agents/stats');
        await expectNotModified('/api/agents/stats?period=24h');
        const runs = `/api/agents/${agent.id}/runs`;
        const empty = await expectNotModified(runs);
        await triggerRun(t, agent.id);
        await waitForRunnerRuns(t, 1);
        expect((await call(t, 'GET', runs, { headers: { 'if-none-match': empty } })).status).toBe(200);
        await expectNotModified(runs);
      });

      it('an error answer carries no ETag', async () => {
        const missing = await call(t, 'GET', '/api/agents/nope');
        expect(missing.status).toBe(404);
        expect(missing.headers.etag).toBeUndefined();
      });
    });

    describe('paging GET /api/agents', () => {
      const names = ['beta', 'Alpha', 'alpha', 'gamma', 'Beta', 'delta', 'alpha'];

      it("without limit or cursor, answers the whole list in the spec's envelope, as before", async () => {
        for (const name of names) await createAgent(t, { name });
        const whole = await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents');
        expect(Object.keys(whole.body)).toEqual(['data']);
        expect(whole.body.data).toHaveLength(names.length);
        // Parameters it does not know are ignored, as they always were.
        expect((await call(t, 'GET', '/api/agents?_=123')).status).toBe(200);
      });

      it('pages through the same order, with nextCursor until the last page', async () => {
        for (const name of names) await createAgent(t, { name });
        const whole = (await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents')).body.data;
        const paged: AgentJson[] = [];
        let cursor: string | null = null;
        let pages = 0;
        do {
          const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
          const page = await call<{ data: AgentJson[]; nextCursor: string | null }>(t, 'GET', `/api/agents${query}`);
          expect(page.status, page.text).toBe(200);
          expect(Object.keys(page.body).sort()).toEqual(['data', 'nextCursor']);
          expect(page.body.data.length).toBeLessThanOrEqual(2);
          paged.push(...page.body.data);
          cursor = page.body.nextCursor;
          pages++;
        } while (cursor !== null && pages < 10);
        expect(pages).toBe(4);
        expect(paged.map((a) => a.id)).toEqual(whole.map((a) => a.id));
        const all = await call<{ data: AgentJson[]; nextCursor: string | null }>(t, 'GET', '/api/agents?limit=1000');
        expect(all.body).toEqual({ data: whole, nextCursor: null });
      });

      it.each([
        ['a cursor it never gave', '?cursor=bm9wZQ', 'cursor'],
        ['a limit of 0', '?limit=0', 'limit'],
        ['a limit over the maximum', '?limit=1001', 'limit'],
      ])('answers 400 to %s', async (_label, query, field) => {
        expectError(await call(t, 'GET', `/api/agents${query}`), 400, 'validation_error', field);
      });
    });
  });
}

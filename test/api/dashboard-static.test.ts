import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { CONTENT_SECURITY_POLICY } from '../../src/api/static-routes.js';
import { systemClock } from '../../src/clock.js';
import { generateSecretKey, SecretCipher } from '../../src/domain/secret-cipher.js';
import { Access } from '../../src/services/access.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import type { TestApp } from '../support/test-app.js';
import { call, useTestApp } from './api-helpers.js';

/** The built dashboard at `/`: files, SPA fallback, security headers, and /api left as it was. */

const INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body></body></html>';
const SCRIPT = `console.log(${JSON.stringify('x'.repeat(4000))});`;

let server: FastifyInstance;
let store: Store;
let webDir: string;
let token: string;

beforeAll(async () => {
  webDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-web-'));
  fs.mkdirSync(path.join(webDir, 'assets'));
  fs.writeFileSync(path.join(webDir, 'index.html'), INDEX);
  fs.writeFileSync(path.join(webDir, 'assets', 'index-abc123.js'), SCRIPT);
  fs.writeFileSync(path.join(webDir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  store = openSqliteStore(':memory:');
  await store.migrate();
  const access = new Access({ store, clock: systemClock });
  ({ token } = await access.issueToken(await access.createUser({ name: 'reader', role: 'viewer' }), 'test'));
  const cipher = new SecretCipher(generateSecretKey());
  server = await buildServer({ store, clock: systemClock, scheduler: { wake() {} }, executor: null, cipher, health: async () => {} }, { webDir });
  await server.ready();
});

afterAll(async () => {
  await server?.close();
  await store?.close();
  fs.rmSync(webDir, { recursive: true, force: true });
});

const get = (url: string, headers: Record<string, string> = {}) => server.inject({ method: 'GET', url, headers });

function expectSecurityHeaders(headers: Record<string, unknown>): void {
  expect(headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['referrer-policy']).toBe('same-origin');
}

describe('the dashboard files', () => {
  it('serves index.html at / with a Content-Security-Policy that allows no inline script or style', async () => {
    const response = await get('/');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toBe(INDEX);
    expectSecurityHeaders(response.headers);
    const csp = String(response.headers['content-security-policy']);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
  });

  it('falls back to index.html for client-side routes (any non-/api GET that is not a file)', async () => {
    for (const url of ['/agents', '/agents/new', '/agents/abc/edit', '/sign-in', '/agents/abc?run=1', '/whatever/deep/path']) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.body).toBe(INDEX);
      expectSecurityHeaders(response.headers);
    }
    expect((await server.inject({ method: 'HEAD', url: '/agents' })).statusCode).toBe(200);
  });

  it('serves built assets as immutable, gzipped when the client accepts it, with a security header set', async () => {
    const plain = await get('/assets/index-abc123.js');
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.body).toBe(SCRIPT);
    expectSecurityHeaders(plain.headers);
    const gzipped = await get('/assets/index-abc123.js', { 'accept-encoding': 'gzip, br' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzipped.rawPayload).toString()).toBe(SCRIPT);
    expect(gzipped.rawPayload.length).toBeLessThan(SCRIPT.length / 4);
    expect((await get('/favicon.svg')).headers['content-type']).toBe('image/svg+xml');
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await get('/');
    const again = await get('/', { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('answers 404 (not HTML) for a missing file', async () => {
    const response = await get('/assets/index-old999.js');
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('does not serve files outside its folder', async () => {
    for (const url of ['/../package.json', '/%2e%2e/package.json', '/assets/../../package.json']) {
      const response = await get(url);
      expect(response.body, url).not.toContain('"name": "cron-agents"');
    }
  });
});

describe('/api is unchanged by the fallback', () => {
  it('an unknown /api path is 401 without a token and a JSON 404 with one', async () => {
    const anonymous = await get('/api/nothing-here');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json()).toMatchObject({ error: { code: 'unauthorized' } });
    const known = await get('/api/nothing-here', { authorization: `Bearer ${token}` });
    expect(known.statusCode).toBe(404);
    expect(known.json()).toEqual({ error: { code: 'not_found', message: 'no route GET /api/nothing-here', details: [] } });
    expect(known.headers['content-security-policy']).toBeUndefined();
    expect((await get('/%61pi/nothing-here', { authorization: `Bearer ${token}` })).statusCode).toBe(404);
    expect((await get('/api', { authorization: `Bearer ${token}` })).statusCode).toBe(404);
  });

  it('API routes answer JSON as before, and other methods off /api still get the JSON 404', async () => {
    const agents = await get('/api/agents', { authorization: `Bearer ${token}` });
    expect(agents.statusCode).toBe(200);
    expect(agents.json()).toEqual({ data: [] });
    const post = await server.inject({ method: 'POST', url: '/agents' });
    expect(post.statusCode).toBe(404);
    expect(post.json()).toMatchObject({ error: { code: 'not_found' } });
  });

  it('an over-long id under /api is still 414', async () => {
    const response = await get(`/api/agents/${'x'.repeat(200)}`, { authorization: `Bearer ${token}` });
    expect(response.statusCode).toBe(414);
  });
});

describe('the service as started', () => {
  let t: TestApp;
  useTestApp('all', (app) => {
    t = app;
  });

  it('serves HTML with the Content-Security-Policy at / (the built dashboard, or a note to build it)', async () => {
    const response = await call(t, 'GET', '/', { as: null });
    expect(response.status).toBe(200);
    expect(String(response.headers['content-type'])).toContain('text/html');
    expect(response.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(response.text).toMatch(/<html/i);
  });
});

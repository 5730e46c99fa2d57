import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { LIMITS } from '../../src/defaults.js';
import { SQLITE } from '../support/dialects.js';
import { FakeRunner } from '../support/fake-runner.js';
import type { TestApp } from '../support/test-app.js';
import { agentBody, call, expectError, useTestApp } from './api-helpers.js';

/**
 * What a red-team pass found at the HTTP edge (issue 13): amplification through big invalid
 * bodies, missing headers on API answers, and /healthz telling the database's error.
 */

let t: TestApp;

/** A JSON object of `count` unknown keys: `{"k0":0,"k1":0,...}`. */
function manyKeys(count: number, extra: Record<string, unknown> = {}): string {
  const keys = Array.from({ length: count }, (_, i) => `"k${i}":0`).join(',');
  const rest = JSON.stringify(extra).slice(1, -1);
  return `{${rest}${rest ? ',' : ''}${keys}}`;
}

describe('amplification: big invalid bodies get small answers', () => {
  useTestApp('all', (app) => {
    t = app;
  });

  it('POST /api/session refuses a 1 MB body of 60,000 unknown keys as too large (413), in a few bytes', async () => {
    const raw = manyKeys(60_000, { name: 'x', password: 'y' });
    expect(raw.length).toBeGreaterThan(500_000);
    const response = await call(t, 'POST', '/api/session', { as: null, raw });
    expectError(response, 413, 'body_too_large');
    expect(response.text.length).toBeLessThan(500);
  });

  it(`POST /api/session takes at most ${LIMITS.smallBodyBytes} bytes, and names at most ${LIMITS.errorDetails} problems`, async () => {
    const raw = manyKeys(700, { name: 'x', password: 'y' });
    expect(raw.length).toBeLessThan(LIMITS.smallBodyBytes);
    const response = await call(t, 'POST', '/api/session', { as: null, raw });
    const body = expectError(response, 400, 'validation_error');
    expect(body.error.details.length).toBeGreaterThan(0);
    expect(body.error.details.length).toBeLessThanOrEqual(LIMITS.errorDetails);
    expect(response.text.length).toBeLessThan(4_000);
  });

  it('a route that takes a big body (POST /api/agents) answers 60,000 unknown keys with a short error', async () => {
    const raw = manyKeys(60_000, agentBody());
    expect(raw.length).toBeLessThan(LIMITS.bodyBytes);
    const response = await call(t, 'POST', '/api/agents', { raw });
    const body = expectError(response, 400, 'validation_error');
    expect(body.error.details.length).toBeGreaterThan(0);
    expect(body.error.details.length).toBeLessThanOrEqual(LIMITS.errorDetails);
    expect(response.text.length).toBeLessThan(4_000);
  });

  it('a small body with many wrong fields still names them (up to the cap), and says how many more there were', async () => {
    const body: Record<string, number> = {};
    for (let i = 0; i < 30; i++) body[`unknown${i}`] = i;
    const response = await call(t, 'POST', '/api/agents', { body: { ...agentBody(), ...body } });
    const error = expectError(response, 400, 'validation_error');
    expect(error.error.details).toHaveLength(LIMITS.errorDetails);
    expect(error.error.message).toContain('and 10 more');
  });

  it.each([
    ['POST', '/api/users', { name: 'someone', role: 'viewer' }, 'admin'],
    ['POST', '/api/tokens', { user: 'member-user' }, 'admin'],
    ['POST', '/api/schedules/preview', { schedule: '@daily' }, 'member'],
  ] as const)('%s %s takes a small body only', async (method, url, fields, as) => {
    const raw = JSON.stringify({ ...fields, padding: 'x'.repeat(LIMITS.smallBodyBytes) });
    expectError(await call(t, method, url, { as, raw }), 413, 'body_too_large');
  });

  it('a bodiless route (POST /run) takes a small body only', async () => {
    const raw = JSON.stringify({ padding: 'x'.repeat(LIMITS.smallBodyBytes) });
    expectError(await call(t, 'POST', '/api/agents/nope/run', { raw }), 413, 'body_too_large');
  });
});

describe('headers on API answers', () => {
  useTestApp('all', (app) => {
    t = app;
  });

  it('every /api answer carries nosniff and no-store, errors too', async () => {
    for (const response of [await call(t, 'GET', '/api/agents'), await call(t, 'GET', '/api/agents', { as: null }), await call(t, 'GET', '/api/nowhere')]) {
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['cache-control']).toBe('no-store');
    }
  });

  it('sends no Strict-Transport-Security over plain HTTP', async () => {
    const response = await call(t, 'GET', '/api/agents');
    expect(response.headers['strict-transport-security']).toBeUndefined();
    // A client cannot claim HTTPS when no proxy is trusted.
    const claimed = await call(t, 'GET', '/api/agents', { headers: { 'x-forwarded-proto': 'https' } });
    expect(claimed.headers['strict-transport-security']).toBeUndefined();
  });

  it('the dashboard keeps its own CSP and caching', async () => {
    const page = await t.app.server.inject({ method: 'GET', url: '/' });
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['cache-control']).not.toBe('no-store');
  });
});

describe('Strict-Transport-Security over HTTPS from a trusted proxy', () => {
  useTestApp(
    'all',
    (app) => {
      t = app;
    },
    { trustProxy: ['10.0.0.0/8'] },
  );

  const viaProxy = (proto: string) => ({ remoteAddress: '10.0.0.2', headers: { 'x-forwarded-proto': proto, ...t.auth('viewer') } });

  it('is sent on API answers and dashboard pages that came over HTTPS', async () => {
    const api = await t.app.server.inject({ method: 'GET', url: '/api/agents', ...viaProxy('https') });
    expect(api.statusCode).toBe(200);
    expect(api.headers['strict-transport-security']).toBe('max-age=31536000');
    const page = await t.app.server.inject({ method: 'GET', url: '/', ...viaProxy('https') });
    expect(page.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('is not sent over plain HTTP through the same proxy', async () => {
    const api = await t.app.server.inject({ method: 'GET', url: '/api/agents', ...viaProxy('http') });
    expect(api.headers['strict-transport-security']).toBeUndefined();
  });
});

describe('/healthz when the database is down', () => {
  it('answers 503 with a generic reason, and logs the detail', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const store = await SQLITE.open();
    const app = await App.create(loadConfig({}, { dataDir: '/nonexistent-healthz', port: 0, secretKey: Buffer.alloc(32, 1) }), {
      runner: new FakeRunner(),
      store,
      logger: pino({ level: 'info' }, sink),
      print: () => {},
    });
    try {
      store.ping = async () => {
        throw new Error('password authentication failed for user "cron" at db.internal:5432');
      };
      const response = await app.server.inject({ method: 'GET', url: '/healthz' });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ status: 'unavailable', reason: 'the database is unreachable' });
      expect(response.body).not.toContain('db.internal');
      expect(lines.join('')).toContain('db.internal');
    } finally {
      await app.stop();
    }
  });
});

/** GET /healthz and the start-up log say when runs have no sandbox (CRON_AGENTS_SANDBOX=off). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { SQLITE } from '../support/dialects.js';
import { FakeRunner } from '../support/fake-runner.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

let t: TestApp | null = null;
afterEach(async () => {
  await t?.close();
  t = null;
});

describe('the sandbox setting, seen from outside', () => {
  it('healthz says "sandbox": "off" when runs have no sandbox, and nothing more otherwise', async () => {
    t = await createTestApp({ sandbox: 'off' });
    const off = await t.app.server.inject({ method: 'GET', url: '/healthz' });
    expect(off.json()).toEqual({ status: 'ok', sandbox: 'off' });
    await t.close();
    t = await createTestApp();
    const required = await t.app.server.inject({ method: 'GET', url: '/healthz' });
    expect(required.json()).toEqual({ status: 'ok' });
  });

  it('start-up warns that the sandbox is off', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-healthz-'));
    const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', sandbox: 'off' });
    const app = await App.create(config, { runner: new FakeRunner(), store: await SQLITE.open(), logger: pino({ level: 'info' }, sink), print: () => {} });
    try {
      await app.start();
      expect(lines.join('')).toContain('the sandbox is off (CRON_AGENTS_SANDBOX=off)');
    } finally {
      await app.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { displayPrefix, generateToken, hashToken } from '../../src/domain/tokens.js';
import { SECRET_KEY_FILE } from '../../src/services/secret-key.js';
import { FakeRunner } from '../support/fake-runner.js';

/**
 * Secrets kept across restarts of the whole app on one data dir (SQLite file and key file), and
 * unreadable without their key: at rest in the database files, and for a run under another key,
 * which then ends as an error naming the secret. Nothing logged, at any level, holds a value.
 */

const VALUE = 'xoxb-restart-secret-value-98765';

interface Started {
  app: App;
  runner: FakeRunner;
}

let dataDir: string;
let token: string;
let logs: string[];
let running: Started[];

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-secrets-restart-'));
  token = '';
  logs = [];
  running = [];
});

afterEach(async () => {
  for (const { app } of running) await app.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
  expect(logs.join('')).not.toContain(VALUE);
});

/** The app on the data dir (its own SQLite file), logging everything, with a runner that echoes the value. */
async function start(env: Record<string, string> = {}): Promise<Started> {
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logs.push(line) });
  const config = loadConfig(env, { dataDir, port: 0, logLevel: 'trace', shutdownGraceMs: 0 });
  const runner = new FakeRunner();
  runner.autoFinish = { output: `SLACK_TOKEN=${VALUE}` };
  const app = await App.create(config, { runner, logger, print: () => {} });
  await app.store.migrate();
  if (!token) {
    const user = await app.store.createUser({ name: 'member', role: 'member' }, Date.now());
    token = generateToken();
    await app.store.createToken({ userId: user.id, label: 'test', tokenHash: hashToken(token), prefix: displayPrefix(token) }, Date.now());
  }
  app.executor?.start();
  const started = { app, runner };
  running.push(started);
  return started;
}

async function stop(started: Started): Promise<void> {
  await started.app.stop();
  running = running.filter((s) => s !== started);
}

async function api<T>(app: App, method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown): Promise<{ status: number; body: T; text: string }> {
  const response = await app.server.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  expect(response.body).not.toContain(VALUE);
  return { status: response.statusCode, body: JSON.parse(response.body) as T, text: response.body };
}

/** Runs the agent once and returns the run as the API shows it once it has ended. */
async function runOnce(app: App, agentId: string): Promise<{ status: string; output: string | null }> {
  const { body } = await api<{ runId: string }>(app, 'POST', `/api/agents/${agentId}/run`);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const runs = (await api<{ data: { id: string; status: string; output: string | null }[] }>(app, 'GET', `/api/agents/${agentId}/runs`)).body.data;
    const run = runs.find((r) => r.id === body.runId);
    if (run && !['queued', 'running'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${body.runId} did not end`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Creates an agent with the secret set; returns its id. */
async function agentWithSecret(app: App): Promise<string> {
  const created = await api<{ data: { id: string } }>(app, 'POST', '/api/agents', { name: 'slack', schedule: '0 0 1 1 *', prompt: 'Post.', enabled: false });
  expect(created.status, created.text).toBe(200);
  const set = await api(app, 'PUT', `/api/agents/${created.body.data.id}/secrets/SLACK_TOKEN`, { value: VALUE });
  expect(set.status, set.text).toBe(200);
  return created.body.data.id;
}

describe('secrets across restarts', () => {
  it('survive a restart on the same data dir: listed, and given to the next run (whose output is redacted)', async () => {
    const first = await start();
    const agentId = await agentWithSecret(first.app);
    await stop(first);
    const keyFile = path.join(dataDir, SECRET_KEY_FILE);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);

    const second = await start();
    const listed = await api<{ data: { name: string }[] }>(second.app, 'GET', `/api/agents/${agentId}/secrets`);
    expect(listed.body.data.map((s) => s.name)).toEqual(['SLACK_TOKEN']);
    const run = await runOnce(second.app, agentId);
    expect(second.runner.runs[0]?.request.secrets).toEqual({ SLACK_TOKEN: VALUE });
    expect(run).toMatchObject({ status: 'success', output: 'SLACK_TOKEN=[secret:SLACK_TOKEN]' });
  });

  it('are not in the database files, and a run under another key ends as an error naming the secret', async () => {
    const first = await start();
    const agentId = await agentWithSecret(first.app);
    await stop(first);
    for (const file of fs.readdirSync(dataDir)) {
      const bytes = fs.readFileSync(path.join(dataDir, file));
      expect(bytes.includes(Buffer.from(VALUE)), file).toBe(false);
      expect(bytes.includes(Buffer.from(VALUE, 'utf16le')), file).toBe(false);
    }

    const otherKey = await start({ CRON_AGENTS_SECRET_KEY: randomBytes(32).toString('base64') });
    const run = await runOnce(otherKey.app, agentId);
    expect(run.status).toBe('error');
    expect(run.output).toMatch(
      /^The run failed: secret SLACK_TOKEN cannot be decrypted: it was stored under secret key [0-9a-f]{8}, and this instance has key/,
    );
    expect(otherKey.runner.runs).toHaveLength(0);
    // The executor goes on: the next run of an agent without secrets succeeds.
    otherKey.runner.autoFinish = { output: 'done' };
    const plain = await api<{ data: { id: string } }>(otherKey.app, 'POST', '/api/agents', {
      name: 'plain',
      schedule: '0 0 1 1 *',
      prompt: 'Hi.',
      enabled: false,
    });
    expect((await runOnce(otherKey.app, plain.body.data.id)).status).toBe('success');
    await stop(otherKey);

    // The key file lost: a new one is made, and the old secrets stay unreadable.
    fs.rmSync(path.join(dataDir, SECRET_KEY_FILE));
    const lostKey = await start();
    expect((await runOnce(lostKey.app, agentId)).output).toContain('secret SLACK_TOKEN cannot be decrypted');
    // Setting the secret again under the new key mends it.
    await api(lostKey.app, 'PUT', `/api/agents/${agentId}/secrets/SLACK_TOKEN`, { value: VALUE });
    expect(await runOnce(lostKey.app, agentId)).toMatchObject({ status: 'success', output: 'SLACK_TOKEN=[secret:SLACK_TOKEN]' });
  });

  it('the same CRON_AGENTS_SECRET_KEY on another start reads them', async () => {
    const key = randomBytes(32).toString('hex');
    const first = await start({ CRON_AGENTS_SECRET_KEY: key });
    const agentId = await agentWithSecret(first.app);
    await stop(first);
    expect(fs.existsSync(path.join(dataDir, SECRET_KEY_FILE))).toBe(false);
    const second = await start({ CRON_AGENTS_SECRET_KEY: key });
    expect(await runOnce(second.app, agentId)).toMatchObject({ status: 'success', output: 'SLACK_TOKEN=[secret:SLACK_TOKEN]' });
  });
});

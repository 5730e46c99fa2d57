import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkDatabase } from '../../src/doctor/database-check.js';
import { formatReport, hasFailures, runDoctor, type CheckResult } from '../../src/doctor/doctor.js';
import { checkClaudeBinary, checkDataDir, checkSandbox, checkSecretKey } from '../../src/doctor/host-checks.js';
import { checkModel } from '../../src/doctor/model-check.js';
import { loadConfig } from '../../src/config.js';
import { openStore, SQLITE_FILE } from '../../src/store/open-store.js';
import { startFakeAnthropic, type FakeAnthropic } from '../fake-anthropic/fake-anthropic-server.js';
import { TEST_DATABASE_URL } from '../support/dialects.js';

/**
 * `cron-agents doctor`'s checks, each against the real thing it looks at: PATH folders with and
 * without bubblewrap, databases that refuse, do not answer, do not exist, or are not databases,
 * and model APIs that accept or refuse the key.
 */

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-doctor-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A PATH folder holding these programs, each a shell script with this body. */
function pathWith(programs: Record<string, string>): string {
  const bin = path.join(tempDir(), 'bin');
  fs.mkdirSync(bin);
  for (const [name, body] of Object.entries(programs)) fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return bin;
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** A port on which nothing listens: a server's, closed again. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A server that accepts connections and never says a word (a black hole, as a wrong firewall makes). */
async function silentServer(): Promise<number> {
  const server = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return (server.address() as net.AddressInfo).port;
}

describe('doctor: the sandbox', () => {
  it('reports a missing bubblewrap clearly, with the package to install and the way around it', async () => {
    const result = await checkSandbox('required', pathWith({ socat: 'exit 0' }), 5000);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('required, but bubblewrap is not installed (not on PATH): every run would end as an error');
    expect(result.fix).toContain('apt-get install -y bubblewrap socat');
    expect(result.fix).toContain('CRON_AGENTS_SANDBOX=off');
  });

  it('names both packages when neither is there', async () => {
    const result = await checkSandbox('required', pathWith({}), 5000);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('bubblewrap and socat are not installed');
  });

  it('fails when bubblewrap is there but cannot make a sandbox (no user namespaces), with its own words', async () => {
    const bin = pathWith({ bwrap: 'echo "bwrap: No permissions to create new namespace" >&2; exit 1', socat: 'exit 0' });
    const result = await checkSandbox('required', bin, 5000);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe('bubblewrap is installed but cannot make a sandbox here: bwrap: No permissions to create new namespace');
    expect(result.fix).toContain('unprivileged user namespaces');
  });

  it('passes when bubblewrap makes a sandbox and socat is there', async () => {
    const bin = pathWith({ bwrap: 'exit 0', socat: 'exit 0' });
    const result = await checkSandbox('required', bin, 5000);
    expect(result).toMatchObject({ status: 'ok' });
    expect(result.summary).toContain(path.join(bin, 'bwrap'));
  });

  it('warns when the sandbox is off, whatever is installed', async () => {
    const result = await checkSandbox('off', pathWith({}), 5000);
    expect(result.status).toBe('warn');
    expect(result.summary).toContain('CRON_AGENTS_SANDBOX=off');
  });
});

describe('doctor: the database', () => {
  it('reports a DATABASE_URL that is not a postgres:// URL as a configuration error, and skips what needs it', async () => {
    const results = await runDoctor({ env: { DATABASE_URL: 'mysql://app@db/agents', CRON_AGENTS_RUNNER: 'false' } });
    const byName = new Map(results.map((r) => [r.name, r]));
    expect(byName.get('configuration')).toMatchObject({
      status: 'fail',
      summary: expect.stringContaining('DATABASE_URL must be a postgres:// URL') as unknown,
    });
    expect(byName.get('database')).toMatchObject({ status: 'skip' });
    expect(hasFailures(results)).toBe(true);
  });

  it('reports a PostgreSQL server that is not there: connection refused, and where', async () => {
    const port = await closedPort();
    const result = await checkDatabase({ databaseUrl: `postgres://app:hunter2@127.0.0.1:${port}/agents`, dataDir: '' }, 5000);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(`cannot connect to PostgreSQL at 127.0.0.1:${port}/agents: connection refused (nothing listens on 127.0.0.1:${port})`);
    expect(result.fix).toContain('DATABASE_URL');
    // The password is never shown.
    expect(JSON.stringify(result)).not.toContain('hunter2');
  });

  it('gives up on a server that never answers, in the time it was given', async () => {
    const port = await silentServer();
    const started = Date.now();
    const result = await checkDatabase({ databaseUrl: `postgres://app@127.0.0.1:${port}/agents`, dataDir: '' }, 500);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(`cannot connect to PostgreSQL at 127.0.0.1:${port}/agents: no answer in time`);
    expect(result.fix).toContain('firewall');
  });

  it.skipIf(!TEST_DATABASE_URL)('reports a database that does not exist on a real PostgreSQL server', async () => {
    const url = new URL(TEST_DATABASE_URL!);
    url.pathname = '/no_such_database_for_doctor';
    const result = await checkDatabase({ databaseUrl: url.href, dataDir: '' }, 5000);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('the database "no_such_database_for_doctor" does not exist');
    expect(result.fix).toContain('createdb no_such_database_for_doctor');
  });

  it('on SQLite: no database yet is fine, and the doctor does not create one', async () => {
    const dataDir = path.join(tempDir(), 'data');
    const result = await checkDatabase({ databaseUrl: null, dataDir }, 5000);
    expect(result.status).toBe('ok');
    expect(result.summary).toContain('no database yet');
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('on SQLite: a file that is not a database fails, pointing at restore', async () => {
    const dataDir = tempDir();
    fs.writeFileSync(path.join(dataDir, SQLITE_FILE), 'this is not a database '.repeat(100));
    const result = await checkDatabase({ databaseUrl: null, dataDir }, 5000);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('cannot open');
    expect(result.fix).toContain('cron-agents restore');
  });

  it('on SQLite: says whether migrations are pending, applied, or from a newer version', async () => {
    const dataDir = tempDir();
    const file = path.join(dataDir, SQLITE_FILE);
    new Database(file).close();
    expect(await checkDatabase({ databaseUrl: null, dataDir }, 5000)).toMatchObject({ status: 'warn', summary: expect.stringContaining('pending') as unknown });

    const store = await openStore({ databaseUrl: null, dataDir });
    await store.migrate();
    await store.close();
    const current = await checkDatabase({ databaseUrl: null, dataDir }, 5000);
    expect(current.status).toBe('ok');
    expect(current.summary).toContain('up to date');

    const db = new Database(file);
    db.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('9999-from-the-future', new Date().toISOString());
    db.close();
    const newer = await checkDatabase({ databaseUrl: null, dataDir }, 5000);
    expect(newer).toMatchObject({ status: 'fail', summary: expect.stringContaining('9999-from-the-future') as unknown });
  });
});

describe('doctor: the model credentials', () => {
  let fake: FakeAnthropic;
  beforeAll(async () => {
    fake = await startFakeAnthropic();
  });
  afterAll(async () => {
    await fake?.close();
  });

  it('fails without any credential', async () => {
    const result = await checkModel({}, { online: false, timeoutMs: 5000 });
    expect(result.status).toBe('fail');
    expect(result.fix).toContain('ANTHROPIC_API_KEY');
  });

  it('sends nothing without --online', async () => {
    const before = fake.requests.length;
    const result = await checkModel({ ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: fake.url }, { online: false, timeoutMs: 5000 });
    expect(result).toMatchObject({ status: 'ok', summary: expect.stringContaining('add --online') as unknown });
    expect(fake.requests.length).toBe(before);
  });

  it('with --online, sends one request for one token, and passes when the API answers', async () => {
    const before = fake.requests.length;
    const result = await checkModel({ ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: fake.url }, { online: true, timeoutMs: 5000 });
    expect(result.status).toBe('ok');
    expect(result.summary).toContain('ANTHROPIC_API_KEY works');
    const sent = fake.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ method: 'POST', path: '/v1/messages', body: { max_tokens: 1 } });
  });

  it('with --online, fails when the API refuses the key, in its own words', async () => {
    const headers: http.IncomingHttpHeaders[] = [];
    const refusing = http.createServer((request, response) => {
      headers.push(request.headers);
      response.writeHead(401, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } }));
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    servers.push(refusing);
    const base = `http://127.0.0.1:${(refusing.address() as net.AddressInfo).port}`;
    const result = await checkModel({ ANTHROPIC_API_KEY: 'sk-wrong', ANTHROPIC_BASE_URL: base }, { online: true, timeoutMs: 5000 });
    expect(result.status).toBe('fail');
    expect(result.summary).toBe(`${base} refused ANTHROPIC_API_KEY (401: invalid x-api-key)`);
    expect(headers[0]).toMatchObject({ 'x-api-key': 'sk-wrong', 'anthropic-version': '2023-06-01' });
  });

  it('with --online, fails when the API cannot be reached', async () => {
    const base = `http://127.0.0.1:${await closedPort()}`;
    const result = await checkModel({ ANTHROPIC_AUTH_TOKEN: 'tok', ANTHROPIC_BASE_URL: base }, { online: true, timeoutMs: 5000 });
    expect(result.status).toBe('fail');
    expect(result.summary).toContain(`ANTHROPIC_AUTH_TOKEN is set, but ${base} cannot be reached`);
  });
});

describe('doctor: the host', () => {
  it('finds the claude binary the Agent SDK runs, and it starts', { timeout: 60_000 }, async () => {
    const result = await checkClaudeBinary(30_000);
    expect(result.status, result.summary).toBe('ok');
    expect(result.summary).toMatch(/Claude Code/);
  });

  it('fails on a claude binary that is missing or does not start', async () => {
    expect(await checkClaudeBinary(5000, null)).toMatchObject({ status: 'fail', fix: expect.stringContaining('optional') as unknown });
    const broken = path.join(pathWith({ claude: 'echo "cannot execute: required file not found" >&2; exit 127' }), 'claude');
    const result = await checkClaudeBinary(5000, broken);
    expect(result.status).toBe('fail');
    expect(result.summary).toContain('does not start: cannot execute: required file not found');
  });

  it('checks the data dir is a folder it may write', () => {
    const dir = tempDir();
    expect(checkDataDir({ dataDir: dir })).toMatchObject({ status: 'ok', summary: dir });
    expect(checkDataDir({ dataDir: path.join(dir, 'a/b') }).summary).toContain('created on first start');
    const file = path.join(dir, 'file');
    fs.writeFileSync(file, '');
    expect(checkDataDir({ dataDir: file })).toMatchObject({ status: 'fail', summary: `${file} is not a folder` });
  });

  it('checks the secret key file', () => {
    const dataDir = tempDir();
    expect(checkSecretKey({ dataDir, secretKey: null, databaseUrl: null }).status).toBe('ok');
    expect(checkSecretKey({ dataDir, secretKey: null, databaseUrl: 'postgres://db/x' }).status).toBe('warn');
    const file = path.join(dataDir, 'secret.key');
    fs.writeFileSync(file, 'not a key\n', { mode: 0o600 });
    expect(checkSecretKey({ dataDir, secretKey: null, databaseUrl: null })).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('backup') as unknown,
    });
    fs.writeFileSync(file, `${Buffer.alloc(32, 7).toString('base64')}\n`);
    fs.chmodSync(file, 0o644);
    expect(checkSecretKey({ dataDir, secretKey: null, databaseUrl: null })).toMatchObject({ status: 'warn', fix: `chmod 600 ${file}` });
    fs.chmodSync(file, 0o600);
    expect(checkSecretKey({ dataDir, secretKey: null, databaseUrl: null }).status).toBe('ok');
  });
});

describe('doctor: the report', () => {
  it('runs every check on a sound configuration, without touching the data dir', { timeout: 60_000 }, async () => {
    const dataDir = path.join(tempDir(), 'data');
    const env = { CRON_AGENTS_DATA_DIR: dataDir, PATH: pathWith({ bwrap: 'exit 0', socat: 'exit 0' }), ANTHROPIC_API_KEY: 'sk-test' };
    expect(loadConfig(env).dataDir).toBe(dataDir);
    const results = await runDoctor({ env });
    expect(results.map((r) => r.name)).toEqual([
      'Node.js',
      'configuration',
      'data dir',
      'secret key',
      'database',
      'claude binary',
      'sandbox',
      'model credentials',
    ]);
    expect(results.filter((r) => r.status === 'fail')).toEqual([]);
    expect(hasFailures(results)).toBe(false);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('prints a line per check, the fix below a problem, and a verdict', () => {
    const results: CheckResult[] = [
      { name: 'configuration', status: 'ok', summary: 'SQLite in /data' },
      { name: 'sandbox', status: 'fail', summary: 'required, but bubblewrap is not installed', fix: 'apt-get install -y bubblewrap socat' },
      { name: 'database', status: 'warn', summary: '1 migration(s) pending', fix: 'cron-agents migrate' },
      { name: 'model', status: 'skip', summary: 'not needed' },
    ];
    const lines = formatReport(results).split('\n');
    expect(lines[0]).toMatch(/^cron-agents doctor \d+\.\d+\.\d+/);
    expect(lines).toContain('  ok    configuration  SQLite in /data');
    expect(lines).toContain('  FAIL  sandbox        required, but bubblewrap is not installed');
    expect(lines).toContain('                       fix: apt-get install -y bubblewrap socat');
    expect(lines).toContain('  skip  model          not needed');
    expect(lines.at(-1)).toBe('1 problem to fix, 1 warning.');
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * The operator's side, through the built CLI and server: the first admin, users and tokens made,
 * listed and revoked on the command line while the server runs, and configuration errors.
 */

const servers: ServerProcess[] = [];
const dataDirs: string[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  for (const dir of dataDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function start(dataDir: string, adminToken: string): Promise<ServerProcess> {
  const server = await startServerProcess({ dataDir, env: { CRON_AGENTS_ADMIN_TOKEN: adminToken } });
  servers.push(server);
  return server;
}

async function get(server: ServerProcess, urlPath: string, token: string): Promise<{ status: number; body: { data: unknown } }> {
  const response = await fetch(server.url + urlPath, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as { data: unknown } };
}

function newDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-cli-'));
  dataDirs.push(dir);
  return dir;
}

describe('the first admin', { timeout: 60_000 }, () => {
  it('on an empty database without CRON_AGENTS_ADMIN_TOKEN, prints a working admin token once', async () => {
    const dataDir = newDataDir();
    const first = await start(dataDir, '');
    const token = /^\s+(cat_[A-Za-z0-9_-]{43})$/m.exec(first.output())?.[1];
    expect(token, first.output()).toBeDefined();
    const me = await get(first, '/api/me', token!);
    expect(me.status).toBe(200);
    expect(me.body.data).toMatchObject({ name: 'admin', role: 'admin' });
    await first.stop();
    // Not on the next start: the database has a user now.
    const second = await start(dataDir, '');
    expect(second.output()).not.toContain('cat_');
    expect((await get(second, '/api/me', token!)).status).toBe(200);
  });

  it('with CRON_AGENTS_ADMIN_TOKEN, ensures one admin holding it, however often it starts', async () => {
    const dataDir = newDataDir();
    const adminToken = `given-${'x'.repeat(40)}`;
    for (let i = 0; i < 2; i++) {
      const server = await start(dataDir, adminToken);
      expect(server.output()).not.toContain('cat_');
      expect((await get(server, '/api/me', adminToken)).body.data).toMatchObject({ name: 'admin', role: 'admin' });
      const users = (await get(server, '/api/users', adminToken)).body.data as { name: string }[];
      expect(users.map((u) => u.name)).toEqual(['admin']);
      await server.stop();
    }
    const tokens = await runCli(['token', 'list'], { CRON_AGENTS_DATA_DIR: dataDir });
    expect(tokens.stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('users and tokens on the command line', { timeout: 60_000 }, () => {
  it('user add, token create (printed once), token list, and token revoke take effect on the running server', async () => {
    const dataDir = newDataDir();
    const server = await start(dataDir, `admin-${'y'.repeat(40)}`);
    const env = { CRON_AGENTS_DATA_DIR: dataDir };

    const added = await runCli(['user', 'add', 'vera', '--role', 'viewer'], env);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^created user vera \(viewer\), id \S+/);

    const created = await runCli(['token', 'create', 'vera', '--name', 'laptop'], env);
    expect(created.code, created.stderr).toBe(0);
    // The token alone on stdout, so a script can take it; what it is goes to stderr.
    const token = created.stdout.trim();
    expect(token).toMatch(/^cat_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/token \S+ for vera \(laptop\); it is shown only once/);

    expect((await get(server, '/api/agents', token)).status).toBe(200);
    const write = await fetch(`${server.url}/api/agents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', schedule: '@daily', prompt: 'p' }),
    });
    expect(write.status).toBe(403);

    const listed = await runCli(['token', 'list'], env);
    const line = listed.stdout.split('\n').find((l) => l.includes('"laptop"'));
    expect(line).toMatch(/ vera {2}"laptop" .* active$/);
    expect(listed.stdout).not.toContain(token);
    const id = line!.split(/\s+/)[0]!;

    const revoked = await runCli(['token', 'revoke', id], env);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect((await get(server, '/api/agents', token)).status).toBe(401);
    expect((await runCli(['token', 'revoke', id], env)).code).toBe(2);
  });

  it('refuses a token for an unknown user and an unknown role, with exit code 2 and a reason', async () => {
    const env = { CRON_AGENTS_DATA_DIR: newDataDir() };
    const noUser = await runCli(['token', 'create', 'nobody'], env);
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toContain('no user named "nobody"');
    const badRole = await runCli(['user', 'add', 'sam', '--role', 'owner'], env);
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toContain('--role must be one of admin, member, viewer');
  });
});

describe('configuration errors', () => {
  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number, got "eighty"'],
    [{ DATABASE_URL: 'mysql://db/x' }, 'DATABASE_URL must be a postgres:// URL'],
    [{ CRON_AGENTS_TRUST_PROXY: 'nginx' }, 'CRON_AGENTS_TRUST_PROXY must be true, false'],
  ])('serve with %j stops at once with exit code 1 and one line saying what is wrong', async (env, message) => {
    const result = await runCli(['serve'], { CRON_AGENTS_DATA_DIR: newDataDir(), ...env });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cron-agents: ${message}`);
    expect(result.stdout).toBe('');
  });
});

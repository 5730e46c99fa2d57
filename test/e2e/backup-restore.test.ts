import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { migrationNames } from '../support/migrated-to.js';
import { runCli, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * The operator's `backup`, `restore` and `migrate --dry-run`, through the built CLI beside the
 * built service (with a runner that only sleeps, so runs are many and quick): a backup taken
 * while the service writes holds every run committed before it and passes the integrity check;
 * restore refuses while the service runs, and once it stopped, brings the backup back, which the
 * service then serves.
 */

const FAKE_RUNNER = path.resolve(import.meta.dirname, '../fixtures/serve-with-fake-runner.mjs');

const servers: ServerProcess[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-backup-e2e-'));
  dirs.push(dir);
  return dir;
}

async function start(dataDir: string, token?: string): Promise<ServerProcess> {
  const server = await startServerProcess({ script: FAKE_RUNNER, dataDir, ...(token ? { token } : {}), env: { FAKE_RUN_MS: '5' } });
  servers.push(server);
  return server;
}

function query<T>(file: string, sql: string): T[] {
  const db = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

const runIdsIn = (file: string) => new Set(query<{ id: string }>(file, 'select id from runs').map((r) => r.id));

describe('backup and restore on the command line', { timeout: 120_000 }, () => {
  it('backs up while the service writes, refuses to restore while it runs, and restores once it stopped', async () => {
    const dataDir = tempDir();
    const server = await start(dataDir);
    const env = { CRON_AGENTS_DATA_DIR: dataDir };
    const created = await server.request<{ data: { id: string } }>('POST', '/api/agents', { name: 'busy', schedule: '0 0 1 1 *', prompt: 'say hi' });
    expect(created.status).toBe(200);
    const agentId = created.body.data.id;

    // Two clients start runs one after another, as fast as the service answers; a run whose
    // request was answered is committed.
    const answered: string[] = [];
    let writing = true;
    const client = async () => {
      while (writing) {
        const started = await server.request<{ runId: string }>('POST', `/api/agents/${agentId}/run`);
        if (started.status === 200) answered.push(started.body.runId);
      }
    };
    const clients = [client(), client()];
    while (answered.length < 40) await new Promise((resolve) => setTimeout(resolve, 20));

    const file = path.join(tempDir(), 'cron-agents-backup.sqlite');
    const committedBefore = [...answered];
    const backup = await runCli(['backup', file], env);
    const answeredDuring = answered.length - committedBefore.length;
    writing = false;
    await Promise.all(clients);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(new RegExp(`^backed up ${dataDir}/cron-agents.sqlite to ${file}: 1 agent\\(s\\), \\d+ run\\(s\\)`));

    expect(query<{ integrity_check: string }>(file, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    const backedUp = runIdsIn(file);
    expect(committedBefore.filter((id) => !backedUp.has(id))).toEqual([]);
    // Nothing but runs the clients started (the last ones possibly before their answer came).
    expect([...backedUp].filter((id) => !answered.includes(id))).toEqual([]);
    expect(answeredDuring, 'the service kept writing while the backup ran').toBeGreaterThan(0);

    // Refused while the service runs; the service goes on unharmed.
    const refused = await runCli(['restore', file], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the database .*cron-agents.sqlite is in use: a cron-agents service .* has it open\. Stop the service, then restore\./);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await server.request<{ data: unknown[] }>('GET', '/api/agents')).body.data).toHaveLength(1);

    expect(await server.stop()).toBe(0);
    const restored = await runCli(['restore', file], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`restored ${file} into ${dataDir}/cron-agents.sqlite: 1 agent(s), ${backedUp.size} run(s)`);
    expect(restored.stdout).toMatch(/the database it replaced is saved as .*cron-agents\.sqlite\.before-restore-/);

    // The service starts on the restored database and serves exactly what the backup held.
    const again = await start(dataDir, server.token);
    const agents = await again.request<{ data: { id: string; name: string }[] }>('GET', '/api/agents');
    expect(agents.body.data.map((a) => [a.id, a.name])).toEqual([[agentId, 'busy']]);
    expect(await again.stop()).toBe(0);
    const database = path.join(dataDir, 'cron-agents.sqlite');
    expect(query<{ integrity_check: string }>(database, 'pragma integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    expect(runIdsIn(database)).toEqual(backedUp);
  });

  it('migrate --dry-run lists what migrate would apply, and applies nothing', async () => {
    const dataDir = tempDir();
    const env = { CRON_AGENTS_DATA_DIR: dataDir };
    const names = await migrationNames();

    const fresh = await runCli(['migrate', '--dry-run'], env);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toBe(
      `there is no database at ${dataDir}/cron-agents.sqlite yet: migrate would create it and apply all ${names.length} migration(s):\n${names.map((n) => `  ${n}\n`).join('')}`,
    );
    expect(fs.readdirSync(dataDir)).toEqual([]);

    const applied = await runCli(['migrate'], env);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toBe(`${names.map((n) => `applied ${n}\n`).join('')}database is up to date\n`);

    const upToDate = await runCli(['migrate', '--dry-run'], env);
    expect(upToDate.stdout).toBe(
      `${dataDir}/cron-agents.sqlite: ${names.length} migration(s) applied, the last ${names.at(-1)}\nnothing to apply: the database is up to date\n`,
    );

    const wrong = await runCli(['migrate', '--dry'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/Unknown option '--dry'/);
  });

  it('backup and restore name the PostgreSQL tools on a PostgreSQL configuration, and want one FILE', async () => {
    const env = { DATABASE_URL: 'postgres://cron:secret@db.invalid:5432/cron', CRON_AGENTS_DATA_DIR: tempDir() };
    const backup = await runCli(['backup', 'nightly.dump'], env);
    expect(backup.code).toBe(1);
    expect(backup.stderr).toContain('pg_dump --format=custom --file=nightly.dump "$DATABASE_URL"');
    const restore = await runCli(['restore', 'nightly.dump'], env);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain('pg_restore --clean --if-exists --dbname="$DATABASE_URL" nightly.dump');
    const missing = await runCli(['backup'], { CRON_AGENTS_DATA_DIR: env.CRON_AGENTS_DATA_DIR });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^cron-agents: backup takes one FILE/);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { ZERO_USAGE } from '../../src/domain/types.js';
import { backupSqlite } from '../../src/store/sqlite/sqlite-backup.js';
import { DatabaseInUseError, restoreSqlite } from '../../src/store/sqlite/sqlite-restore.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import { migrationNames } from '../support/migrated-to.js';

/**
 * `backup` and `restore` of the SQLite database (src/store/sqlite/sqlite-backup.ts and
 * sqlite-restore.ts): a backup taken while another thread commits runs is one consistent
 * snapshot that holds every run committed before it began; restore checks what it is given,
 * refuses while the database is open elsewhere, and replaces the database in one transaction.
 */

const T0 = Date.parse('2026-01-05T08:00:00.000Z');

let dir: string;
let dbFile: string;
const closers: (() => Promise<void> | void)[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-backup-'));
  dbFile = path.join(dir, 'data', 'cron-agents.sqlite');
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The service's own store on the database file, migrated, with `agents` agents that each ran `runs` runs. */
async function serviceStore(agents = 1, runs = 3): Promise<{ store: SqlStore; agentIds: string[] }> {
  const store = openSqliteStore(dbFile);
  // Closed by the test or after it, once.
  const close = store.close.bind(store);
  let closed: Promise<void> | null = null;
  store.close = () => (closed ??= close());
  closers.push(() => store.close());
  await store.migrate();
  const agentIds: string[] = [];
  for (let a = 0; a < agents; a++) {
    const { fields, nextFireAt } = planNewAgent({ name: `agent ${a}`, schedule: '0 * * * *', prompt: `prompt ${a}` }, T0);
    const agent = await store.createAgent(fields, null, nextFireAt, T0);
    agentIds.push(agent.id);
    for (let r = 0; r < runs; r++) {
      const runId = randomUUID();
      await store.enqueueManualRun(agent.id, runId, T0 + r);
      await store.claimQueuedRun('x', T0 + r, T0 + r + 30_000);
      await store.finishRun(runId, 'x', { ...ZERO_USAGE, status: 'success', output: `run ${r}`, costUsd: 0.01 }, T0 + r + 5);
    }
  }
  return { store, agentIds };
}

function rows<T>(file: string, query: string): T[] {
  const db = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(query).all() as T[];
  } finally {
    db.close();
  }
}

const integrity = (file: string) => rows<{ integrity_check: string }>(file, 'pragma integrity_check').map((r) => r.integrity_check);

/**
 * A thread that commits one run after another into the database, each in its own transaction,
 * as `w-1`, `w-2`... with `queued_at` = its number; `committed[0]` is the last number committed.
 */
function startWriter(file: string, agentId: string): { committed: Int32Array; stop: () => Promise<void> } {
  const committed = new Int32Array(new SharedArrayBuffer(8));
  const source = `
    const { workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    const db = new Database(workerData.file, { timeout: 5000 });
    const insert = db.prepare("insert into runs (id, agent_id, status, trigger, queued_at, output) values (?, ?, 'queued', 'manual', ?, ?)");
    const flags = workerData.committed;
    for (let n = 1; Atomics.load(flags, 1) === 0; n++) {
      insert.run('w-' + n, workerData.agentId, n, 'x'.repeat(200));
      Atomics.store(flags, 0, n);
    }
    db.close();
  `;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(source, { eval: true, workerData: { driver, file, agentId, committed } });
  const exited = new Promise<void>((resolve, reject) => {
    worker.once('exit', () => resolve());
    worker.once('error', reject);
  });
  return {
    committed,
    stop: async () => {
      Atomics.store(committed, 1, 1);
      await exited;
    },
  };
}

describe('backup', () => {
  it('taken while another thread commits runs, is one consistent snapshot holding every run committed before it began', { timeout: 60_000 }, async () => {
    const { store, agentIds } = await serviceStore(2, 5);
    // Bulk: some 15 MB of finished runs, so the copy takes a while.
    await sql`
      with recursive n(i) as (select 1 union all select i + 1 from n where i < 50000)
      insert into runs (id, agent_id, status, trigger, queued_at, output) select 'bulk-' || i, ${agentIds[1]!}, 'success', 'manual', i, ${'y'.repeat(250)} from n
    `.execute(store.db);
    const writer = startWriter(dbFile, agentIds[0]!);
    closers.push(writer.stop);
    while (Atomics.load(writer.committed, 0) < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    const before = Atomics.load(writer.committed, 0);
    const out = path.join(dir, 'backup.sqlite');
    const snapshot = await backupSqlite(dbFile, out);
    const after = Atomics.load(writer.committed, 0);
    await writer.stop();

    expect(integrity(out)).toEqual(['ok']);
    // Self-contained: a rollback journal, nothing beside it.
    expect(rows<{ journal_mode: string }>(out, 'pragma journal_mode')[0]?.journal_mode).toBe('delete');
    expect(fs.readdirSync(dir).sort()).toEqual(['backup.sqlite', 'data']);
    const written = rows<{ queued_at: number }>(out, "select queued_at from runs where id like 'w-%' order by queued_at").map((r) => r.queued_at);
    // Every run committed before the backup began, and nothing but a prefix of the writer's runs:
    // a snapshot as of one commit, not pages of different moments.
    expect(written.length).toBeGreaterThanOrEqual(before);
    expect(written.length).toBeLessThanOrEqual(after);
    expect(written).toEqual(Array.from({ length: written.length }, (_, i) => i + 1));
    expect(rows<{ n: number }>(out, "select count(*) as n from runs where id not like 'w-%'")[0]?.n).toBe(2 * 5 + 50_000);
    expect(snapshot).toMatchObject({ file: out, agents: 2, runs: 2 * 5 + 50_000 + written.length, migrations: await migrationNames() });
    // The writer really wrote while the copy was made: the test saw concurrency, not a quiet database.
    expect(after).toBeGreaterThan(before);
  });

  it('refuses to overwrite a file unless asked, and never leaves a partial file', async () => {
    await serviceStore();
    const out = path.join(dir, 'backup.sqlite');
    fs.writeFileSync(out, 'keep me');
    await expect(backupSqlite(dbFile, out)).rejects.toThrow(/exists already/);
    expect(fs.readFileSync(out, 'utf8')).toBe('keep me');
    await backupSqlite(dbFile, out, { overwrite: true });
    expect(integrity(out)).toEqual(['ok']);
    await expect(backupSqlite(dbFile, path.join(dir, 'no-such-folder', 'b.sqlite'))).rejects.toThrow(/does not exist/);
    await expect(backupSqlite(path.join(dir, 'missing.sqlite'), path.join(dir, 'b.sqlite'))).rejects.toThrow(/there is no database/);
    await expect(backupSqlite(dbFile, dbFile, { overwrite: true })).rejects.toThrow(/must not be the database itself/);
    expect(fs.readdirSync(dir).sort()).toEqual(['backup.sqlite', 'data']);
  });
});

describe('restore', () => {
  async function backupOf(agents: number, runs: number): Promise<string> {
    const { store } = await serviceStore(agents, runs);
    const out = path.join(dir, `backup-${agents}-${runs}.sqlite`);
    await backupSqlite(dbFile, out);
    await store.close();
    return out;
  }

  const agentIdsIn = (file: string) => rows<{ id: string }>(file, 'select id from agents order by id').map((r) => r.id);

  it('refuses while the service holds the database open, and leaves it as it was', async () => {
    const backup = await backupOf(1, 1);
    const { store } = await serviceStore(1, 2); // adds to the same database: 2 agents, 3 runs
    const known = await migrationNames();
    expect(() => restoreSqlite(backup, dbFile, known)).toThrow(DatabaseInUseError);
    expect(() => restoreSqlite(backup, dbFile, known)).toThrow(/in use.*Stop the service/);
    expect(await store.listAgents()).toHaveLength(2);
    await store.close();
    expect(fs.readdirSync(path.dirname(dbFile)).filter((f) => f.startsWith('.restore'))).toEqual([]);
  });

  it('replaces the database in one go once nothing holds it, keeping the old one beside it', async () => {
    const backup = await backupOf(1, 2);
    const backedUp = agentIdsIn(backup);
    const { store } = await serviceStore(2, 1);
    await store.close();
    const known = await migrationNames();
    const { restored, previous } = restoreSqlite(backup, dbFile, known, new Date(T0));
    expect(restored).toMatchObject({ file: dbFile, agents: 1, runs: 2, migrations: known });
    expect(previous).toBe(`${dbFile}.before-restore-2026-01-05T08-00-00-000Z`);
    expect(rows<{ n: number }>(previous!, 'select count(*) as n from agents')[0]?.n).toBe(3);
    expect(integrity(dbFile)).toEqual(['ok']);

    // The service opens it as usual and finds exactly the backup's data.
    const reopened = openSqliteStore(dbFile);
    closers.push(() => reopened.close());
    await reopened.migrate();
    const agents = await reopened.listAgents();
    expect(agents.map((a) => a.name)).toEqual(['agent 0']);
    expect(agents.map((a) => a.id)).toEqual(backedUp);
    expect(await reopened.listRuns(agents[0]!.id, { limit: 10, since: null })).toHaveLength(2);
    expect(rows<{ journal_mode: string }>(dbFile, 'pragma journal_mode')[0]?.journal_mode).toBe('wal');
  });

  it('restores into an empty data dir', async () => {
    const backup = await backupOf(1, 1);
    fs.rmSync(path.dirname(dbFile), { recursive: true });
    const { restored, previous } = restoreSqlite(backup, dbFile, await migrationNames());
    expect(restored).toMatchObject({ agents: 1, runs: 1 });
    expect(previous).toBeNull();
    expect(integrity(dbFile)).toEqual(['ok']);
  });

  it('refuses what is not a sound cron-agents database of this version or older, naming why', async () => {
    const known = await migrationNames();
    const backup = await backupOf(1, 50);
    const text = path.join(dir, 'notes.txt');
    fs.writeFileSync(text, 'not a database');
    expect(() => restoreSqlite(text, dbFile, known)).toThrow(/notes.txt is not a SQLite database/);
    expect(() => restoreSqlite(path.join(dir, 'missing.sqlite'), dbFile, known)).toThrow(/there is no file/);

    const foreign = path.join(dir, 'foreign.sqlite');
    const other = new SQLite(foreign);
    other.exec('create table notes (id integer primary key, body text); insert into notes (body) values (1)');
    other.close();
    expect(() => restoreSqlite(foreign, dbFile, known)).toThrow(/not a cron-agents one \(it has no kysely_migration, users, agents, runs table\)/);

    const newer = path.join(dir, 'newer.sqlite');
    fs.copyFileSync(backup, newer);
    const db = new SQLite(newer);
    db.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run('9999-from-the-future', new Date().toISOString());
    db.close();
    expect(() => restoreSqlite(newer, dbFile, known)).toThrow(/made by a newer cron-agents \(it has migration 9999-from-the-future\)/);

    // Corruption inside a page of the runs table's b-tree: the integrity check finds it.
    const corrupt = path.join(dir, 'corrupt.sqlite');
    fs.copyFileSync(backup, corrupt);
    const pageSize = rows<{ page_size: number }>(corrupt, 'pragma page_size')[0]!.page_size;
    const root = rows<{ rootpage: number }>(corrupt, "select rootpage from sqlite_master where name = 'runs_agent_queued_idx'")[0]!.rootpage;
    const fd = fs.openSync(corrupt, 'r+');
    fs.writeSync(fd, Buffer.alloc(64, 0xff), 0, 64, (root - 1) * pageSize + 8);
    fs.closeSync(fd);
    expect(() => restoreSqlite(corrupt, dbFile, known)).toThrow(/corrupt.sqlite failed the integrity check/);

    // Nothing was touched: the database still holds what it held, and no working copy is left.
    expect(rows<{ n: number }>(dbFile, 'select count(*) as n from runs')[0]?.n).toBe(50);
    expect(fs.readdirSync(path.dirname(dbFile)).filter((f) => !f.startsWith('cron-agents.sqlite'))).toEqual([]);
  });
});

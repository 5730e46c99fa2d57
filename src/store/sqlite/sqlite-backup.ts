import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';

/** What a database file (or a backup of one) holds, as `backup` and `restore` report it. */
export interface SqliteSnapshot {
  file: string;
  bytes: number;
  /** Migrations it has applied, in order. */
  migrations: string[];
  agents: number;
  runs: number;
  /** Ids of the secret keys its agents' and webhooks' secrets are encrypted under (none without secrets). */
  secretKeyIds: string[];
}

/** SQLite's backup API copies this many pages per step at most: all of them, in one read transaction. */
const ALL_PAGES = 0x7fffffff;

/** The first 16 bytes of every SQLite database file. */
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Waits this long for a writer's lock, as the other CLI commands do beside a running server. */
const BUSY_TIMEOUT_MS = 5000;

/** Whether the file starts as a SQLite database does. */
export function hasSqliteHeader(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    return fs.readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_HEADER);
  } finally {
    fs.closeSync(fd);
  }
}

function hasTable(db: SQLite.Database, name: string, schema = 'main'): boolean {
  return db.prepare(`select 1 from ${schema}.sqlite_master where type = 'table' and name = ?`).get(name) !== undefined;
}

function count(db: SQLite.Database, table: string): number {
  if (!hasTable(db, table)) return 0;
  return (db.prepare(`select count(*) as n from "${table}"`).get() as { n: number }).n;
}

/** The key id of stored secrets (`v1:<key id>:<payload>`, src/domain/secret-cipher.ts), distinct. */
function secretKeyIds(db: SQLite.Database): string[] {
  const columns = [
    ['agent_secrets', 'encrypted_value'],
    ['webhooks', 'secret'],
  ].filter(([table]) => hasTable(db, table ?? ''));
  if (columns.length === 0) return [];
  const union = columns.map(([table, column]) => `select substr(${column}, 4, instr(substr(${column}, 4), ':') - 1) as id from ${table}`).join(' union ');
  return (db.prepare(`select distinct id from (${union}) where id <> '' order by id`).all() as { id: string }[]).map((r) => r.id);
}

/** Reads what an open cron-agents database holds (an empty or foreign one gives empty lists and zeros). */
export function describeSqlite(db: SQLite.Database, file: string): SqliteSnapshot {
  const migrations = hasTable(db, 'kysely_migration')
    ? (db.prepare('select name from kysely_migration order by name').all() as { name: string }[]).map((r) => r.name)
    : [];
  return { file, bytes: fs.statSync(file).size, migrations, agents: count(db, 'agents'), runs: count(db, 'runs'), secretKeyIds: secretKeyIds(db) };
}

/** Problems `PRAGMA integrity_check` and `foreign_key_check` find (empty: the database is sound). */
export function integrityProblems(db: SQLite.Database, schema = 'main'): string[] {
  try {
    const integrity = (db.prepare(`pragma ${schema}.integrity_check(20)`).all() as { integrity_check: string }[]).map((r) => r.integrity_check);
    const problems = integrity.length === 1 && integrity[0] === 'ok' ? [] : integrity;
    const orphans = db.prepare(`pragma ${schema}.foreign_key_check`).all() as { table: string; parent: string }[];
    for (const orphan of orphans.slice(0, 20)) problems.push(`a row of ${orphan.table} refers to a missing row of ${orphan.parent}`);
    return problems;
  } catch (error) {
    // Damage bad enough that the check itself cannot read a page is a problem found, not a crash.
    if (error instanceof SQLite.SqliteError && error.code.startsWith('SQLITE_CORRUPT')) return [error.message];
    throw error;
  }
}

/** Removes a database file and the journal files SQLite may have left beside it. */
export function removeDatabaseFiles(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) fs.rmSync(file + suffix, { force: true });
}

/** Writes the file's data to disk, and its directory entry (a rename) too. */
function syncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}

export interface BackupOptions {
  /** Replace `outFile` if it exists; without it an existing file is an error. */
  overwrite?: boolean;
}

/**
 * Copies the SQLite database at `databaseFile` into `outFile` with SQLite's online backup API,
 * consistent while the service runs and writes: every page is copied in one step, inside one
 * read transaction, so the copy is the database as of one commit (in WAL mode the service's
 * writers do not wait for it). The copy is written under a temporary name, switched to a
 * rollback journal (one self-contained file, no -wal beside it), checked with
 * `PRAGMA integrity_check`, synced, and only then renamed to `outFile`: a failed or interrupted
 * backup never leaves a file that looks complete.
 */
export async function backupSqlite(databaseFile: string, outFile: string, options: BackupOptions = {}): Promise<SqliteSnapshot> {
  const source = path.resolve(databaseFile);
  const target = path.resolve(outFile);
  if (!fs.existsSync(source)) throw new Error(`there is no database at ${source} (check CRON_AGENTS_DATA_DIR)`);
  if (target === source || target.startsWith(`${source}-`)) throw new Error(`the backup file must not be the database itself (${source})`);
  if (!fs.existsSync(path.dirname(target))) throw new Error(`the folder ${path.dirname(target)} does not exist`);
  if (fs.existsSync(target) && !options.overwrite) throw new Error(`${target} exists already: choose another name, or pass --force to replace it`);
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  try {
    const db = new SQLite(source, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    try {
      await db.backup(partial, { progress: () => ALL_PAGES });
    } finally {
      db.close();
    }
    const copy = new SQLite(partial, { fileMustExist: true });
    let snapshot: SqliteSnapshot;
    try {
      copy.pragma('journal_mode = DELETE');
      const problems = integrityProblems(copy);
      if (problems.length > 0) throw new Error(`the copy failed its integrity check: ${problems.join('; ')}`);
      snapshot = describeSqlite(copy, partial);
    } finally {
      copy.close();
    }
    syncFile(partial);
    fs.renameSync(partial, target);
    syncFile(target);
    return { ...snapshot, file: target };
  } finally {
    removeDatabaseFiles(partial);
  }
}

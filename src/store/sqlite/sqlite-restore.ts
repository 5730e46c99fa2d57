import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { describeSqlite, hasSqliteHeader, integrityProblems, removeDatabaseFiles, type SqliteSnapshot } from './sqlite-backup.js';

/** The database is open in another process (a running service, or another command): restoring now would pull it from under them. */
export class DatabaseInUseError extends Error {}

/** The file given to restore is not a sound cron-agents database this version can use. */
export class InvalidBackupError extends Error {}

/** The tables every cron-agents database has, whatever its version. */
const REQUIRED_TABLES = ['kysely_migration', 'users', 'agents', 'runs'];

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/**
 * Checks an open database is a sound cron-agents database that this version can serve: it passes
 * `PRAGMA integrity_check` and `foreign_key_check`, has the tables every version has, and no
 * migration this version does not know (a backup from a newer version).
 */
export function checkBackup(db: SQLite.Database, file: string, knownMigrations: readonly string[]): SqliteSnapshot {
  const problems = integrityProblems(db);
  if (problems.length > 0) throw new InvalidBackupError(`${file} failed the integrity check: ${problems.join('; ')}`);
  const tables = new Set((db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((r) => r.name));
  const missing = REQUIRED_TABLES.filter((t) => !tables.has(t));
  if (missing.length > 0) throw new InvalidBackupError(`${file} is a SQLite database but not a cron-agents one (it has no ${missing.join(', ')} table)`);
  const snapshot = describeSqlite(db, file);
  const unknown = snapshot.migrations.filter((m) => !knownMigrations.includes(m));
  if (unknown.length > 0) {
    throw new InvalidBackupError(
      `${file} was made by a newer cron-agents (it has migration ${unknown.join(', ')}): restore it with that version or a later one`,
    );
  }
  return snapshot;
}

/**
 * Makes a private copy of the backup beside the database (with its -wal, if it has one) and turns
 * it into one self-contained file: the operator's file is only read, never opened by SQLite
 * (which would write a -shm beside it).
 */
function workingCopy(backupFile: string, databaseFile: string): string {
  const copy = path.join(path.dirname(databaseFile), `.restore.${process.pid}.${randomBytes(4).toString('hex')}.sqlite`);
  fs.copyFileSync(backupFile, copy);
  if (fs.existsSync(`${backupFile}-wal`)) fs.copyFileSync(`${backupFile}-wal`, `${copy}-wal`);
  const db = new SQLite(copy, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
  } finally {
    db.close();
  }
  return copy;
}

/**
 * Takes the database for this connection alone: an exclusive lock, held until the connection
 * closes (`locking_mode = EXCLUSIVE`, set before the database is first read). Every connection to
 * a WAL database holds a shared lock on it while open, so this fails at once while any other
 * process (a service, its checkpointer, another command) has the database open; and while it is
 * held, a service that starts waits and then fails with "database is locked" instead of reading
 * a half-restored database.
 */
function lockDatabase(databaseFile: string): SQLite.Database {
  const db = new SQLite(databaseFile, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('foreign_keys = OFF');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    return db;
  } catch (error) {
    db.close();
    if (error instanceof SQLite.SqliteError && (error.code === 'SQLITE_BUSY' || error.code === 'SQLITE_LOCKED')) {
      throw new DatabaseInUseError(
        `the database ${databaseFile} is in use: a cron-agents service (or another cron-agents command) has it open. Stop the service, then restore.`,
      );
    }
    throw error;
  }
}

/** Replaces every table, index, view and trigger of `main` by those of `src`, with their rows, in the open transaction. */
function copyContents(db: SQLite.Database): void {
  type SchemaObject = { type: string; name: string; sql: string };
  const old = db.prepare("select type, name from main.sqlite_master where type in ('table', 'view') and name not like 'sqlite_%'").all() as SchemaObject[];
  for (const object of old) db.exec(`drop ${object.type} main.${quote(object.name)}`);
  // Tables before the indexes on them; views and triggers last, in the order they were made.
  const objects = db
    .prepare(
      `select type, name, sql from src.sqlite_master where sql is not null and name not like 'sqlite_%'
       order by case type when 'table' then 0 when 'index' then 1 else 2 end, rowid`,
    )
    .all() as SchemaObject[];
  for (const object of objects) {
    db.exec(object.sql);
    if (object.type === 'table') db.exec(`insert into main.${quote(object.name)} select * from src.${quote(object.name)}`);
  }
  // AUTOINCREMENT counters live in sqlite_sequence, which SQLite made with the first such table.
  if (db.prepare("select 1 from src.sqlite_master where name = 'sqlite_sequence'").get()) {
    db.exec('delete from main.sqlite_sequence; insert into main.sqlite_sequence select * from src.sqlite_sequence');
  }
  db.pragma(`main.user_version = ${Number(db.pragma('src.user_version', { simple: true }))}`);
  for (const object of objects.filter((o) => o.type === 'table')) {
    const rows = (name: string) => (db.prepare(`select count(*) as n from ${name}.${quote(object.name)}`).get() as { n: number }).n;
    if (rows('main') !== rows('src')) throw new Error(`restoring table ${object.name} copied ${rows('main')} of ${rows('src')} rows`);
  }
}

export interface RestoreResult {
  restored: SqliteSnapshot;
  /** Where the database that was replaced was saved; null when there was none (or it was empty). */
  previous: string | null;
}

/**
 * Restores `backupFile` into the SQLite database at `databaseFile`, which no process may hold
 * open (DatabaseInUseError otherwise). The backup is checked first (InvalidBackupError: not
 * SQLite, not cron-agents, unsound, or from a newer version); then, under an exclusive lock on the
 * database, the database as it was is saved beside it (`<file>.before-restore-<time>`) and its
 * contents are replaced by the backup's in one transaction: it ends either as it was or as the
 * backup, never in between. The file keeps its identity (no rename), so nothing that opens the
 * path afterwards can see an older copy.
 */
export function restoreSqlite(backupFile: string, databaseFile: string, knownMigrations: readonly string[], now: Date = new Date()): RestoreResult {
  const source = path.resolve(backupFile);
  const target = path.resolve(databaseFile);
  if (!fs.existsSync(source) || !fs.statSync(source).isFile()) throw new InvalidBackupError(`there is no file ${source}`);
  if (source === target) throw new InvalidBackupError(`${source} is the database itself`);
  if (!hasSqliteHeader(source)) throw new InvalidBackupError(`${source} is not a SQLite database`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const copy = workingCopy(source, target);
  try {
    const checked = new SQLite(copy, { fileMustExist: true, readonly: true });
    try {
      checkBackup(checked, source, knownMigrations);
    } finally {
      checked.close();
    }
    const db = lockDatabase(target);
    let result: RestoreResult;
    try {
      const hadData = (db.prepare("select count(*) as n from main.sqlite_master where type = 'table'").get() as { n: number }).n > 0;
      const previous = hadData ? `${target}.before-restore-${now.toISOString().replace(/[:.]/g, '-')}` : null;
      if (previous) db.exec(`VACUUM main INTO ${literal(previous)}`);
      db.exec(`ATTACH ${literal(copy)} AS src`);
      db.exec('BEGIN IMMEDIATE');
      try {
        copyContents(db);
        const problems = integrityProblems(db);
        if (problems.length > 0) throw new Error(`the restored database failed its integrity check: ${problems.join('; ')}`);
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
      db.exec('DETACH src');
      result = { restored: describeSqlite(db, target), previous };
    } finally {
      db.close();
    }
    // Measured once closed: until then the restored pages are in the write-ahead log.
    return { ...result, restored: { ...result.restored, bytes: fs.statSync(target).size } };
  } finally {
    removeDatabaseFiles(copy);
  }
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';

/**
 * A real SQLITE_BUSY error from better-sqlite3: one connection holds the write lock while another,
 * with no busy timeout, tries to write to the same file.
 */
export function sqliteBusyError(): unknown {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-busy-'));
  const file = path.join(dir, 'busy.sqlite');
  const holder = new SQLite(file);
  holder.pragma('journal_mode = WAL');
  holder.exec('create table t (x integer)');
  const other = new SQLite(file);
  other.pragma('busy_timeout = 0');
  holder.exec('begin immediate');
  let error: unknown = null;
  try {
    other.exec('insert into t values (1)');
  } catch (e) {
    error = e;
  } finally {
    holder.exec('rollback');
    other.close();
    holder.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (error === null) throw new Error('expected SQLITE_BUSY, but the write went through');
  return error;
}

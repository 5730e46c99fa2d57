import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../database.js';
import { SqlStore } from '../sql-store.js';

/** Opens (creating if needed) the embedded SQLite database; `:memory:` gives a throwaway one. */
export function openSqliteStore(file: string): SqlStore {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const database = new SQLite(file);
  // WAL lets readers run beside the one writer; NORMAL sync is durable across process crashes.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  // Another process on the same file (the CLI beside a running server) waits instead of failing.
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return new SqlStore(db, { name: 'sqlite', skipLocked: false });
}

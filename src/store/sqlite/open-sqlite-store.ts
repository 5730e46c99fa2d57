import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { SqlStore } from '../sql/sql-store.js';
import { startWalCheckpointer } from './wal-checkpointer.js';

const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely prepares every query anew; compiling the SQL costs more than running it for the API's
 * point lookups. The store's queries are few and fixed in shape, so prepared statements are
 * kept by SQL text (least recently used dropped first). Statements are only ever run to
 * completion (`all`/`run`), never left iterating, so reuse is safe.
 */
function withStatementCache(database: SQLite.Database) {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(source: string): SQLite.Statement {
      let statement = cache.get(source);
      if (statement) {
        cache.delete(source);
      } else {
        statement = database.prepare(source);
        const oldest = cache.size >= STATEMENT_CACHE_SIZE ? cache.keys().next() : null;
        if (oldest && !oldest.done) cache.delete(oldest.value);
      }
      cache.set(source, statement);
      return statement;
    },
  };
}

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
  // A 64 MiB page cache (default 2 MiB) keeps the hot index pages of a million runs in memory.
  database.pragma('cache_size = -65536');
  const cached = withStatementCache(database);
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }) });
  const checkpointer = file === ':memory:' ? null : startWalCheckpointer(database, file);
  return new SqlStore(db, {
    name: 'sqlite',
    skipLocked: false,
    onClose: async () => checkpointer?.stop(),
    // The API's point reads skip Kysely's async executor and connection queue: better-sqlite3 is
    // synchronous, so a read made while no transaction is open sees exactly what a queued one
    // would. Inside a transaction (or from one), they go through Kysely as usual.
    readNow: (executor, sql, parameters) => (executor === db && !database.inTransaction ? cached.prepare(sql).all(...parameters) : null),
  });
}

import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';
import { SqlStore } from '../sql/sql-store.js';
import { pgCancelChannel } from './pg-cancel-channel.js';

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Turns the text of a column value into the value a row holds. */
type TypeParser = (value: string) => unknown;

/** BIGINT and NUMERIC (sums) come back as numbers: every instant and count fits in a double. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): TypeParser {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (value: string) => Number(value);
    // pg-types declares its parsers as returning `any`.
    return pg.types.getTypeParser(oid, format) as TypeParser;
  },
};

/** Any number, so long as every instance uses the same: it serialises migrations. */
export const MIGRATION_LOCK_KEY = 4_711_015_001;

export interface PostgresStoreOptions {
  /** Pool size for this instance. */
  maxConnections?: number;
  /** Schema to work in (tests give each store its own); default: the server's search_path. */
  schema?: string;
}

/** Opens the store on PostgreSQL (a `postgres://` URL). */
export function openPostgresStore(url: string, options: PostgresStoreOptions = {}): SqlStore {
  if (options.schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(options.schema)) throw new Error(`invalid schema name ${options.schema}`);
  const connection: pg.ClientConfig = {
    connectionString: url,
    types,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  };
  const pool = new pg.Pool({ ...connection, max: options.maxConnections ?? 10 });
  // An idle client that loses its connection must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return new SqlStore(db, {
    name: 'postgres',
    skipLocked: true,
    cancelChannel: pgCancelChannel(db, connection),
    // Instances that start together would otherwise race to create the migration tables.
    withMigrationLock: async (kysely, body) =>
      kysely.connection().execute(async (connection) => {
        await sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`.execute(connection);
        try {
          return await body();
        } finally {
          await sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`.execute(connection);
        }
      }),
  });
}

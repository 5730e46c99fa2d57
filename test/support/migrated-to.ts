import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { MIGRATION_LOCK_KEY, openPostgresStore } from '../../src/store/postgres/open-postgres-store.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { TEST_DATABASE_URL } from './dialects.js';

/** Every migration's name, in the order they run. */
export async function migrationNames(): Promise<string[]> {
  return Object.keys(await migrationProvider.getMigrations()).sort();
}

/** The migrations up to and including `last` (none for null): a database as an older version left it. */
function migrationsUpTo(last: string | null): MigrationProvider {
  return {
    getMigrations: async (): Promise<Record<string, Migration>> =>
      Object.fromEntries(Object.entries(await migrationProvider.getMigrations()).filter(([name]) => last !== null && name <= last)),
  };
}

/** A store on a database of its own, migrated only up to one migration. */
export interface PartlyMigratedStore {
  store: SqlStore;
  /** Closes the store and removes its database (file or schema). */
  dispose(): Promise<void>;
}

/** Runs `body` on a connection of its own holding the migration lock (see test/support/dialects.ts for why). */
async function locked(url: string, body: (client: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await body(client);
  } finally {
    await client.end();
  }
}

async function migrate(store: SqlStore, last: string | null, schema?: string): Promise<void> {
  const { error } = await new Migrator({ db: store.db, provider: migrationsUpTo(last), ...(schema ? { migrationTableSchema: schema } : {}) }).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`migrating up to ${last} failed`, { cause: error });
}

/**
 * A store of `dialect` on a fresh database (a SQLite file, or a PostgreSQL schema of its own)
 * with the migrations up to `last` applied, as the version that shipped `last` left it; null:
 * none at all. `store.migrate()` then brings it to the latest, as a start of this version does.
 */
export async function storeMigratedTo(dialect: 'sqlite' | 'postgres', last: string | null): Promise<PartlyMigratedStore> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-migrated-'));
    const store = openSqliteStore(path.join(dir, 'db.sqlite'));
    const dispose = async () => {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    };
    if (last !== null)
      await migrate(store, last).catch(async (error: unknown) => {
        await dispose();
        throw error;
      });
    return { store, dispose };
  }
  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const url = TEST_DATABASE_URL;
  const schema = `t_migrated_${process.pid}_${randomBytes(4).toString('hex')}`;
  await locked(url, (client) => client.query(`create schema ${schema}`));
  const store = openPostgresStore(url, { schema, maxConnections: 2 });
  const dispose = async () => {
    await store.close();
    await locked(url, (client) => client.query(`drop schema if exists ${schema} cascade`));
  };
  try {
    if (last !== null) await locked(url, () => migrate(store, last, schema));
  } catch (error) {
    await dispose();
    throw error;
  }
  return { store, dispose };
}

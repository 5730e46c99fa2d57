import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres/open-postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import type { Store } from '../../src/store/store.js';

/** A store dialect the shared suites run against. */
export interface DialectUnderTest {
  name: string;
  /** A fresh, migrated, empty store; closing it drops what it made. */
  open(): Promise<Store>;
}

/** PostgreSQL URL for tests; without it the PostgreSQL half of every suite is skipped. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || null;

let warned = false;

/** Each PostgreSQL store lives in a schema of its own, dropped when it closes. */
async function openPostgresInFreshSchema(url: string): Promise<Store> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const store = openPostgresStore(url, { schema, maxConnections: 5 });
  await store.migrate();
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    const cleanup = new pg.Client({ connectionString: url });
    await cleanup.connect();
    await cleanup.query(`drop schema ${schema} cascade`);
    await cleanup.end();
  };
  return store;
}

/** Every dialect available here: SQLite always, PostgreSQL when TEST_DATABASE_URL is set. */
export function dialectsUnderTest(): DialectUnderTest[] {
  const dialects: DialectUnderTest[] = [
    {
      name: 'sqlite',
      async open() {
        const store = openSqliteStore(':memory:');
        await store.migrate();
        return store;
      },
    },
  ];
  if (TEST_DATABASE_URL) {
    dialects.push({ name: 'postgres', open: () => openPostgresInFreshSchema(TEST_DATABASE_URL) });
  } else if (!warned) {
    warned = true;
    console.warn('TEST_DATABASE_URL is not set: the PostgreSQL half of the store, scheduler and API suites is SKIPPED');
  }
  return dialects;
}

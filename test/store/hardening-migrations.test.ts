import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { MIGRATION_LOCK_KEY, openPostgresStore } from '../../src/store/postgres/open-postgres-store.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { TEST_DATABASE_URL } from '../support/dialects.js';

/**
 * Migrations 0007 (tokens from CRON_AGENTS_ADMIN_TOKEN are marked) and 0008 (user names unique
 * without regard to case) on databases made before them, on both dialects.
 */

/** The migrations before 0007, as a database made before issue 13 has them. */
const BEFORE: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> =>
    Object.fromEntries(Object.entries(await migrationProvider.getMigrations()).filter(([name]) => name < '0007')),
};

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A store of the dialect, migrated up to 0006 only. */
async function oldStore(dialect: 'sqlite' | 'postgres'): Promise<SqlStore> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-0008-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store = openSqliteStore(path.join(dir, 'db.sqlite'));
    cleanups.push(() => store.close());
    const { error } = await new Migrator({ db: store.db, provider: BEFORE }).migrateToLatest();
    expect(error).toBeUndefined();
    return store;
  }
  const url = TEST_DATABASE_URL ?? '';
  const schema = `t_migration_0008_${process.pid}_${randomBytes(3).toString('hex')}`;
  // Schemas are made, migrated and dropped under the migration lock (see test/support/dialects.ts).
  const locked = async (body: (client: pg.Client) => Promise<unknown>) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      await body(client);
    } finally {
      await client.end();
    }
  };
  await locked((client) => client.query(`create schema ${schema}`));
  cleanups.push(() => locked((client) => client.query(`drop schema if exists ${schema} cascade`)));
  const store = openPostgresStore(url, { schema, maxConnections: 2 });
  cleanups.push(() => store.close());
  await locked(async () => {
    const { error } = await new Migrator({ db: store.db, provider: BEFORE, migrationTableSchema: schema }).migrateToLatest();
    expect(error).toBeUndefined();
  });
  return store;
}

async function insertUser(store: SqlStore, id: string, name: string): Promise<void> {
  await sql`insert into users (id, name, role, password_hash, created_at) values (${id}, ${name}, 'member', null, 1000)`.execute(store.db);
}

async function insertToken(store: SqlStore, id: string, userId: string, label: string): Promise<void> {
  await sql`
    insert into api_tokens (id, user_id, label, token_hash, prefix, created_at, last_used_at, revoked_at)
    values (${id}, ${userId}, ${label}, ${`hash-${id}`}, 'cat_x', 1000, null, null)
  `.execute(store.db);
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && !TEST_DATABASE_URL)(`migrations 0007 and 0008 (${dialect})`, () => {
    it('0008 refuses to run while names differ only in case, naming them', async () => {
      const store = await oldStore(dialect);
      for (const [id, name] of [
        ['u1', 'ALICE'],
        ['u2', 'alice'],
        ['u3', 'Bob'],
        ['u4', 'bob'],
        ['u5', 'carol'],
      ])
        await insertUser(store, id!, name!);
      await expect(store.migrate()).rejects.toThrow(
        'database migration 0008-user-names-without-case failed: user names must be unique without regard to case, and these differ only in case: "ALICE" and "alice"; "Bob" and "bob".',
      );
      // Renamed, the start goes on, and from then on a name that differs only in case is refused.
      await sql`update users set name = 'alice-2' where name = 'ALICE'`.execute(store.db);
      await sql`delete from users where name = 'Bob'`.execute(store.db);
      await store.migrate();
      await expect(store.createUser({ name: 'CAROL', role: 'viewer' }, 2000)).rejects.toThrow('a user named "CAROL" already exists');
      expect((await store.findUserByName('Carol'))?.id).toBe('u5');
    });

    it('0007 marks the admin tokens registered from CRON_AGENTS_ADMIN_TOKEN, and no other', async () => {
      const store = await oldStore(dialect);
      await insertUser(store, 'admin-id', 'admin');
      await insertUser(store, 'other-id', 'other');
      await insertToken(store, 'env', 'admin-id', 'CRON_AGENTS_ADMIN_TOKEN');
      await insertToken(store, 'laptop', 'admin-id', 'laptop');
      await insertToken(store, 'lookalike', 'other-id', 'CRON_AGENTS_ADMIN_TOKEN');
      await store.migrate();
      const rows = await store.db.selectFrom('api_tokens').select(['id', 'from_env']).orderBy('id').execute();
      expect(rows.map((row) => [row.id, Number(row.from_env)])).toEqual([
        ['env', 1],
        ['laptop', 0],
        ['lookalike', 0],
      ]);
    });
  });
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import * as initial from '../../src/store/migrations/0001-initial.js';
import * as sessions from '../../src/store/migrations/0002-sessions.js';
import * as runTotals from '../../src/store/migrations/0003-run-totals.js';
import * as agentSecrets from '../../src/store/migrations/0004-agent-secrets.js';
import { MIGRATION_LOCK_KEY, openPostgresStore } from '../../src/store/postgres/open-postgres-store.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { TEST_DATABASE_URL } from '../support/dialects.js';
import { RUN_OPTION_DEFAULTS } from '../support/run-option-defaults.js';

/**
 * Migration 0005 on a database that already holds agents: each existing agent gets the defaults
 * of the new fields (no MCP servers, its own folder, no extra limits), on both dialects.
 */

/** The migrations before 0005, as a database made before issue 8 had them. */
const BEFORE: MigrationProvider = {
  getMigrations: async (): Promise<Record<string, Migration>> => ({
    '0001-initial': initial,
    '0002-sessions': sessions,
    '0003-run-totals': runTotals,
    '0004-agent-secrets': agentSecrets,
  }),
};

async function insertOldAgent(store: SqlStore): Promise<void> {
  await sql`
    insert into agents (id, name, description, schedule, timezone, prompt, enabled, max_turns, max_budget_usd, model, allowed_tools, next_fire_at, creator_id, created_at, updated_at)
    values ('old-agent', 'Old', null, '0 * * * *', 'UTC', 'p', 1, 50, null, null, '["Read"]', null, null, 1000, 1000)
  `.execute(store.db);
}

async function expectDefaults(store: SqlStore): Promise<void> {
  await store.migrate();
  const agent = await store.getAgent('old-agent');
  expect(agent).toMatchObject({
    name: 'Old',
    allowedTools: ['Read'],
    ...RUN_OPTION_DEFAULTS,
  });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe('migration 0005-agent-run-options', () => {
  it('sqlite: existing agents get the defaults', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-0005-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const store = openSqliteStore(path.join(dir, 'db.sqlite'));
    cleanups.push(() => store.close());
    const { error } = await new Migrator({ db: store.db, provider: BEFORE }).migrateToLatest();
    expect(error).toBeUndefined();
    await insertOldAgent(store);
    await expectDefaults(store);
  });

  it.skipIf(!TEST_DATABASE_URL)('postgres: existing agents get the defaults', async () => {
    const url = TEST_DATABASE_URL ?? '';
    const schema = `t_migration_0005_${process.pid}_${randomBytes(3).toString('hex')}`;
    // Schemas are made and dropped under the migration lock (see test/support/dialects.ts).
    const locked = async (statement: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        await client.query(statement);
      } finally {
        await client.end();
      }
    };
    await locked(`create schema ${schema}`);
    cleanups.push(() => locked(`drop schema if exists ${schema} cascade`));
    const store = openPostgresStore(url, { schema, maxConnections: 2 });
    cleanups.push(() => store.close());
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const { error } = await new Migrator({ db: store.db, provider: BEFORE, migrationTableSchema: schema }).migrateToLatest();
      expect(error).toBeUndefined();
    } finally {
      await client.end();
    }
    await insertOldAgent(store);
    await expectDefaults(store);
  });
});

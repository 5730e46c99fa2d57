import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import { TEST_DATABASE_URL } from '../support/dialects.js';
import { migrationNames, storeMigratedTo, type PartlyMigratedStore } from '../support/migrated-to.js';

/**
 * Upgrades from every earlier schema version, with data in it, on both dialects: for each
 * migration k, a database migrated up to k gets a representative row in each of its tables, then
 * `migrate` (the dry run first) brings it to the latest, and every row must still be there with
 * every value it had, and read back through the store. The loop is over the migrations list, so
 * a migration added later is covered as it lands. Its new tables get rows too: from FIXTURE below
 * if listed there, else made up from their column types (add a row to FIXTURE when a table needs
 * meaningful values).
 */

const T = Date.parse('2026-01-05T08:00:00.000Z');

/** A fixture row: the columns it sets (only those that exist at version k are written) and its key. */
interface FixtureRow {
  table: string;
  key: string[];
  values: Record<string, string | number | null>;
}

/** Rows that refer to each other as the service's own would; tables in an order that satisfies the foreign keys. */
const FIXTURE: FixtureRow[] = [
  { table: 'users', key: ['id'], values: { id: 'u-1', name: 'Upgrade-User', role: 'member', password_hash: 'scrypt$x', created_at: T } },
  {
    table: 'api_tokens',
    key: ['id'],
    values: {
      id: 't-1',
      user_id: 'u-1',
      label: 'laptop',
      token_hash: 'hash-t-1',
      prefix: 'cat_abcd',
      created_at: T,
      last_used_at: T + 1,
      revoked_at: null,
      from_env: 0,
    },
  },
  {
    table: 'agents',
    key: ['id'],
    values: {
      id: 'a-1',
      name: 'nightly report',
      description: 'writes the report',
      schedule: '0 3 * * *',
      timezone: 'Europe/Berlin',
      prompt: 'Write the nightly report',
      enabled: 1,
      max_turns: 7,
      max_budget_usd: 0.5,
      model: 'claude-sonnet-4-5',
      allowed_tools: '["Read","Grep"]',
      disallowed_tools: '["Bash"]',
      mcp_servers: '{}',
      workspace: null,
      allowed_domains: '["example.com"]',
      system_prompt: 'Be brief',
      effort: 'low',
      fallback_model: null,
      output_schema: null,
      daily_budget_usd: 2,
      monthly_budget_usd: 20,
      overlap_policy: 'skip',
      max_retries: 2,
      retry_delay_seconds: 30,
      pause_after_failures: 3,
      paused_reason: null,
      paused_at: null,
      next_fire_at: T + 3600_000,
      creator_id: 'u-1',
      created_at: T,
      updated_at: T + 5,
    },
  },
  ...['r-1', 'r-2'].map((id, i) => ({
    table: 'runs',
    key: ['id'],
    values: {
      id,
      agent_id: 'a-1',
      status: i === 0 ? 'success' : 'error',
      trigger: i === 0 ? 'schedule' : 'manual',
      scheduled_for: i === 0 ? T - 3600_000 : null,
      output: i === 0 ? 'the report' : 'it failed',
      cost_usd: 0.125 + i,
      input_tokens: 1200,
      output_tokens: 340,
      cache_read_input_tokens: 5000,
      cache_creation_input_tokens: 100,
      num_turns: 3,
      queued_at: T - 3600_000 + i * 60_000,
      started_at: T - 3600_000 + i * 60_000 + 10,
      completed_at: T - 3600_000 + i * 60_000 + 2010,
      duration_ms: 2000,
      executor_id: 'host:1:abc',
      lease_expires_at: null,
      cancel_requested: 0,
      structured_output: null,
      retry_of: null,
      attempt: 1,
      not_before: null,
      skipped_slots: null,
      last_skipped_for: null,
      skip_cause: null,
      reserved_usd: 0,
      agent_version: 1,
    },
  })),
  { table: 'run_totals_hourly', key: ['hour', 'status'], values: { hour: 470_000, status: 'success', runs: 3, cost_usd: 0.75, duration_ms: 9000 } },
  { table: 'sessions', key: ['id_hash'], values: { id_hash: 'session-hash', user_id: 'u-1', created_at: T, last_seen_at: T + 10, expires_at: T + 86_400_000 } },
  { table: 'sign_in_failures', key: ['id'], values: { id: 'f-1', subject: 'name:upgrade-user', failed_at: T } },
  { table: 'agent_secrets', key: ['agent_id', 'name'], values: { agent_id: 'a-1', name: 'API_KEY', encrypted_value: 'v1:0123abcd:AAAA', updated_at: T } },
  { table: 'run_events', key: ['run_id', 'seq'], values: { run_id: 'r-1', seq: 1, type: 'text', at: T, data: '{"type":"text","text":"hello"}' } },
  { table: 'leases', key: ['name'], values: { name: 'retention', holder: 'host:1:abc', expires_at: T + 3600_000 } },
  {
    table: 'webhooks',
    key: ['id'],
    values: {
      id: 'w-1',
      name: 'ops',
      url: 'https://hooks.example.com/ops',
      events: '["run.failed"]',
      agent_ids: null,
      format: 'standard',
      enabled: 1,
      secret: 'v1:0123abcd:BBBB',
      consecutive_failures: 0,
      disabled_reason: null,
      created_at: T,
      updated_at: T,
    },
  },
  { table: 'outbox_events', key: ['id'], values: { id: 'e-1', type: 'run.failed', agent_id: 'a-1', run_id: 'r-2', data: '{"runId":"r-2"}', created_at: T } },
  {
    table: 'webhook_deliveries',
    key: ['id'],
    values: {
      id: 'd-1',
      webhook_id: 'w-1',
      event_id: 'e-1',
      status: 'delivered',
      attempts: 1,
      next_attempt_at: null,
      claimed_by: null,
      claim_expires_at: null,
      last_status_code: 200,
      last_error: null,
      delivered_at: T + 100,
      created_at: T,
    },
  },
  // One row, made by its migration: the fixture changes it.
  { table: 'budget_settings', key: ['id'], values: { id: 1, daily_usd: 10, monthly_usd: 100, warn_at_percent: 90, updated_at: T } },
  { table: 'spend_daily', key: ['agent_id', 'day'], values: { day: 20_458, agent_id: 'a-1', cost_usd: 1.125 } },
  {
    table: 'budget_alerts',
    key: ['scope', 'cap', 'window_start', 'level'],
    values: { scope: 'deployment', cap: 'daily', window_start: T, level: 'warning', created_at: T },
  },
  {
    table: 'agent_versions',
    key: ['agent_id', 'version'],
    values: {
      agent_id: 'a-1',
      version: 1,
      created_at: T,
      created_by_id: 'u-1',
      created_by_name: 'Upgrade-User',
      fields: '{"prompt":"Write the nightly report"}',
    },
  },
];

interface Column {
  name: string;
  dataType: string;
  isNullable: boolean;
  hasDefaultValue: boolean;
}

/** The tables of the store's database (its own schema on PostgreSQL), but Kysely's. */
async function tables(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): Promise<Map<string, Column[]>> {
  const schema = dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s : undefined;
  const found = await db.introspection.getTables();
  return new Map(found.filter((t) => schema === undefined || t.schema === schema).map((t) => [t.name, t.columns]));
}

/** A value for a required column no fixture row sets: a reference to the fixture's row it names, else one of its type. */
function madeUpValue(column: Column): string | number {
  const references: Record<string, string> = { agent_id: 'a-1', user_id: 'u-1', run_id: 'r-1', webhook_id: 'w-1', event_id: 'e-1', creator_id: 'u-1' };
  const reference = references[column.name];
  if (reference) return reference;
  if (/int|serial/i.test(column.dataType)) return 1;
  if (/double|float|real|numeric/i.test(column.dataType)) return 1.5;
  if (/json/i.test(column.dataType)) return '{}';
  return `${column.name}-value`;
}

/** Every table the fixture has no row for gets one made up from its columns. */
function rowsFor(schema: Map<string, Column[]>): FixtureRow[] {
  const listed = new Set(FIXTURE.map((row) => row.table));
  const extra = [...schema.entries()]
    .filter(([table]) => !listed.has(table))
    .map(([table, columns]) => {
      const required = columns.filter((c) => !c.isNullable && !c.hasDefaultValue);
      return { table, key: required.map((c) => c.name), values: Object.fromEntries(required.map((c) => [c.name, madeUpValue(c)])) };
    });
  return [...FIXTURE.filter((row) => schema.has(row.table)), ...extra];
}

/** The row's values for the columns its table has at this version (and a made-up one for each other required column). */
function valuesAt(row: FixtureRow, columns: Column[]): Record<string, string | number | null> {
  const values: Record<string, string | number | null> = {};
  for (const column of columns) {
    if (column.name in row.values) values[column.name] = row.values[column.name] ?? null;
    else if (!column.isNullable && !column.hasDefaultValue) values[column.name] = madeUpValue(column);
  }
  return values;
}

function where(row: FixtureRow) {
  return sql.join(
    row.key.map((k) => sql`${sql.ref(k)} = ${row.values[k] ?? null}`),
    sql` and `,
  );
}

async function readRow(db: Kysely<Database>, row: FixtureRow): Promise<Record<string, unknown> | undefined> {
  return (await sql<Record<string, unknown>>`select * from ${sql.table(row.table)} where ${where(row)}`.execute(db)).rows[0];
}

/** Inserts the row, or (when its migration made a row with this key) sets its values. */
async function writeRow(db: Kysely<Database>, row: FixtureRow, values: Record<string, string | number | null>): Promise<void> {
  const names = Object.keys(values);
  if (await readRow(db, row)) {
    const sets = sql.join(names.map((n) => sql`${sql.ref(n)} = ${values[n]}`));
    await sql`update ${sql.table(row.table)} set ${sets} where ${where(row)}`.execute(db);
    return;
  }
  await sql`insert into ${sql.table(row.table)} (${sql.join(names.map((n) => sql.ref(n)))}) values (${sql.join(names.map((n) => values[n]))})`.execute(db);
}

/** Writes the fixture into a database at version k; resolves to what was written, table by table. */
async function fillDatabase(store: SqlStore): Promise<{ row: FixtureRow; values: Record<string, string | number | null> }[]> {
  const schema = await tables(store.db, store.dialect);
  const written = [];
  for (const row of rowsFor(schema)) {
    const values = valuesAt(row, schema.get(row.table) ?? []);
    try {
      await writeRow(store.db, row, values);
    } catch (error) {
      throw new Error(`writing a row of ${row.table} failed (add a meaningful row for it to FIXTURE): ${String(error)}`, { cause: error });
    }
    written.push({ row, values });
  }
  return written;
}

const open: PartlyMigratedStore[] = [];
afterEach(async () => {
  for (const database of open.splice(0)) await database.dispose();
});

const names = await migrationNames();

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && !TEST_DATABASE_URL)(`upgrades from every earlier version, with data (${dialect})`, { timeout: 60_000 }, () => {
    it.each(names)('from a database at %s', async (version) => {
      const database = await storeMigratedTo(dialect, version);
      open.push(database);
      const { store } = database;
      const written = await fillDatabase(store);
      expect(written.map((w) => w.row.table)).toEqual(expect.arrayContaining(['users', 'agents', 'runs']));

      // The dry run lists what would run, in order, and applies nothing.
      const applied = names.filter((n) => n <= version);
      const pending = names.filter((n) => n > version);
      expect(await store.migrationStatus()).toEqual({ applied, pending, unknown: [] });
      expect(await store.migrationStatus()).toEqual({ applied, pending, unknown: [] });

      await store.migrate();
      expect(await store.migrationStatus()).toEqual({ applied: names, pending: [], unknown: [] });

      for (const { row, values } of written) {
        const after = await readRow(store.db, row);
        expect(after, `${row.table} ${JSON.stringify(row.key.map((k) => row.values[k]))}`).toBeDefined();
        // Each value the row had at version k, unchanged (columns a migration dropped excepted).
        const kept = Object.fromEntries(
          Object.keys(values)
            .filter((c) => after && c in after)
            .map((c) => [c, after?.[c]]),
        );
        expect(kept, row.table).toEqual(Object.fromEntries(Object.keys(kept).map((c) => [c, values[c]])));
      }

      // Read back, and written on, through the store of this version.
      expect(await store.findUserByName('upgrade-user')).toMatchObject({ id: 'u-1', role: 'member' });
      expect(await store.getAgent('a-1')).toMatchObject({ name: 'nightly report', prompt: 'Write the nightly report', schedule: '0 3 * * *', maxTurns: 7 });
      expect(await store.getRun('r-1')).toMatchObject({ agentId: 'a-1', status: 'success', costUsd: 0.125, inputTokens: 1200, cacheReadInputTokens: 5000 });
      expect((await store.listRuns('a-1', { limit: 10, since: null })).map((r) => r.id).sort()).toEqual(['r-1', 'r-2']);
      const runId = randomUUID();
      await store.enqueueManualRun('a-1', runId, T + 1000);
      expect(await store.getRun(runId)).toMatchObject({ agentId: 'a-1', status: 'queued' });
    });

    it('the dry run names migrations the database has and this version does not know', async () => {
      const database = await storeMigratedTo(dialect, names.at(-1) ?? null);
      open.push(database);
      await sql`insert into kysely_migration (name, timestamp) values ('9999-from-the-future', ${new Date().toISOString()})`.execute(database.store.db);
      expect(await database.store.migrationStatus()).toEqual({ applied: names, pending: [], unknown: ['9999-from-the-future'] });
      await expect(database.store.migrate()).rejects.toThrow(/9999-from-the-future/);
    });

    it('the dry run of an empty database lists every migration', async () => {
      const database = await storeMigratedTo(dialect, null);
      open.push(database);
      expect(await database.store.migrationStatus()).toEqual({ applied: [], pending: names, unknown: [] });
      expect(await database.store.migrationStatus()).toEqual({ applied: [], pending: names, unknown: [] });
    });
  });
}

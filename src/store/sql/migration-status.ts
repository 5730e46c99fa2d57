import { DEFAULT_MIGRATION_TABLE, Migrator, sql, type Kysely } from 'kysely';
import type { DialectTraits } from '../dialect.js';
import { migrationProvider } from '../migrations/index.js';
import type { Database } from '../schema.js';
import type { MigrationStatus } from '../store.js';

/**
 * The schema Kysely's own migration tables live in: on PostgreSQL the one the service works in
 * (else the Migrator could take another application's tables in another schema for its own);
 * SQLite has none.
 */
export async function migrationTableSchema(db: Kysely<Database>, dialect: DialectTraits['name']): Promise<string | undefined> {
  if (dialect !== 'postgres') return undefined;
  return (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s;
}

/** A Migrator over every migration of this version, its tables in `schema`. */
export function migrator(db: Kysely<Database>, schema: string | undefined): Migrator {
  return new Migrator({ db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
}

/**
 * What the database has applied and what `migrate` would apply, read without changing anything
 * (no lock, no table created): `migrate --dry-run` and the tests of upgrades use it.
 */
export async function readMigrationStatus(db: Kysely<Database>, dialect: DialectTraits['name']): Promise<MigrationStatus> {
  const schema = await migrationTableSchema(db, dialect);
  const known = await migrator(db, schema).getMigrations();
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  const hasTable = tables.some((t) => t.name === DEFAULT_MIGRATION_TABLE && (schema === undefined || t.schema === schema));
  const table = sql.table(schema ? `${schema}.${DEFAULT_MIGRATION_TABLE}` : DEFAULT_MIGRATION_TABLE);
  const recorded = hasTable ? (await sql<{ name: string }>`select name from ${table} order by name`.execute(db)).rows.map((r) => r.name) : [];
  const knownNames = new Set(known.map((m) => m.name));
  return {
    applied: known.filter((m) => m.executedAt !== undefined).map((m) => m.name),
    pending: known.filter((m) => m.executedAt === undefined).map((m) => m.name),
    unknown: recorded.filter((name) => !knownNames.has(name)),
  };
}

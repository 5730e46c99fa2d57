import type { Kysely } from 'kysely';

/**
 * Issue 9: each run's transcript (`run_events`, one row per event, the whole event as JSON text in
 * `data`), a run's structured output (JSON text, null when it has none) and an agent's output
 * schema (JSON text, null: free text). Events go with their run (on delete cascade; SQLite's
 * connection has foreign_keys on), so deleting an agent or a run takes its transcript along.
 * One column per ALTER TABLE: SQLite adds only one at a time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('run_events')
    .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    // Also serves "the events of one run after seq N" (the API, the stream) and the cascade.
    .addPrimaryKeyConstraint('run_events_pk', ['run_id', 'seq'])
    .execute();
  await db.schema.alterTable('runs').addColumn('structured_output', 'text').execute();
  await db.schema.alterTable('agents').addColumn('output_schema', 'text').execute();
}

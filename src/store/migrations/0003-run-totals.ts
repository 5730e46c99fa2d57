import { sql, type Kysely } from 'kysely';

/**
 * Finished runs counted per hour and status, for all agents together: the global stats read a
 * few hundred of these rows instead of every run of the period. Kept up to date in the same
 * transaction as each run that finishes (see SqlStore.addToTotals).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('run_totals_hourly')
    .addColumn('hour', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('runs', 'bigint', (c) => c.notNull())
    .addColumn('cost_usd', 'double precision', (c) => c.notNull())
    .addColumn('duration_ms', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('run_totals_hourly_pk', ['hour', 'status'])
    .execute();
  await sql`
    insert into run_totals_hourly (hour, status, runs, cost_usd, duration_ms)
    select queued_at / 3600000, status, count(*), sum(cost_usd), coalesce(sum(duration_ms), 0)
    from runs
    where status not in ('queued', 'running')
    group by queued_at / 3600000, status
  `.execute(db);
}

import { sql, type Kysely } from 'kysely';

/**
 * Issue 11: spend caps, overlap and retry policies, automatic pauses, skipped runs.
 *
 * - agents: the caps and policies a person sets, and why the service paused the agent.
 * - runs: retries (`retry_of`, `attempt`, `not_before`), skipped rows (`skipped_slots`,
 *   `last_skipped_for`, and `skip_cause`, the key that coalesces skips with one cause into one
 *   row), and `reserved_usd`, what a running run holds under the caps.
 * - budget_settings: the deployment's caps, one row (id 1).
 * - spend_daily: the cost of ended runs per UTC day (epoch days) and agent, written with the run's
 *   end, so a cap check sums at most 31 rows per agent instead of every run of the month. Not tied
 *   to agents by a foreign key: money a deleted agent spent was still spent.
 * - budget_alerts: which warning / exhaustion was already announced for a cap in a window, so each
 *   is emitted once per window (the primary key makes the insert the test).
 * One column per statement: SQLite adds only one column per ALTER TABLE.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('agents').addColumn('daily_budget_usd', 'double precision').execute();
  await db.schema.alterTable('agents').addColumn('monthly_budget_usd', 'double precision').execute();
  await db.schema
    .alterTable('agents')
    .addColumn('overlap_policy', 'text', (c) => c.notNull().defaultTo('skip'))
    .execute();
  await db.schema
    .alterTable('agents')
    .addColumn('max_retries', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('agents')
    .addColumn('retry_delay_seconds', 'integer', (c) => c.notNull().defaultTo(60))
    .execute();
  await db.schema.alterTable('agents').addColumn('pause_after_failures', 'integer').execute();
  await db.schema.alterTable('agents').addColumn('paused_reason', 'text').execute();
  await db.schema.alterTable('agents').addColumn('paused_at', 'bigint').execute();

  await db.schema.alterTable('runs').addColumn('retry_of', 'text').execute();
  await db.schema
    .alterTable('runs')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('runs').addColumn('not_before', 'bigint').execute();
  await db.schema.alterTable('runs').addColumn('skipped_slots', 'integer').execute();
  await db.schema.alterTable('runs').addColumn('last_skipped_for', 'bigint').execute();
  await db.schema.alterTable('runs').addColumn('skip_cause', 'text').execute();
  await db.schema
    .alterTable('runs')
    .addColumn('reserved_usd', 'double precision', (c) => c.notNull().defaultTo(0))
    .execute();
  // The open skipped row of one cause per agent, found when the next slot is skipped for it.
  await sql`create index runs_skip_cause_idx on runs (agent_id, skip_cause) where skip_cause is not null`.execute(db);
  // An agent's runs not yet ended: the claim asks it of every queued run it weighs (is a run of
  // its agent running?), and the tick of every agent that comes due. Without it each question
  // reads all of the agent's runs in runs_agent_queued_idx (0.6 ms a claim with 100 runs an agent).
  await sql`create index runs_active_agent_idx on runs (agent_id, status) where status in ('queued', 'running')`.execute(db);

  await db.schema
    .createTable('budget_settings')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('daily_usd', 'double precision')
    .addColumn('monthly_usd', 'double precision')
    .addColumn('warn_at_percent', 'integer', (c) => c.notNull().defaultTo(80))
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into budget_settings (id, daily_usd, monthly_usd, warn_at_percent, updated_at) values (1, null, null, 80, 0)`.execute(db);

  await db.schema
    .createTable('spend_daily')
    .addColumn('day', 'integer', (c) => c.notNull())
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('cost_usd', 'double precision', (c) => c.notNull())
    .addPrimaryKeyConstraint('spend_daily_pk', ['agent_id', 'day'])
    .execute();
  await db.schema.createIndex('spend_daily_day_idx').on('spend_daily').column('day').execute();

  await db.schema
    .createTable('budget_alerts')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('cap', 'text', (c) => c.notNull())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('budget_alerts_pk', ['scope', 'cap', 'window_start', 'level'])
    .execute();
}

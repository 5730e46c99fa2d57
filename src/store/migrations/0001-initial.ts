import { sql, type Kysely } from 'kysely';

/** Users, tokens, agents and runs, with the indexes that serve the API's queries. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('agents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('schedule', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('prompt', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('max_turns', 'integer', (c) => c.notNull())
    .addColumn('max_budget_usd', 'double precision')
    .addColumn('model', 'text')
    .addColumn('allowed_tools', 'text', (c) => c.notNull())
    .addColumn('next_fire_at', 'bigint')
    .addColumn('creator_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('agents_name_idx').on('agents').columns(['name', 'id']).execute();
  // The scheduler's "earliest due agent" and "due agents" queries; disabled agents hold NULL.
  await db.schema.createIndex('agents_next_fire_at_idx').on('agents').column('next_fire_at').where(sql.ref('next_fire_at'), 'is not', null).execute();

  await db.schema
    .createTable('runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('scheduled_for', 'bigint')
    .addColumn('output', 'text')
    .addColumn('cost_usd', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_read_input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_creation_input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('num_turns', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('queued_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('completed_at', 'bigint')
    .addColumn('duration_ms', 'bigint')
    .addColumn('executor_id', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    // Exactly-once safety net: one run per slot of an agent (manual runs have NULL, never equal).
    .addUniqueConstraint('runs_agent_slot_unique', ['agent_id', 'scheduled_for'])
    .execute();
  // "Runs of one agent, newest first", the per-agent stats and each agent's latest run (its
  // status and start): covering, so none of them reads a run row.
  await db.schema
    .createIndex('runs_agent_queued_idx')
    .on('runs')
    .columns(['agent_id', 'queued_at', 'status', 'cost_usd', 'duration_ms', 'started_at'])
    .execute();
  // "Runs in a period" for the global stats (covering).
  await db.schema.createIndex('runs_queued_idx').on('runs').columns(['queued_at', 'status', 'cost_usd', 'duration_ms']).execute();
  // Runs not yet ended: the queue, overlap checks, cancel, leases, recovery. Small by nature.
  await db.schema
    .createIndex('runs_active_idx')
    .on('runs')
    .columns(['status', 'queued_at'])
    .where(sql.ref('status'), 'in', sql`('queued', 'running')`)
    .execute();
}

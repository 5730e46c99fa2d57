import { sql, type Kysely } from 'kysely';

/**
 * Issue 12: the audit trail and agents' versions.
 *
 * - audit_log: one row per change (sql/audit.ts), with who, from where and by which credential.
 *   No foreign keys: an entry outlives the agent, user or token it is about (retention prunes it,
 *   CRON_AGENTS_AUDIT_RETENTION). Listed newest first by (at, id), alone or for one agent, one
 *   user or one action: an index for each.
 * - agent_versions: numbered snapshots of what an agent's runs do (domain/agent-versions.ts);
 *   `fields` is JSON. They go with their agent (cascade), as its runs do.
 * - agents.version: the agent's current version, read by the statements that queue and claim
 *   runs. runs.agent_version: the version a run ran (null for runs from before this migration).
 *
 * Agents that exist get version 1, a snapshot of their fields as stored now (by no one: createdBy null).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_name', 'text')
    .addColumn('address', 'text')
    .addColumn('credential', 'text')
    .addColumn('agent_id', 'text')
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text')
    .addColumn('target_name', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['at', 'id']).execute();
  await db.schema.createIndex('audit_log_agent_idx').on('audit_log').columns(['agent_id', 'at', 'id']).execute();
  await db.schema.createIndex('audit_log_actor_idx').on('audit_log').columns(['actor_id', 'at', 'id']).execute();
  await db.schema.createIndex('audit_log_action_idx').on('audit_log').columns(['action', 'at', 'id']).execute();

  await db.schema
    .createTable('agent_versions')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by_id', 'text')
    .addColumn('created_by_name', 'text')
    .addColumn('fields', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_versions_pk', ['agent_id', 'version'])
    .execute();

  await db.schema
    .alterTable('agents')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable('runs').addColumn('agent_version', 'integer').execute();

  await backfillFirstVersions(db);
}

/** The agents columns a version holds as of this migration, by the field name they have in a version. */
const TEXT_COLUMNS = ['schedule', 'timezone', 'prompt', 'model', 'system_prompt', 'effort', 'fallback_model', 'overlap_policy'];
const NUMBER_COLUMNS = ['max_turns', 'max_budget_usd', 'daily_budget_usd', 'monthly_budget_usd', 'max_retries', 'retry_delay_seconds', 'pause_after_failures'];
const JSON_COLUMNS = ['allowed_tools', 'disallowed_tools', 'mcp_servers', 'workspace', 'allowed_domains', 'output_schema'];

const camel = (column: string) => column.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/**
 * Version 1 of every agent: its versioned fields as stored, written by the migration itself (not
 * the store's code, which may change later), from whichever of the columns above exist.
 */
async function backfillFirstVersions(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<Record<string, unknown>>`select * from agents`.execute(db);
  for (const row of rows) {
    const fields: Record<string, unknown> = {};
    for (const column of TEXT_COLUMNS) if (column in row) fields[camel(column)] = row[column] ?? null;
    for (const column of NUMBER_COLUMNS)
      if (column in row) fields[camel(column)] = row[column] === null || row[column] === undefined ? null : Number(row[column]);
    for (const column of JSON_COLUMNS) {
      const text = row[column];
      if (column in row) fields[camel(column)] = typeof text === 'string' ? (JSON.parse(text) as unknown) : null;
    }
    // Made when the fields were last written, by someone no row records: createdBy stays null.
    await sql`
      insert into agent_versions (agent_id, version, created_at, fields)
      values (${row.id}, 1, cast(${Number(row.updated_at)} as bigint), ${JSON.stringify(fields)})
    `.execute(db);
  }
}

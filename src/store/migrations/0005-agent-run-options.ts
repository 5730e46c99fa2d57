import type { Kysely } from 'kysely';

/**
 * An agent's run options (issue 8): MCP servers, workspace, disallowed tools, allowed domains,
 * system prompt, effort, fallback model. JSON values are text, as allowed_tools is. Existing
 * agents get the defaults: no servers, their own folder, no extra limits. One column per
 * statement: SQLite adds only one column per ALTER TABLE.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('agents')
    .addColumn('disallowed_tools', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema
    .alterTable('agents')
    .addColumn('mcp_servers', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.alterTable('agents').addColumn('workspace', 'text').execute();
  await db.schema
    .alterTable('agents')
    .addColumn('allowed_domains', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();
  await db.schema.alterTable('agents').addColumn('system_prompt', 'text').execute();
  await db.schema.alterTable('agents').addColumn('effort', 'text').execute();
  await db.schema.alterTable('agents').addColumn('fallback_model', 'text').execute();
}

import { sql, type Kysely } from 'kysely';

/**
 * Marks the API tokens that came from CRON_AGENTS_ADMIN_TOKEN (issue 13), so that a start with a
 * changed variable can revoke the token of its previous value. Tokens registered from the
 * variable before this migration are the admin's tokens bootstrap labelled after it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('api_tokens')
    .addColumn('from_env', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await sql`
    update api_tokens set from_env = 1
    where label = 'CRON_AGENTS_ADMIN_TOKEN' and user_id in (select id from users where name = 'admin')
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_tokens').dropColumn('from_env').execute();
}

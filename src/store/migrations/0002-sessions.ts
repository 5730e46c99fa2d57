import type { Kysely } from 'kysely';

/**
 * Dashboard sign-in: cookie sessions (stored as hashes of their random ids) and the failed
 * sign-in attempts that rate limiting counts, kept in the database so every instance sees them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sessions')
    // SHA-256 of the session id the browser holds: a copy of the table signs nobody in.
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  // Signing a user out everywhere (password reset) and sweeping expired sessions.
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();
  await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute();

  await db.schema
    .createTable('sign_in_failures')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // `name:<user name>` or `ip:<address>`: one row per key of each failed attempt.
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('failed_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sign_in_failures_subject_idx').on('sign_in_failures').columns(['subject', 'failed_at']).execute();
  await db.schema.createIndex('sign_in_failures_at_idx').on('sign_in_failures').column('failed_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sign_in_failures').execute();
  await db.schema.dropTable('sessions').execute();
}

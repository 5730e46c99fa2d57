import type { Kysely } from 'kysely';

/**
 * Per-agent secrets, their values encrypted by the services (src/domain/secret-cipher.ts): the
 * database never holds a plain value. They go with their agent (on delete cascade; SQLite's
 * connection has foreign_keys on).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('agent_secrets')
    .addColumn('agent_id', 'text', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    // `v1:<key id>:<base64 of IV | tag | ciphertext>`, bound to agent_id and name.
    .addColumn('encrypted_value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // Also serves "the secrets of one agent" (the list, a run's read, the cascade).
    .addPrimaryKeyConstraint('agent_secrets_pk', ['agent_id', 'name'])
    .execute();
}

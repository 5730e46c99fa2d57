import type { Kysely } from 'kysely';

/**
 * Named leases: a periodic task that must run once per period per deployment, not once per
 * instance (retention's prune), is done by whichever instance claims its lease first; the
 * lease's expiry is the end of the period.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
}

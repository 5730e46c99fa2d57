import { sql, type Kysely } from 'kysely';

/**
 * User names are unique without regard to case (issue 13): `ALICE` beside `alice` would be two
 * users that sign-in, the CLI and the rate limits cannot tell apart. A unique index on
 * `lower(name)`, which also serves the lookups (sql/users-tokens.ts). Existing names that differ
 * only in case stop the migration, naming them: which of them to rename is the operator's call.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const { rows } = await sql<{ name: string; key: string }>`
    select name, lower(name) as key from users
    where lower(name) in (select lower(name) from users group by lower(name) having count(*) > 1)
  `.execute(db);
  if (rows.length > 0) {
    // Sorted here, by code unit: the same on both databases whatever PostgreSQL's collation.
    const groups = new Map<string, string[]>();
    for (const row of rows) groups.set(row.key, [...(groups.get(row.key) ?? []), row.name]);
    const clashes = [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([, names]) =>
        names
          .sort()
          .map((name) => JSON.stringify(name))
          .join(' and '),
      )
      .join('; ');
    throw new Error(
      `user names must be unique without regard to case, and these differ only in case: ${clashes}. ` +
        `Rename all but one of each in the database (e.g. UPDATE users SET name = 'alice-2' WHERE name = 'ALICE'), then start again.`,
    );
  }
  await db.schema
    .createIndex('users_name_lower_unique')
    .on('users')
    .unique()
    .expression(sql`lower(name)`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('users_name_lower_unique').execute();
}

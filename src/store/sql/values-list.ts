import { sql, type RawBuilder } from 'kysely';

/**
 * Rows of values as a derived table, `select $1 as a, $2 as b union all select $3, $4 ...`,
 * for `from (${valuesList(rows)}) as v`. A VALUES list would do on PostgreSQL, but SQLite names
 * its columns column1, column2...; the first select of a union names them on both.
 *
 * Every row has the first row's keys, in that order (build them with one object literal). A
 * value that is an expression (e.g. `bigint(x)`) is written as it is; anything else becomes a
 * bound parameter. `rows` must not be empty.
 */
export function valuesList<Row extends Record<string, unknown>>(rows: readonly Row[]): RawBuilder<Row> {
  const first = rows[0];
  if (!first) throw new Error('valuesList needs at least one row');
  const columns = Object.keys(first);
  const selects = rows.map((row, i) =>
    i === 0
      ? sql`select ${sql.join(columns.map((column) => sql`${row[column]} as ${sql.raw(column)}`))}`
      : sql`select ${sql.join(columns.map((column) => sql`${row[column]}`))}`,
  );
  return sql<Row>`${sql.join(selects, sql` union all `)}`;
}

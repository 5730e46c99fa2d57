import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_STATUSES } from '../../src/domain/types.js';
import { bigint } from '../../src/store/dialect.js';
import type { SqlStore } from '../../src/store/sql/sql-store.js';
import { ACTIVE, FINISHED, isFinished } from '../../src/store/sql/predicates.js';
import { valuesList } from '../../src/store/sql/values-list.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';

/** The SQL building blocks the store's queries share, against a real (SQLite) database. */
describe('store SQL helpers', () => {
  let store: SqlStore;
  beforeAll(async () => {
    store = openSqliteStore(':memory:');
    await store.migrate();
  });
  afterAll(async () => {
    await store.close();
  });

  it('writes the active-run predicate with the constants of the partial index, so queries can use it', async () => {
    expect(ACTIVE.compile(store.db).sql).toBe("status in ('queued', 'running')");
    expect(FINISHED.compile(store.db).sql).toBe("status not in ('queued', 'running')");
    const index = await sql<{ sql: string }>`select sql from sqlite_master where name = 'runs_active_idx'`.execute(store.db);
    expect(index.rows[0]?.sql.replaceAll('"', '')).toContain(`where ${ACTIVE.compile(store.db).sql}`);
    const queue = store.db.selectFrom('runs').select('id').where(ACTIVE).where('status', '=', 'queued').orderBy('queued_at').orderBy('id').limit(1).compile();
    const plan = await store.db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${queue.sql}`, [...queue.parameters]));
    expect(plan.rows.map((r) => r.detail).join('\n')).toContain('runs_active_idx');
  });

  it('tells finished statuses from active ones the same way in code', () => {
    expect(RUN_STATUSES.filter((status) => !isFinished(status))).toEqual(['queued', 'running']);
  });

  it('builds a values list whose first select names the columns', () => {
    const list = valuesList([
      { id: 'a', at: bigint(1) },
      { id: 'b', at: bigint(2) },
    ]).compile(store.db);
    expect(list.sql).toBe('select ? as id, cast(? as bigint) as at union all select ?, cast(? as bigint)');
    expect(list.parameters).toEqual(['a', 1, 'b', 2]);
    expect(() => valuesList([])).toThrow();
  });
});

import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DayStatusCount } from '../../domain/stats.js';
import { DAY_MS, num } from '../dialect.js';
import type { Database } from '../schema.js';

/** Per-day, per-status aggregates of the runs `where` selects, straight from the runs table. */
export async function dayStatusCounts(db: Kysely<Database>, where: RawBuilder<boolean>): Promise<DayStatusCount[]> {
  const rows = await db
    .selectFrom('runs')
    .select((eb) => [
      sql<number>`${eb.ref('queued_at')} / ${sql.lit(DAY_MS)}`.as('day'),
      'status',
      eb.fn.countAll<number>().as('count'),
      eb.fn.sum<number>('cost_usd').as('cost'),
      eb.fn.coalesce(eb.fn.sum<number>('duration_ms'), sql.lit(0)).as('duration'),
    ])
    .where(where)
    .groupBy(['day', 'status'])
    .execute();
  return rows.map((r) => ({
    day: num(r.day),
    status: r.status,
    count: num(r.count),
    costUsd: num(r.cost ?? 0),
    durationMs: num(r.duration),
  }));
}

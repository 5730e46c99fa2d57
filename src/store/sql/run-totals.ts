import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DayStatusCount } from '../../domain/stats.js';
import type { FinalRunStatus, RunStatus } from '../../domain/types.js';
import { HOUR_MS, num } from '../dialect.js';
import type { Database } from '../schema.js';
import { dayStatusCounts } from './day-status-counts.js';
import { ACTIVE, FINISHED, isFinished } from './predicates.js';

/** Run ids per statement when adding runs by id (well under every dialect's parameter limit). */
const IDS_PER_STATEMENT = 500;

/** What a deleted run takes out of the ledger, as the delete returned it. */
export interface DeletedRun {
  queued_at: number;
  status: RunStatus;
  cost_usd: number;
  duration_ms: number | null;
}

/**
 * The hourly totals ledger, `run_totals_hourly`: per hour of `queued_at` and final status, how
 * many runs of all agents ended, their cost and their duration, so that the global stats read a
 * few hundred rows instead of every run of the period. All of its rules are here:
 *
 * 1. A run enters the ledger in the transaction that ends it, whoever ends it: its executor
 *    (finishRun), a cancel while it is queued (requestCancel), recovery (endAbandonedRuns).
 *    Active runs are never in it.
 * 2. A run leaves it in the transaction that deletes it (deleteAgent), as the deleted row says
 *    it was: a run that ends concurrently is either deleted in its final state (and subtracted
 *    as such) or finds its row gone (and adds nothing), never counted without a run behind it.
 * 3. Rows written past the store (a bulk import) are counted by rebuilding it from the runs.
 * 4. A reader takes whole hours from it, the part of the first hour before that hour's end from
 *    the runs, and the runs not ended yet from the small index of active runs: each run is
 *    counted by exactly one of the three.
 * 5. Runs deleted by retention (retention.ts) stay in it: the hourly totals outlive the runs, so
 *    the global stats stay right for periods longer than the retention (but for the part of
 *    the period's first hour that rule 4 reads from the runs).
 */
export class SqlRunTotals {
  constructor(private readonly db: Kysely<Database>) {}

  /** Rule 1, for one run the caller has just ended in `trx`. */
  async addEndedRun(trx: Transaction<Database>, runId: string): Promise<void> {
    await this.addFinished(trx, sql<boolean>`id = ${runId}`);
  }

  /** Rule 1, for runs the caller has just ended in `trx`. */
  async addEndedRuns(trx: Transaction<Database>, runIds: string[]): Promise<void> {
    for (let i = 0; i < runIds.length; i += IDS_PER_STATEMENT) {
      const chunk = runIds.slice(i, i + IDS_PER_STATEMENT);
      await this.addFinished(trx, sql<boolean>`id in (${sql.join(chunk)})`);
    }
  }

  /** Rule 2: takes runs deleted in `trx` out (the finished ones; active runs were never in). */
  async subtractDeletedRuns(trx: Transaction<Database>, rows: readonly DeletedRun[]): Promise<void> {
    const deltas = new Map<string, { hour: number; status: FinalRunStatus; runs: number; cost: number; duration: number }>();
    for (const row of rows) {
      if (!isFinished(row.status)) continue;
      const hour = Math.floor(num(row.queued_at) / HOUR_MS);
      const key = `${hour}:${row.status}`;
      const delta = deltas.get(key) ?? { hour, status: row.status, runs: 0, cost: 0, duration: 0 };
      delta.runs -= 1;
      delta.cost -= num(row.cost_usd);
      delta.duration -= num(row.duration_ms ?? 0);
      deltas.set(key, delta);
    }
    for (const delta of deltas.values()) {
      await trx
        .updateTable('run_totals_hourly')
        .set((eb) => ({
          runs: eb('runs', '+', delta.runs),
          cost_usd: eb('cost_usd', '+', delta.cost),
          duration_ms: eb('duration_ms', '+', delta.duration),
        }))
        .where('hour', '=', delta.hour)
        .where('status', '=', delta.status)
        .execute();
    }
  }

  /** Rule 3: recomputes the ledger from the runs. */
  async rebuild(): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('run_totals_hourly').execute();
      await this.addFinished(trx, sql<boolean>`true`);
    });
  }

  /** Rule 4: the per-day, per-status figures of all runs queued since `since`. */
  async dayStatusCountsSince(since: number): Promise<DayStatusCount[]> {
    const firstHour = Math.ceil(since / HOUR_MS);
    const [hours, edge, active] = await Promise.all([
      this.db
        .selectFrom('run_totals_hourly')
        .select((eb) => [
          sql<number>`${eb.ref('hour')} / 24`.as('day'),
          'status',
          eb.fn.sum<number>('runs').as('count'),
          eb.fn.sum<number>('cost_usd').as('cost'),
          eb.fn.sum<number>('duration_ms').as('duration'),
        ])
        .where('hour', '>=', firstHour)
        .groupBy(['day', 'status'])
        .execute(),
      dayStatusCounts(this.db, sql<boolean>`queued_at >= ${since} and queued_at < ${firstHour * HOUR_MS} and ${FINISHED}`),
      dayStatusCounts(this.db, sql<boolean>`${ACTIVE} and queued_at >= ${since}`),
    ]);
    const fromHours = hours.map((r) => ({
      day: num(r.day),
      status: r.status,
      count: num(r.count),
      costUsd: num(r.cost ?? 0),
      durationMs: num(r.duration ?? 0),
    }));
    return [...fromHours, ...edge, ...active].filter((r) => r.count !== 0);
  }

  /** Adds the finished runs among those `where` selects, hour by hour. */
  private async addFinished(trx: Transaction<Database>, where: RawBuilder<boolean>): Promise<void> {
    await sql`
      insert into run_totals_hourly (hour, status, runs, cost_usd, duration_ms)
      select queued_at / ${sql.lit(HOUR_MS)}, status, count(*), sum(cost_usd), coalesce(sum(duration_ms), 0)
      from runs
      where ${where} and ${FINISHED}
      group by queued_at / ${sql.lit(HOUR_MS)}, status
      on conflict (hour, status) do update set
        runs = run_totals_hourly.runs + excluded.runs,
        cost_usd = run_totals_hourly.cost_usd + excluded.cost_usd,
        duration_ms = run_totals_hourly.duration_ms + excluded.duration_ms
    `.execute(trx);
  }
}

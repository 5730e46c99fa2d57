import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { PruneBatch, RetentionStore } from '../store.js';
import { FINISHED } from './predicates.js';

/**
 * Retention's deletes, each one short statement of at most `limit` rows (no transaction spans
 * two), so a prune of a year of runs never holds a lock for long; and the named leases that make
 * a periodic task once per deployment.
 *
 * Pruned runs stay in the hourly totals ledger on purpose (run-totals.ts, rule 5): the global
 * stats of any period stay right after their runs are gone.
 */
export class SqlRetention implements RetentionStore {
  constructor(private readonly db: Kysely<Database>) {}

  async claimLease(name: string, holder: string, now: number, until: number): Promise<boolean> {
    // Either the insert or the update of an expired lease returns the row; a lease someone else
    // still holds makes the conflict update's `where` false, and nothing is returned.
    const row = await this.db
      .insertInto('leases')
      .values({ name, holder, expires_at: until })
      .onConflict((oc) => oc.column('name').doUpdateSet({ holder, expires_at: until }).where('leases.expires_at', '<=', now))
      .returning('holder')
      .executeTakeFirst();
    return row !== undefined;
  }

  async pruneRunsBatch(endedBefore: number, limit: number): Promise<PruneBatch> {
    // The oldest runs that ended before the cutoff. A run ends after it is queued, so the
    // `queued_at` bound lets the planner walk runs_queued_idx instead of every run.
    const oldest = this.db
      .selectFrom('runs')
      .select('id')
      .where('queued_at', '<', endedBefore)
      .where('completed_at', '<', endedBefore)
      .where(FINISHED)
      .orderBy('queued_at')
      .limit(limit);
    // Their events first, `limit` rows a statement; the runs once they have none left (the
    // cascade of the runs' delete then finds nothing to do).
    const events = await this.db
      .deleteFrom('run_events')
      .where((eb) =>
        eb(
          eb.refTuple('run_id', 'seq'),
          'in',
          eb.selectFrom('run_events').select(['run_id', 'seq']).where('run_id', 'in', oldest).limit(limit).$asTuple('run_id', 'seq'),
        ),
      )
      .executeTakeFirst();
    const deletedEvents = Number(events.numDeletedRows);
    if (deletedEvents > 0) return { runs: 0, events: deletedEvents };
    const runs = await this.db.deleteFrom('runs').where('id', 'in', oldest).executeTakeFirst();
    return { runs: Number(runs.numDeletedRows), events: 0 };
  }
}

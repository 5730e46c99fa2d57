import { sql, type Kysely } from 'kysely';
import { num } from '../dialect.js';
import type { Database } from '../schema.js';
import type { DeploymentCounts, DeploymentCountsStore } from '../store.js';
import type { SqlBudgets } from './budgets.js';
import { ACTIVE } from './predicates.js';

type Count = number | string | bigint;

/**
 * The deployment-wide gauges of /metrics: what the whole database holds, not what one instance
 * does. One statement for the two counts, and the deployment's spend as budgets.ts reckons it;
 * the metrics scrape reads them at most every 15 s.
 */
export class SqlDeploymentCounts implements DeploymentCountsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly budgets: Pick<SqlBudgets, 'spendSummary'>,
  ) {}

  async deploymentCounts(now: number): Promise<DeploymentCounts> {
    // `ACTIVE` repeats the partial index's predicate (predicates.ts), so the queue count reads
    // runs_active_idx instead of every run.
    const [counts, spend] = await Promise.all([
      sql<{ agents: Count; queued: Count }>`
        select
          (select count(*) from agents where enabled = 1) as agents,
          (select count(*) from runs where ${ACTIVE} and status = 'queued') as queued
      `.execute(this.db),
      this.budgets.spendSummary(null, now),
    ]);
    const row = counts.rows[0];
    return { agentsEnabled: num(row?.agents ?? 0), runsQueued: num(row?.queued ?? 0), spend };
  }
}

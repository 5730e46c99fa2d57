import { sql, type Kysely } from 'kysely';
import { summarizeRuns } from '../../domain/stats.js';
import type { AgentStats, GlobalStats } from '../../domain/types.js';
import { num, numOrNull } from '../dialect.js';
import type { Database } from '../schema.js';
import type { StatsStore } from '../store.js';
import { dayStatusCounts } from './day-status-counts.js';
import { ACTIVE } from './predicates.js';
import type { SqlBudgets } from './budgets.js';
import type { SqlRunTotals } from './run-totals.js';

/** The stats endpoints' figures: SQL aggregates over the runs' indexes and the totals ledger. */
export class SqlStats implements StatsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly totals: SqlRunTotals,
    private readonly budgets: SqlBudgets,
  ) {}

  async agentStats(agentId: string, since: number, now: number): Promise<AgentStats> {
    const [rows, last, spend] = await Promise.all([
      dayStatusCounts(this.db, sql<boolean>`agent_id = ${agentId} and queued_at >= ${since}`),
      this.db
        .selectFrom('runs')
        .select(sql<number | null>`coalesce(started_at, queued_at)`.as('t'))
        .where('agent_id', '=', agentId)
        .where('status', '<>', 'skipped')
        .orderBy('queued_at', 'desc')
        .limit(1)
        .executeTakeFirst(),
      this.budgets.spendSummary(agentId, now),
    ]);
    const totals = summarizeRuns(rows, since, now);
    return {
      totalRuns: totals.totalRuns,
      skippedRuns: totals.skippedRuns,
      successRate: totals.successRate,
      avgDurationMs: totals.avgDurationMs,
      totalCostUsd: totals.totalCostUsd,
      lastRunAt: numOrNull(last?.t),
      dailyRuns: totals.dailyRuns,
      spend,
    };
  }

  async globalStats(since: number, now: number): Promise<GlobalStats> {
    const [rows, agents, running, spend] = await Promise.all([
      this.totals.dayStatusCountsSince(since),
      this.db
        .selectFrom('agents')
        .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.sum<number>('enabled').as('active')])
        .executeTakeFirstOrThrow(),
      this.db.selectFrom('runs').select('agent_id').distinct().where(ACTIVE).where('status', '=', 'running').orderBy('agent_id').execute(),
      this.budgets.spendSummary(null, now),
    ]);
    const totals = summarizeRuns(rows, since, now);
    return {
      totalAgents: num(agents.total),
      activeAgents: num(agents.active ?? 0),
      runsInPeriod: totals.totalRuns,
      skippedRuns: totals.skippedRuns,
      successRate: totals.successRate,
      totalCostUsd: totals.totalCostUsd,
      runningAgentIds: running.map((r) => r.agent_id),
      dailyRuns: totals.dailyRuns,
      spend,
    };
  }

  async rebuildRunTotals(): Promise<void> {
    await this.totals.rebuild();
  }
}

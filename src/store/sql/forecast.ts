import { sql, type Kysely } from 'kysely';
import { FORECAST_STATUSES } from '../../domain/forecast.js';
import { num } from '../dialect.js';
import type { ForecastStore } from '../forecast-store.js';
import type { Database } from '../schema.js';

/** Agents per statement: SQLite allows 500 terms in a compound select. */
const AGENTS_PER_STATEMENT = 100;

/**
 * The forecast's one read: each agent's latest run costs. One `union all` of per-agent selects,
 * each `order by queued_at desc limit N` on runs_agent_queued_idx (agent_id, queued_at, status,
 * cost_usd, ..., started_at), which covers it: N index entries per agent, however many runs it has.
 */
export class SqlForecast implements ForecastStore {
  constructor(private readonly db: Kysely<Database>) {}

  async recentRunCosts(agentIds: readonly string[], limit: number): Promise<Map<string, number[]>> {
    const costs = new Map<string, number[]>(agentIds.map((id) => [id, []]));
    const statuses = sql.join(FORECAST_STATUSES.map((status) => sql.lit(status)));
    for (let i = 0; i < agentIds.length; i += AGENTS_PER_STATEMENT) {
      const selects = agentIds.slice(i, i + AGENTS_PER_STATEMENT).map(
        (id, n) => sql`select * from (
          select agent_id, cost_usd, queued_at from runs
          where agent_id = ${id} and status in (${statuses}) and started_at is not null
          order by queued_at desc limit ${limit}
        ) as r${sql.raw(String(n))}`,
      );
      const { rows } = await sql<{ agent_id: string; cost_usd: number | string; queued_at: number | string }>`
        select agent_id, cost_usd from (${sql.join(selects, sql` union all `)}) as recent order by agent_id, queued_at desc
      `.execute(this.db);
      for (const row of rows) costs.get(row.agent_id)?.push(num(row.cost_usd));
    }
    return costs;
  }
}

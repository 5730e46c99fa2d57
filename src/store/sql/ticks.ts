import { sql, type Kysely } from 'kysely';
import { bigint, num, numOrNull, type DialectTraits } from '../dialect.js';
import type { Database } from '../schema.js';
import type { DueAgent, TickClaim, TickResult, TicksStore } from '../store.js';
import { activeRun } from './predicates.js';
import { valuesList } from './values-list.js';

/** Ticks: which agents have come due, and claiming their slots exactly once across instances. */
export class SqlTicks implements TicksStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly traits: DialectTraits,
  ) {}

  async earliestFireAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom('agents')
      .select((eb) => eb.fn.min<number | null>('next_fire_at').as('t'))
      .where('next_fire_at', 'is not', null)
      .executeTakeFirst();
    return numOrNull(row?.t);
  }

  async findDueAgents(now: number, limit: number): Promise<DueAgent[]> {
    const rows = await this.db
      .selectFrom('agents')
      .select(['id', 'schedule', 'timezone', 'next_fire_at'])
      .where('next_fire_at', 'is not', null)
      .where('next_fire_at', '<=', now)
      .orderBy('next_fire_at')
      .limit(limit)
      .$narrowType<{ next_fire_at: number }>()
      .execute();
    return rows.map((r) => ({ id: r.id, schedule: r.schedule, timezone: r.timezone, nextFireAt: num(r.next_fire_at) }));
  }

  async claimTick(claim: TickClaim): Promise<TickResult> {
    const [result] = await this.claimTicks([claim]);
    if (!result) throw new Error('claimTicks returned no result for a claim');
    return result;
  }

  /**
   * Claims a batch of ticks in one transaction and two statements, whatever the batch size:
   *
   * 1. Compare-and-set: only a claimer that still sees `due` moves each agent on. On PostgreSQL
   *    an agent another instance is claiming right now is skipped rather than waited for (SKIP
   *    LOCKED), so instances claim different agents side by side. A skipped tick is not lost:
   *    if the other claim rolled back, the agent is still due at the next pass.
   * 2. The runs of the moved agents that have a slot to run, unless the agent has a run queued
   *    or running (the overlap rule); UNIQUE(agent_id, scheduled_for) is the safety net.
   *
   * `queuedAt` is read once, right before that insert, the last statement before the commit: the
   * runs' `queued_at` is when they came to exist, not when the batch was planned.
   */
  async claimTicks(claims: readonly TickClaim[], queuedAt?: () => number): Promise<TickResult[]> {
    if (claims.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const moves = valuesList(claims.map((c) => ({ id: c.agentId, due: bigint(c.due), next: bigint(c.next) })));
      const ids = sql.join(claims.map((c) => sql`${c.agentId}`));
      const lockFree = this.traits.skipLocked ? sql`and agents.id in (select id from agents where id in (${ids}) for update skip locked)` : sql``;
      const moved = await sql<{ id: string }>`
        update agents set next_fire_at = v.next
        from (${moves}) as v
        where agents.id = v.id and agents.next_fire_at = v.due and agents.enabled = 1 ${lockFree}
        returning agents.id
      `.execute(trx);
      const movedIds = new Set(moved.rows.map((r) => r.id));
      const toRun = claims.filter((c) => movedIds.has(c.agentId) && c.slot !== null);
      const fired = new Set<string>();
      if (toRun.length > 0) {
        const stamp = queuedAt?.();
        const runs = valuesList(toRun.map((c) => ({ id: c.runId, agent_id: c.agentId, slot: bigint(c.slot), queued_at: bigint(stamp ?? c.now) })));
        // `select 1`: the agent's runs index answers the overlap check alone, reading no run row.
        const inserted = await sql<{ agent_id: string }>`
          insert into runs (id, agent_id, status, trigger, scheduled_for, queued_at)
          select v.id, v.agent_id, 'queued', 'schedule', v.slot, v.queued_at
          from (${runs}) as v
          where not exists (select 1 from runs where runs.agent_id = v.agent_id and ${activeRun('runs.status')})
          on conflict (agent_id, scheduled_for) do nothing
          returning agent_id
        `.execute(trx);
        for (const row of inserted.rows) fired.add(row.agent_id);
      }
      return claims.map((c): TickResult => {
        if (!movedIds.has(c.agentId)) return 'lost';
        if (c.slot === null) return 'skipped_stale';
        return fired.has(c.agentId) ? 'fired' : 'skipped_overlap';
      });
    });
  }
}

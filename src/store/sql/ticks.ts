import { sql, type Kysely, type Transaction } from 'kysely';
import { iso } from '../../domain/run-json.js';
import { missedCause, missedOutput, overlapCause, overlapOutput } from '../../domain/skip-reasons.js';
import type { OverlapPolicy, RunStatus, RunTrigger } from '../../domain/types.js';
import { bigint, num, numOrNull, type DialectTraits } from '../dialect.js';
import type { Database } from '../schema.js';
import type { DueAgent, TickClaim, TickResult, TicksStore } from '../store.js';
import type { SqlBudgets } from './budgets.js';
import type { SqlOutbox } from './outbox.js';
import { ACTIVE } from './predicates.js';
import type { SqlRunTotals } from './run-totals.js';
import type { NewSkip, SqlSkips } from './skips.js';
import { valuesList } from './values-list.js';

/** Agent ids per statement when reading active runs (well under every dialect's parameter limit). */
const IDS_PER_STATEMENT = 500;

/** An active run of an agent, as the overlap policies weigh it. */
interface ActiveRun {
  id: string;
  status: RunStatus;
  trigger: RunTrigger;
}

/** What a slot does, given the agent's overlap policy and its active runs. */
type SlotDecision = { kind: 'fire'; stop: string[]; cancel: string[] } | { kind: 'skip'; blocking: ActiveRun };

/**
 * Temporal's schedule overlap policies (https://docs.temporal.io/schedule#overlap-policy), over
 * the agent's active runs (running first, then queued, oldest first):
 * - skip: no run while one is active.
 * - queue (BufferOne): at most one scheduled (or retry) run waits; the claim holds it back until
 *   the running run ends (runs.ts). Another slot while one waits is skipped.
 * - allow: always a run, concurrently.
 * - replace (CancelOther): a run; the running runs are asked to stop and the queued scheduled
 *   runs and retries it replaces end as cancelled; the claim holds the new run back until they stopped.
 * Manual runs are never held back, nor cancelled but by replace (they are runs of the agent).
 */
function decide(policy: OverlapPolicy, active: readonly ActiveRun[]): SlotDecision {
  const first = active[0];
  if (!first || policy === 'allow') return { kind: 'fire', stop: [], cancel: [] };
  const automatic = (run: ActiveRun) => run.status === 'queued' && (run.trigger === 'schedule' || run.trigger === 'retry');
  if (policy === 'replace') {
    return { kind: 'fire', stop: active.filter((r) => r.status === 'running').map((r) => r.id), cancel: active.filter(automatic).map((r) => r.id) };
  }
  if (policy === 'queue' && !active.some(automatic)) return { kind: 'fire', stop: [], cancel: [] };
  return { kind: 'skip', blocking: first };
}

/** Ticks: which agents have come due, and claiming their slots exactly once across instances. */
export class SqlTicks implements TicksStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly traits: DialectTraits,
    private readonly parts: { skips: SqlSkips; totals: SqlRunTotals; outbox: SqlOutbox; budgets: SqlBudgets },
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
   * Claims a batch of ticks in one transaction, in a few statements whatever the batch size:
   *
   * 1. Compare-and-set: only a claimer that still sees `due` moves each agent on. On PostgreSQL
   *    an agent another instance is claiming right now is skipped rather than waited for (SKIP
   *    LOCKED), so instances claim different agents side by side. A skipped tick is not lost:
   *    if the other claim rolled back, the agent is still due at the next pass.
   * 2. The moved agents' active runs, weighed by each agent's overlap policy (decide()).
   * 3. The runs of the slots that run (UNIQUE(agent_id, scheduled_for) is the safety net); what
   *    replace stops or cancels; the skipped rows of the slots that do not run, and of slots
   *    missed while the service was down (skips.ts coalesces them by cause).
   *
   * `queuedAt` is read once, right before the runs' insert: the runs' `queued_at` is when they
   * came to exist, not when the batch was planned.
   */
  async claimTicks(claims: readonly TickClaim[], queuedAt?: () => number, onCancelRequested?: (runIds: string[]) => void): Promise<TickResult[]> {
    if (claims.length === 0) return [];
    let deliveries = 0;
    let stopped: string[] = [];
    const results = await this.db.transaction().execute(async (trx) => {
      const policies = await this.moveAgents(trx, claims);
      const withSlot = claims.filter((c) => policies.has(c.agentId) && c.slot !== null);
      const active = await this.activeRuns(
        trx,
        withSlot.map((c) => c.agentId),
      );
      const decisions = new Map(withSlot.map((c) => [c.agentId, decide(policies.get(c.agentId) ?? 'skip', active.get(c.agentId) ?? [])]));
      const stamp = queuedAt?.() ?? claims[0]!.now;
      const fired = await this.insertRuns(
        trx,
        withSlot.filter((c) => decisions.get(c.agentId)?.kind === 'fire'),
        stamp,
      );
      const replaced = await this.replace(trx, withSlot, decisions, fired, stamp);
      stopped = replaced.stopped;
      const skips = claims.flatMap((c) => (policies.has(c.agentId) ? skipsOf(c, decisions.get(c.agentId), policies.get(c.agentId) ?? 'skip') : []));
      const recorded = await this.parts.skips.recordSkips(trx, skips, stamp);
      deliveries = replaced.deliveries + recorded.deliveries;
      return claims.map((c): TickResult => {
        if (!policies.has(c.agentId)) return 'lost';
        if (c.slot === null) return 'skipped_stale';
        return fired.has(c.agentId) ? 'fired' : 'skipped_overlap';
      });
    });
    if (deliveries > 0) this.parts.outbox.written();
    if (stopped.length > 0) onCancelRequested?.(stopped);
    return results;
  }

  /** Step 1: moves each agent still at `due` on to `next`; returns the overlap policy of each moved agent. */
  private async moveAgents(trx: Transaction<Database>, claims: readonly TickClaim[]): Promise<Map<string, OverlapPolicy>> {
    const moves = valuesList(claims.map((c) => ({ id: c.agentId, due: bigint(c.due), next: bigint(c.next) })));
    const ids = sql.join(claims.map((c) => sql`${c.agentId}`));
    const lockFree = this.traits.skipLocked ? sql`and agents.id in (select id from agents where id in (${ids}) for update skip locked)` : sql``;
    const moved = await sql<{ id: string; overlap_policy: OverlapPolicy }>`
      update agents set next_fire_at = v.next
      from (${moves}) as v
      where agents.id = v.id and agents.next_fire_at = v.due and agents.enabled = 1 ${lockFree}
      returning agents.id, agents.overlap_policy
    `.execute(trx);
    return new Map(moved.rows.map((r) => [r.id, r.overlap_policy]));
  }

  /** Step 2: the agents' queued and running runs, running first, then by age. */
  private async activeRuns(trx: Transaction<Database>, agentIds: readonly string[]): Promise<Map<string, ActiveRun[]>> {
    const byAgent = new Map<string, ActiveRun[]>();
    for (let i = 0; i < agentIds.length; i += IDS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('runs')
        .select(['id', 'agent_id', 'status', 'trigger', 'queued_at'])
        .where(ACTIVE)
        .where('agent_id', 'in', agentIds.slice(i, i + IDS_PER_STATEMENT))
        .execute();
      rows.sort((a, b) => Number(b.status === 'running') - Number(a.status === 'running') || num(a.queued_at) - num(b.queued_at) || (a.id < b.id ? -1 : 1));
      for (const row of rows) {
        const runs = byAgent.get(row.agent_id) ?? [];
        runs.push({ id: row.id, status: row.status, trigger: row.trigger });
        byAgent.set(row.agent_id, runs);
      }
    }
    return byAgent;
  }

  /** Step 3: the slots' runs; returns the agents whose run was written (a slot that has a row already keeps it). */
  private async insertRuns(trx: Transaction<Database>, toRun: readonly TickClaim[], queuedAt: number): Promise<Set<string>> {
    const fired = new Set<string>();
    if (toRun.length === 0) return fired;
    const runs = valuesList(toRun.map((c) => ({ id: c.runId, agent_id: c.agentId, slot: bigint(c.slot), queued_at: bigint(queuedAt) })));
    // `where true`: SQLite needs a WHERE in an INSERT ... SELECT with ON CONFLICT.
    const inserted = await sql<{ agent_id: string }>`
      insert into runs (id, agent_id, status, trigger, scheduled_for, queued_at, agent_version)
      select v.id, v.agent_id, 'queued', 'schedule', v.slot, v.queued_at, (select a.version from agents a where a.id = v.agent_id)
      from (${runs}) as v
      where true
      on conflict (agent_id, scheduled_for) do nothing
      returning agent_id
    `.execute(trx);
    for (const row of inserted.rows) fired.add(row.agent_id);
    return fired;
  }

  /** Step 3, overlapPolicy replace: flags the replaced running runs and ends the replaced queued ones. */
  private async replace(
    trx: Transaction<Database>,
    claims: readonly TickClaim[],
    decisions: ReadonlyMap<string, SlotDecision>,
    fired: ReadonlySet<string>,
    now: number,
  ): Promise<{ stopped: string[]; deliveries: number }> {
    let stopped: string[] = [];
    let deliveries = 0;
    for (const claim of claims) {
      const decision = decisions.get(claim.agentId);
      if (decision?.kind !== 'fire' || !fired.has(claim.agentId) || decision.stop.length + decision.cancel.length === 0) continue;
      const slot = claim.slot === null ? '' : ` of the slot ${iso(claim.slot)}`;
      if (decision.stop.length > 0) {
        const flagged = await trx
          .updateTable('runs')
          .set({ cancel_requested: 1 })
          .where('id', 'in', decision.stop)
          .where('status', '=', 'running')
          .returning('id')
          .execute();
        stopped = stopped.concat(flagged.map((r) => r.id));
      }
      if (decision.cancel.length === 0) continue;
      const ended = (
        await trx
          .updateTable('runs')
          .set({ status: 'cancelled', output: `Cancelled: replaced by the run${slot} (overlapPolicy "replace").`, completed_at: now, duration_ms: 0 })
          .where('id', 'in', decision.cancel)
          .where('status', '=', 'queued')
          .returning('id')
          .execute()
      ).map((r) => r.id);
      await this.parts.totals.addEndedRuns(trx, ended);
      deliveries += await this.parts.budgets.addEndedSpend(trx, ended, now);
      deliveries += await this.parts.outbox.emitRunsEnded(trx, ended, now);
    }
    return { stopped, deliveries };
  }
}

/** The skipped rows a claimed tick records: its missed slots, and its slot if the overlap policy skipped it. */
function skipsOf(claim: TickClaim, decision: SlotDecision | undefined, policy: OverlapPolicy): NewSkip[] {
  const skips: NewSkip[] = [];
  const missed = claim.missed;
  if (missed && missed.count > 0) {
    skips.push({
      id: missed.skipId,
      agentId: claim.agentId,
      cause: missedCause(missed.since),
      trigger: 'schedule',
      slots: missed.count,
      firstSlot: missed.first,
      lastSlot: missed.last,
      output: (slots, first, last) => missedOutput(slots, missed.approximate, first, last, missed.catchupWindowMs),
    });
  }
  if (decision?.kind === 'skip' && claim.slot !== null) {
    const { blocking } = decision;
    skips.push({
      id: claim.runId,
      agentId: claim.agentId,
      cause: overlapCause(blocking.id),
      trigger: 'schedule',
      slots: 1,
      firstSlot: claim.slot,
      lastSlot: claim.slot,
      output: () => overlapOutput(blocking, policy),
    });
  }
  return skips;
}

import { sql, type Kysely, type Transaction } from 'kysely';
import {
  alertLevels,
  budgetEvent,
  capSkipCause,
  capSkipOutput,
  capState,
  decideRun,
  DEFAULT_WARN_AT_PERCENT,
  epochDay,
  roundUsd,
  utcMonth,
  type BudgetSettings,
  type CapState,
} from '../../domain/budgets.js';
import type { NewAuditEntry } from '../../domain/audit.js';
import type { NewOutboxEvent } from '../../domain/webhook-events.js';
import type { Agent, SpendSummary } from '../../domain/types.js';
import { num, numOrNull, type DialectTraits } from '../dialect.js';
import type { Database } from '../schema.js';
import type { BudgetsStore } from '../budgets-store.js';
import { writeAudit } from './audit.js';
import type { SqlOutbox } from './outbox.js';
import { ACTIVE } from './predicates.js';

/**
 * What a run about to start may spend under the spend caps, decided in its claim's transaction:
 * `run` (with the SDK's maxBudgetUsd: the smallest of the agent's per-run limit and what is left
 * under each cap; `reservedUsd` is now held for it), or `skip` (a cap that applies is used up;
 * `output` names the cap, its amount and the spend; `cause` keys the coalescing of skips).
 * `deliveries`: webhook deliveries the decision wrote (budget alerts); when more than 0, call the
 * outbox's written() once the transaction has committed.
 */
export type Reservation =
  | { kind: 'run'; maxBudgetUsd: number | null; reservedUsd: number; deliveries: number }
  | { kind: 'skip'; cause: string; output: string; cap: CapState; deliveries: number };

/** The caps of one agent (its own), as the ledger's readers need them. */
interface AgentCaps {
  id: string;
  name: string;
  dailyUsd: number | null;
  monthlyUsd: number | null;
}

/** One scope's figures: the ledger's day and month, and its runs in progress (their cost so far, and max(cost, reserved)). */
interface ScopeFigures {
  dayUsd: number;
  monthUsd: number;
  accruedUsd: number;
  heldUsd: number;
}

type Sum = number | string;
type FiguresRow = Record<'d_day' | 'd_month' | 'd_cost' | 'd_held' | 'a_day' | 'a_month' | 'a_cost' | 'a_held', Sum>;

/** pg_advisory_xact_lock(ALERTS_LOCK_NAMESPACE, 1): the alerts' lock (two 32-bit keys, as claim-rules.ts's, in a namespace of their own). */
const ALERTS_LOCK_NAMESPACE = 0x0b0d;

/** Rows per `in (...)` list. */
const IDS_PER_STATEMENT = 200;

/** A running run counts as the larger of its cost so far and its reservation (the same on both dialects: no greatest() in SQLite). */
const HELD = sql`case when cost_usd > reserved_usd then cost_usd else reserved_usd end`;

/**
 * Spend caps (issue 11): the deployment's settings, the spend ledger (`spend_daily`, written with
 * each run's end), reservations in the claim's transaction, and the once-per-window alerts.
 *
 * Concurrency (PostgreSQL; SQLite has one writer, which serialises all of this):
 * - A reservation locks the budget_settings row, then reads the spend in ONE statement (one
 *   snapshot: a run that ends meanwhile is counted as running or as ended, never as neither). So
 *   two claims never both take the same remainder, across instances too.
 * - Alerts are written under a transaction-scoped advisory lock (alertsLock). Transactions that
 *   end runs with a cost some cap applies to take it, waiting, before they add to the ledger, so
 *   they add and read the spend one after the other and a crossing is never lost between two
 *   runs ending at once. Claims and budget changes only try it and pass their alert check when it
 *   is taken (the runs ending meanwhile check): a claim holds its run's row and the budget row, and
 *   an ending may go on to touch queued runs (retries it cancels), so a claim that waited for the
 *   ending's lock could deadlock with it. Whoever holds the lock never waits for the budget row.
 */
export class SqlBudgets implements BudgetsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly traits: DialectTraits,
    private readonly outbox: SqlOutbox,
  ) {}

  async getBudgetSettings(): Promise<BudgetSettings> {
    return this.readSettings(this.db, 'read');
  }

  async putBudgetSettings(settings: BudgetSettings, now: number, audit?: (before: BudgetSettings) => NewAuditEntry | null): Promise<BudgetSettings> {
    let deliveries = 0;
    await this.db.transaction().execute(async (trx) => {
      const before = await this.readSettings(trx, 'lock');
      await trx
        .updateTable('budget_settings')
        .set({ daily_usd: settings.dailyUsd, monthly_usd: settings.monthlyUsd, warn_at_percent: settings.warnAtPercent, updated_at: now })
        .where('id', '=', 1)
        .execute();
      const entry = audit?.(before);
      if (entry) await writeAudit(trx, entry);
      // A lowered cap may be reached already: announced now, not at the next run (unless runs are
      // ending at this moment: then the next claim or end announces it).
      if (await this.alertsLock(trx, 'try')) {
        const figures = await this.figures(trx, null, null, now);
        deliveries = await this.announce(trx, deploymentCaps(settings, figures.deployment, now), settings.warnAtPercent, null, now);
      }
    });
    if (deliveries > 0) this.outbox.written();
    return settings;
  }

  /**
   * Called in the transaction that claims `runId` (locked by it, not yet counted as spend), with
   * the agent as it is now: reserves the run's budget, or says which cap is used up. Emits the
   * budget alerts the spend has reached.
   */
  async reserve(trx: Transaction<Database>, agent: Agent, runId: string, now: number): Promise<Reservation> {
    const agentHasCaps = agent.dailyBudgetUsd !== null || agent.monthlyBudgetUsd !== null;
    let settings = await this.readSettings(trx, 'read');
    if (!agentHasCaps && !hasCaps(settings)) return { kind: 'run', maxBudgetUsd: agent.maxBudgetUsd, reservedUsd: 0, deliveries: 0 };
    // The lock serialises reservations; the locked read is the settings' latest value.
    settings = await this.readSettings(trx, 'lock');
    const figures = await this.figures(trx, agent.id, runId, now);
    const agentCaps = capsOf('agent', agent.dailyBudgetUsd, agent.monthlyBudgetUsd, figures.agent, now);
    const caps = [...agentCaps, ...deploymentCaps(settings, figures.deployment, now)];
    // What running runs have accrued, or a cap lowered since, may have reached an alert level.
    const deliveries = (await this.alertsLock(trx, 'try')) ? await this.announce(trx, caps, settings.warnAtPercent, agent, now) : 0;
    const decision = decideRun(caps, agent.maxBudgetUsd);
    if (decision.kind === 'skip')
      return { kind: 'skip', cause: capSkipCause(decision.cap), output: capSkipOutput(decision.cap), cap: decision.cap, deliveries };
    return { ...decision, deliveries };
  }

  /**
   * Called in every transaction that ends runs (beside the totals ledger's addEndedRun(s)), once
   * per run: adds the cost of those with a cost to the ledger, under the UTC day they ended, and
   * emits the budget alerts their spend reaches. Returns the deliveries written (see Reservation).
   */
  async addEndedSpend(trx: Transaction<Database>, runIds: readonly string[], now: number): Promise<number> {
    const ended: { agent_id: string; cost_usd: number; completed_at: number | null }[] = [];
    for (let i = 0; i < runIds.length; i += IDS_PER_STATEMENT) {
      const rows = await trx
        .selectFrom('runs')
        .select(['agent_id', 'cost_usd', 'completed_at'])
        .where('id', 'in', runIds.slice(i, i + IDS_PER_STATEMENT))
        .where('cost_usd', '>', 0)
        .execute();
      ended.push(...rows);
    }
    if (ended.length === 0) return 0;
    const agents = await this.agentCaps(trx, [...new Set(ended.map((r) => r.agent_id))]);
    const settings = await this.readSettings(trx, 'read');
    const capped = agents.filter((a) => a.dailyUsd !== null || a.monthlyUsd !== null);
    const anyCap = capped.length > 0 || hasCaps(settings);
    // Before the ledger's rows: they are then added to (and their sums read) one ending at a time.
    if (anyCap) await this.alertsLock(trx, 'wait');
    await this.addToLedger(trx, ended, now);
    if (!anyCap) return 0;
    let deliveries = 0;
    for (const agent of capped) {
      const figures = await this.figures(trx, agent.id, null, now);
      deliveries += await this.announce(trx, capsOf('agent', agent.dailyUsd, agent.monthlyUsd, figures.agent, now), settings.warnAtPercent, agent, now);
    }
    if (hasCaps(settings)) {
      const figures = await this.figures(trx, null, null, now);
      deliveries += await this.announce(trx, deploymentCaps(settings, figures.deployment, now), settings.warnAtPercent, null, now);
    }
    return deliveries;
  }

  /** Today's and this month's spend (UTC) of one agent against its caps, or (null) of the deployment against its caps. */
  async spendSummary(agentId: string | null, now: number): Promise<SpendSummary> {
    let caps: { dailyUsd: number | null; monthlyUsd: number | null };
    if (agentId === null) caps = await this.readSettings(this.db, 'read');
    else caps = (await this.agentCaps(this.db, [agentId]))[0] ?? { dailyUsd: null, monthlyUsd: null };
    const figures = await this.figures(this.db, agentId, null, now);
    const scope = agentId === null ? figures.deployment : figures.agent;
    return {
      todayUsd: roundUsd(scope.dayUsd + scope.heldUsd),
      monthUsd: roundUsd(scope.monthUsd + scope.heldUsd),
      dailyCapUsd: caps.dailyUsd,
      monthlyCapUsd: caps.monthlyUsd,
    };
  }

  /**
   * The settings row (migration 0011 writes it; absent, the defaults). `lock` (PostgreSQL): locked
   * for the rest of the transaction, the lock every reservation takes; a missing row is written
   * first, so that there is always a row to lock.
   */
  private async readSettings(db: Kysely<Database>, mode: 'read' | 'lock'): Promise<BudgetSettings> {
    const lock = mode === 'lock';
    const read = () => {
      let query = db.selectFrom('budget_settings').select(['daily_usd', 'monthly_usd', 'warn_at_percent']).where('id', '=', 1);
      if (lock && this.traits.skipLocked) query = query.forUpdate();
      return query.executeTakeFirst();
    };
    let row = await read();
    if (!row && lock) {
      await db
        .insertInto('budget_settings')
        .values({ id: 1, daily_usd: null, monthly_usd: null, warn_at_percent: DEFAULT_WARN_AT_PERCENT, updated_at: 0 })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      row = await read();
    }
    if (!row) return { dailyUsd: null, monthlyUsd: null, warnAtPercent: DEFAULT_WARN_AT_PERCENT };
    return { dailyUsd: numOrNull(row.daily_usd), monthlyUsd: numOrNull(row.monthly_usd), warnAtPercent: num(row.warn_at_percent) };
  }

  /** The alerts' lock (see the class): waited for, or only tried (false: another transaction holds it). Always true on SQLite. */
  private async alertsLock(trx: Transaction<Database>, mode: 'wait' | 'try'): Promise<boolean> {
    if (this.traits.name !== 'postgres') return true;
    if (mode === 'wait') {
      await sql`select pg_advisory_xact_lock(${sql.lit(ALERTS_LOCK_NAMESPACE)}, 1)`.execute(trx);
      return true;
    }
    const result = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(${sql.lit(ALERTS_LOCK_NAMESPACE)}, 1) as locked`.execute(trx);
    return result.rows[0]?.locked === true;
  }

  private async agentCaps(db: Kysely<Database>, ids: readonly string[]): Promise<AgentCaps[]> {
    if (ids.length === 0) return [];
    const rows = await db.selectFrom('agents').select(['id', 'name', 'daily_budget_usd', 'monthly_budget_usd']).where('id', 'in', ids).execute();
    return rows.map((r) => ({ id: r.id, name: r.name, dailyUsd: numOrNull(r.daily_budget_usd), monthlyUsd: numOrNull(r.monthly_budget_usd) }));
  }

  /** Adds ended runs' costs to the ledger: one row per agent and UTC day of the run's end, inserted or added to. */
  private async addToLedger(trx: Transaction<Database>, ended: readonly { agent_id: string; cost_usd: number; completed_at: number | null }[], now: number) {
    const sums = new Map<string, { agentId: string; day: number; costUsd: number }>();
    for (const run of ended) {
      const day = epochDay(numOrNull(run.completed_at) ?? now);
      const key = `${run.agent_id}\u0000${day}`;
      const entry = sums.get(key) ?? { agentId: run.agent_id, day, costUsd: 0 };
      entry.costUsd += num(run.cost_usd);
      sums.set(key, entry);
    }
    // In a fixed order, so that two transactions adding to the same rows lock them in the same order.
    const entries = [...sums.values()].sort((a, b) => (a.agentId === b.agentId ? a.day - b.day : a.agentId < b.agentId ? -1 : 1));
    for (const entry of entries) {
      await trx
        .insertInto('spend_daily')
        .values({ day: entry.day, agent_id: entry.agentId, cost_usd: entry.costUsd })
        .onConflict((oc) => oc.columns(['agent_id', 'day']).doUpdateSet({ cost_usd: sql<number>`spend_daily.cost_usd + excluded.cost_usd` }))
        .execute();
    }
  }

  /**
   * The spend of the deployment, and of `agentId` (zeros when null), in one statement: one
   * snapshot of the ledger and of the runs in progress. `exceptRunId`: the run being claimed.
   */
  private async figures(
    db: Kysely<Database>,
    agentId: string | null,
    exceptRunId: string | null,
    now: number,
  ): Promise<{ deployment: ScopeFigures; agent: ScopeFigures }> {
    const today = epochDay(now);
    const month = utcMonth(now);
    const first = epochDay(month.start);
    const end = epochDay(month.end);
    const notClaimed = exceptRunId === null ? sql`` : sql`and id <> ${exceptRunId}`;
    const result = await sql<FiguresRow>`
      select
        (select coalesce(sum(cost_usd), 0) from spend_daily where day = ${today}) as d_day,
        (select coalesce(sum(cost_usd), 0) from spend_daily where day >= ${first} and day < ${end}) as d_month,
        (select coalesce(sum(cost_usd), 0) from runs where ${ACTIVE} ${notClaimed}) as d_cost,
        (select coalesce(sum(${HELD}), 0) from runs where ${ACTIVE} ${notClaimed}) as d_held,
        (select coalesce(sum(cost_usd), 0) from spend_daily where agent_id = ${agentId} and day = ${today}) as a_day,
        (select coalesce(sum(cost_usd), 0) from spend_daily where agent_id = ${agentId} and day >= ${first} and day < ${end}) as a_month,
        (select coalesce(sum(cost_usd), 0) from runs where ${ACTIVE} and agent_id = ${agentId} ${notClaimed}) as a_cost,
        (select coalesce(sum(${HELD}), 0) from runs where ${ACTIVE} and agent_id = ${agentId} ${notClaimed}) as a_held
    `.execute(db);
    const row = result.rows[0];
    const n = (key: keyof FiguresRow) => (row ? num(row[key]) : 0);
    return {
      deployment: { dayUsd: n('d_day'), monthUsd: n('d_month'), accruedUsd: n('d_cost'), heldUsd: n('d_held') },
      agent: { dayUsd: n('a_day'), monthUsd: n('a_month'), accruedUsd: n('a_cost'), heldUsd: n('a_held') },
    };
  }

  /**
   * Records each alert level the caps' spent money has reached, once per cap and window (the
   * primary key of budget_alerts makes the insert the test), and emits an event for each new one.
   */
  private async announce(
    trx: Transaction<Database>,
    caps: readonly CapState[],
    warnAtPercent: number,
    agent: { id: string; name: string } | null,
    now: number,
  ) {
    const events: NewOutboxEvent[] = [];
    for (const cap of caps) {
      for (const level of alertLevels(cap, warnAtPercent)) {
        const scope = cap.scope === 'agent' && agent ? agent.id : 'deployment';
        const inserted = await trx
          .insertInto('budget_alerts')
          .values({ scope, cap: cap.window === 'day' ? 'daily' : 'monthly', window_start: cap.windowStart, level, created_at: now })
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) events.push(budgetEvent(level, cap, agent));
      }
    }
    return this.outbox.emit(trx, events, now);
  }
}

function hasCaps(settings: BudgetSettings): boolean {
  return settings.dailyUsd !== null || settings.monthlyUsd !== null;
}

/** The caps of a scope that are set, day first, with their windows' figures. */
function capsOf(scope: 'agent' | 'deployment', dailyUsd: number | null, monthlyUsd: number | null, figures: ScopeFigures, now: number): CapState[] {
  const active = { accruedUsd: figures.accruedUsd, heldUsd: figures.heldUsd };
  return [
    capState(scope, 'day', dailyUsd, now, { endedUsd: figures.dayUsd }, active),
    capState(scope, 'month', monthlyUsd, now, { endedUsd: figures.monthUsd }, active),
  ].filter((cap): cap is CapState => cap !== null);
}

function deploymentCaps(settings: BudgetSettings, figures: ScopeFigures, now: number): CapState[] {
  return capsOf('deployment', settings.dailyUsd, settings.monthlyUsd, figures, now);
}

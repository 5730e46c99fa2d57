import { randomUUID } from 'node:crypto';
import { newId } from '../domain/ids.js';
import { Migrator, sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { ConflictError } from '../domain/errors.js';
import { summarizeRuns, type DayStatusCount } from '../domain/stats.js';
import type {
  Agent,
  AgentFields,
  AgentStats,
  GlobalStats,
  Role,
  Run,
  RunOutcome,
  RunStatus,
  RunUsage,
  User,
} from '../domain/types.js';
import type { Database } from './database.js';
import { migrationProvider } from './migrations/index.js';
import { precompiled, type ReadNow } from './precompiled.js';
import type { SessionTables } from './session-tables.js';
import type { SessionHolder, UserCredentials } from './store.js';
import { num, numOrNull, toAgent, toRun, toTokenInfo, toUser, type AgentRow } from './rows.js';
import type {
  AgentUpdate,
  CancelResult,
  ClaimedRun,
  DueAgent,
  RunQuery,
  Store,
  TickClaim,
  TickResult,
  TokenHolder,
  TokenInfo,
} from './store.js';

/** What differs between the SQL dialects the store speaks. */
export interface DialectTraits {
  name: 'sqlite' | 'postgres';
  /** Whether `FOR UPDATE SKIP LOCKED` exists (PostgreSQL); SQLite serialises writers instead. */
  skipLocked: boolean;
  /** Runs the migrations under whatever lock the dialect needs when instances start together. */
  withMigrationLock?: <T>(db: Kysely<Database>, body: () => Promise<T>) => Promise<T>;
  /** Closes what the dialect opened besides the Kysely instance. */
  onClose?: () => Promise<void>;
  /** Cross-instance cancel signals; absent where one process owns the database. */
  cancelChannel?: CancelChannel;
  /** A synchronous path for the hottest point reads, where the dialect has one. */
  readNow?: ReadNow;
}

/** Carries "stop these runs" from the instance that was asked to the one executing them. */
export interface CancelChannel {
  publish(runIds: string[]): Promise<void>;
  subscribe(listener: (runIds: string[]) => void): Promise<() => Promise<void>>;
}

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * The predicate of the partial index `runs_active_idx`, as a literal: a planner can only prove a
 * query may use a partial index when the query repeats its predicate with the same constants
 * (a bound parameter would hide them, and turn the queue lookup into a scan of every run).
 */
const ACTIVE = sql<boolean>`status in ('queued', 'running')`;

function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  return (
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === '23505' ||
    (typeof e?.message === 'string' && /UNIQUE constraint failed/.test(e.message))
  );
}

/** The Store over Kysely, shared by the SQLite and PostgreSQL dialects. */
export class SqlStore implements Store {
  constructor(
    readonly db: Kysely<Database>,
    readonly traits: DialectTraits,
  ) {}

  async migrate(): Promise<void> {
    const run = async () => {
      // On PostgreSQL, Kysely's own tables live in the schema the service works in; otherwise it
      // could mistake another application's migration tables in another schema for its own.
      const schema = this.traits.name === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(this.db)).rows[0]?.s : undefined;
      const migrator = new Migrator({ db: this.db, provider: migrationProvider, ...(schema ? { migrationTableSchema: schema } : {}) });
      const { error, results } = await migrator.migrateToLatest();
      const failed = results?.find((r) => r.status === 'Error');
      if (error || failed) {
        const reason = error instanceof Error ? error.message : String(error ?? 'unknown error');
        throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
      }
    };
    await (this.traits.withMigrationLock ? this.traits.withMigrationLock(this.db, run) : run());
  }

  get dialect(): 'sqlite' | 'postgres' {
    return this.traits.name;
  }

  async notifyCancel(runIds: string[]): Promise<void> {
    if (runIds.length > 0) await this.traits.cancelChannel?.publish(runIds);
  }

  async onCancel(listener: (runIds: string[]) => void): Promise<() => Promise<void>> {
    return this.traits.cancelChannel ? this.traits.cancelChannel.subscribe(listener) : async () => {};
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.traits.onClose?.();
  }

  // ---------------------------------------------------------------- users and tokens

  async createUser(input: { name: string; role: Role; passwordHash?: string | null }, now: number): Promise<User> {
    const row = { id: randomUUID(), name: input.name, role: input.role, password_hash: input.passwordHash ?? null, created_at: now };
    try {
      await this.db.insertInto('users').values(row).execute();
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`a user named "${input.name}" already exists`);
      throw error;
    }
    return toUser(row);
  }

  async findUserByName(name: string): Promise<User | null> {
    const row = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('name').execute();
    return rows.map(toUser);
  }

  async countUsers(): Promise<number> {
    const row = await this.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    return num(row.n);
  }

  async createToken(
    input: { userId: string; label: string; tokenHash: string; prefix: string },
    now: number,
  ): Promise<TokenInfo> {
    const id = randomUUID();
    await this.db
      .insertInto('api_tokens')
      .values({ id, user_id: input.userId, label: input.label, token_hash: input.tokenHash, prefix: input.prefix, created_at: now, last_used_at: null, revoked_at: null })
      .execute();
    const token = await this.tokenQuery().where('t.id', '=', id).executeTakeFirstOrThrow();
    return toTokenInfo(token);
  }

  private tokenQuery() {
    return this.db
      .selectFrom('api_tokens as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select(['t.id', 't.user_id', 'u.name as user_name', 't.label', 't.prefix', 't.created_at', 't.last_used_at', 't.revoked_at']);
  }

  private readonly tokenHolderQuery = precompiled(1, (tokenHash) =>
    this.db
      .selectFrom('api_tokens as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select(['t.id as token_id', 't.token_hash', 't.last_used_at', 'u.id', 'u.name', 'u.role', 'u.created_at'])
      .where('t.token_hash', '=', tokenHash)
      .where('t.revoked_at', 'is', null),
    (executor, text, parameters) => this.traits.readNow?.(executor, text, parameters) ?? null,
  );

  async findTokenHolder(tokenHash: string): Promise<TokenHolder | null> {
    const row = (await this.tokenHolderQuery(this.db, tokenHash)).rows[0];
    if (!row) return null;
    return {
      tokenId: row.token_id,
      tokenHash: row.token_hash,
      lastUsedAt: numOrNull(row.last_used_at),
      user: { id: row.id, name: row.name, role: row.role as Role, createdAt: num(row.created_at) },
    };
  }

  async findTokenByHash(tokenHash: string): Promise<TokenInfo | null> {
    const row = await this.tokenQuery().where('t.token_hash', '=', tokenHash).executeTakeFirst();
    return row ? toTokenInfo(row) : null;
  }

  async touchToken(tokenId: string, now: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', tokenId).execute();
  }

  async revokeToken(tokenId: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('id', '=', tokenId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listTokens(): Promise<TokenInfo[]> {
    const rows = await this.tokenQuery().orderBy('t.created_at').orderBy('t.id').execute();
    return rows.map(toTokenInfo);
  }

  // ---------------------------------------------------------------- agents

  private agentQuery(db: Kysely<Database> | Transaction<Database> = this.db) {
    return db
      .selectFrom('agents as a')
      .leftJoin('users as u', 'u.id', 'a.creator_id')
      .selectAll('a')
      .select('u.name as creator_name')
      // The latest run's status and time in one index probe, as `status:epochMs` (one subquery
      // where two would walk the agent's runs index twice per agent).
      .select((eb) =>
        eb
          .selectFrom('runs as r')
          .select(sql<string | null>`r.status || ':' || coalesce(r.started_at, r.queued_at)`.as('latest'))
          .whereRef('r.agent_id', '=', 'a.id')
          .orderBy('r.queued_at', 'desc')
          .limit(1)
          .as('latest_run'),
      );
  }

  async listAgents(): Promise<Agent[]> {
    // Alphabetical as people read it: case does not split the list ("alpha" before "Zed"); ties
    // by byte order, the same on both databases whatever PostgreSQL's collation.
    const rows = await this.agentQuery()
      .orderBy(sql`lower(a.name)`)
      .orderBy(this.traits.name === 'postgres' ? sql`a.name collate "C"` : sql`a.name`)
      .orderBy('a.id')
      .execute();
    return rows.map((row) => toAgent(row as AgentRow));
  }

  async getAgent(id: string): Promise<Agent | null> {
    return this.getAgentIn(this.db, id);
  }

  private readonly agentByIdQuery = precompiled(
    1,
    (id) => this.agentQuery().where('a.id', '=', id),
    (executor, text, parameters) => this.traits.readNow?.(executor, text, parameters) ?? null,
  );

  private async getAgentIn(db: Kysely<Database> | Transaction<Database>, id: string): Promise<Agent | null> {
    const row = (await this.agentByIdQuery(db, id)).rows[0];
    return row ? toAgent(row as AgentRow) : null;
  }

  async createAgent(fields: AgentFields, creatorId: string | null, nextFireAt: number | null, now: number): Promise<Agent> {
    const id = newId(now);
    await this.db
      .insertInto('agents')
      .values({ id, ...agentColumns(fields), next_fire_at: nextFireAt, creator_id: creatorId, created_at: now, updated_at: now })
      .execute();
    const agent = await this.getAgent(id);
    if (!agent) throw new Error(`agent ${id} vanished right after it was created`);
    return agent;
  }

  async updateAgent(id: string, update: AgentUpdate, now: number): Promise<Agent | null> {
    return this.db.transaction().execute(async (trx) => {
      const current = await this.getAgentIn(trx, id);
      if (!current) return null;
      const { fields, nextFireAt } = update(current);
      await trx
        .updateTable('agents')
        .set({ ...agentColumns(fields), next_fire_at: nextFireAt, updated_at: Math.max(now, current.updatedAt) })
        .where('id', '=', id)
        .execute();
      return this.getAgentIn(trx, id);
    });
  }

  async deleteAgent(id: string): Promise<{ id: string; name: string } | null> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.lockAgent(trx, id);
      if (!row) return null;
      // The deleted rows themselves say what to take out of the totals: a run that finishes
      // concurrently is either deleted in its final state (and subtracted as such) or finds
      // its row gone (and adds nothing), never counted without a run behind it.
      const deleted = await trx
        .deleteFrom('runs')
        .where('agent_id', '=', id)
        .returning(['queued_at', 'status', 'cost_usd', 'duration_ms'])
        .execute();
      await this.subtractFromTotals(trx, deleted);
      await trx.deleteFrom('agents').where('id', '=', id).execute();
      return row;
    });
  }

  /**
   * Reads the agent, locking its row on PostgreSQL so that cancel and delete of one agent take
   * their locks in the same order (agent, then its runs) and never deadlock.
   */
  private async lockAgent(trx: Transaction<Database>, id: string): Promise<{ id: string; name: string } | undefined> {
    let query = trx.selectFrom('agents').select(['id', 'name']).where('id', '=', id);
    if (this.traits.skipLocked) query = query.forUpdate();
    return query.executeTakeFirst();
  }

  // ---------------------------------------------------------------- scheduling

  async earliestFireAt(): Promise<number | null> {
    const row = await this.db
      .selectFrom('agents')
      .select((eb) => eb.fn.min('next_fire_at').as('t'))
      .where('next_fire_at', 'is not', null)
      .executeTakeFirst();
    return numOrNull(row?.t as number | string | null | undefined);
  }

  async findDueAgents(now: number, limit: number): Promise<DueAgent[]> {
    const rows = await this.db
      .selectFrom('agents')
      .select(['id', 'schedule', 'timezone', 'next_fire_at'])
      .where('next_fire_at', 'is not', null)
      .where('next_fire_at', '<=', now)
      .orderBy('next_fire_at')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ id: r.id, schedule: r.schedule, timezone: r.timezone, nextFireAt: num(r.next_fire_at as number) }));
  }

  async claimTick(claim: TickClaim): Promise<TickResult> {
    const [result] = await this.claimTicks([claim]);
    return result!;
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
   */
  async claimTicks(claims: readonly TickClaim[]): Promise<TickResult[]> {
    if (claims.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const moves = sql.join(
        claims.map((c, i) =>
          i === 0
            ? sql`select ${c.agentId} as id, cast(${c.due} as bigint) as due, cast(${c.next} as bigint) as next`
            : sql`select ${c.agentId}, cast(${c.due} as bigint), cast(${c.next} as bigint)`,
        ),
        sql` union all `,
      );
      const ids = sql.join(claims.map((c) => sql`${c.agentId}`));
      const lockFree = this.traits.skipLocked
        ? sql`and agents.id in (select id from agents where id in (${ids}) for update skip locked)`
        : sql``;
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
        const rows = sql.join(
          toRun.map((c, i) =>
            i === 0
              ? sql`select ${c.runId} as id, ${c.agentId} as agent_id, cast(${c.slot} as bigint) as slot, cast(${c.now} as bigint) as queued_at`
              : sql`select ${c.runId}, ${c.agentId}, cast(${c.slot} as bigint), cast(${c.now} as bigint)`,
          ),
          sql` union all `,
        );
        // `select 1`: the agent's runs index answers the overlap check alone, reading no run row.
        const inserted = await sql<{ agent_id: string }>`
          insert into runs (id, agent_id, status, trigger, scheduled_for, queued_at)
          select v.id, v.agent_id, 'queued', 'schedule', v.slot, v.queued_at
          from (${rows}) as v
          where not exists (select 1 from runs where runs.agent_id = v.agent_id and runs.status in ('queued', 'running'))
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

  // ---------------------------------------------------------------- runs

  async enqueueManualRun(agentId: string, runId: string, now: number): Promise<Run | null> {
    const row = {
      id: runId,
      agent_id: agentId,
      status: 'queued',
      trigger: 'manual',
      scheduled_for: null,
      output: null,
      queued_at: now,
      started_at: null,
      completed_at: null,
      duration_ms: null,
      executor_id: null,
      lease_expires_at: null,
    };
    const inserted = await this.db
      .insertInto('runs')
      .columns(['id', 'agent_id', 'status', 'trigger', 'queued_at'])
      .expression((eb) =>
        eb
          .selectFrom('agents')
          .select([
            sql.val(runId).as('id'),
            'agents.id as agent_id',
            sql.val('queued').as('status'),
            sql.val('manual').as('trigger'),
            bigint(now).as('queued_at'),
          ])
          .where('agents.id', '=', agentId),
      )
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return null;
    return toRun({ ...row, cost_usd: 0, input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, num_turns: 0, cancel_requested: 0 });
  }

  async claimQueuedRun(executorId: string, now: number, leaseUntil: number): Promise<ClaimedRun | null> {
    return this.db.transaction().execute(async (trx) => {
      let oldest = trx
        .selectFrom('runs')
        .select('id')
        .where(ACTIVE)
        .where('status', '=', 'queued')
        .orderBy('queued_at')
        .orderBy('id')
        .limit(1);
      if (this.traits.skipLocked) oldest = oldest.forUpdate().skipLocked();
      const claimed = await trx
        .updateTable('runs')
        .set({ status: 'running', executor_id: executorId, started_at: now, lease_expires_at: leaseUntil })
        .where('id', '=', (eb) => eb.selectFrom(oldest.as('oldest')).select('oldest.id'))
        .where('status', '=', 'queued')
        .returningAll()
        .executeTakeFirst();
      if (!claimed) return null;
      const agent = await this.getAgentIn(trx, claimed.agent_id);
      if (!agent) throw new Error(`run ${claimed.id} claimed for a missing agent`);
      return { run: toRun(claimed), agent };
    });
  }

  async renewLeases(executorId: string, runIds: string[], leaseUntil: number): Promise<{ held: string[]; cancelRequested: string[] }> {
    if (runIds.length === 0) return { held: [], cancelRequested: [] };
    const rows = await this.db
      .updateTable('runs')
      .set({ lease_expires_at: leaseUntil })
      .where('id', 'in', runIds)
      .where('executor_id', '=', executorId)
      .where('status', '=', 'running')
      .returning(['id', 'cancel_requested'])
      .execute();
    return {
      held: rows.map((r) => r.id),
      cancelRequested: rows.filter((r) => num(r.cancel_requested) === 1).map((r) => r.id),
    };
  }

  async recordUsage(runId: string, executorId: string, usage: RunUsage): Promise<void> {
    await this.db
      .updateTable('runs')
      .set(usageColumns(usage))
      .where('id', '=', runId)
      .where('executor_id', '=', executorId)
      .where('status', '=', 'running')
      .execute();
  }

  async finishRun(runId: string, executorId: string, outcome: RunOutcome, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('runs')
        .set((eb) => ({
          status: outcome.status,
          output: outcome.output,
          ...usageColumns(outcome),
          completed_at: now,
          duration_ms: sql<number>`${now} - coalesce(${eb.ref('started_at')}, ${eb.ref('queued_at')})`,
          lease_expires_at: null,
        }))
        .where('id', '=', runId)
        .where('executor_id', '=', executorId)
        .where('status', '=', 'running')
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return false;
      await this.addToTotals(trx, sql<boolean>`id = ${runId}`);
      return true;
    });
  }

  async requestCancel(agentId: string, now: number): Promise<CancelResult> {
    return this.db.transaction().execute(async (trx) => {
      await this.lockAgent(trx, agentId);
      const queued = await trx
        .updateTable('runs')
        .set({ status: 'cancelled', output: 'Cancelled before it started', completed_at: now, duration_ms: 0 })
        .where('agent_id', '=', agentId)
        .where(ACTIVE)
        .where('status', '=', 'queued')
        .returning('id')
        .execute();
      await this.addRunsToTotals(trx, queued.map((r) => r.id));
      const running = await trx
        .updateTable('runs')
        .set({ cancel_requested: 1 })
        .where('agent_id', '=', agentId)
        .where(ACTIVE)
        .where('status', '=', 'running')
        .returning('id')
        .execute();
      return { cancelledQueued: queued.map((r) => r.id), runningIds: running.map((r) => r.id) };
    });
  }

  async endAbandonedRuns(now: number, options: { everything: boolean }): Promise<string[]> {
    return this.db.transaction().execute((trx) => this.endAbandonedRunsIn(trx, now, options));
  }

  private async endAbandonedRunsIn(trx: Transaction<Database>, now: number, options: { everything: boolean }): Promise<string[]> {
    let running = trx
      .updateTable('runs')
      .set((eb) => ({
        status: 'error',
        output: options.everything
          ? 'The service stopped during the run (it was restarted or crashed); the run did not finish.'
          : 'The run lost its executor: the instance running it stopped renewing its lease.',
        completed_at: now,
        duration_ms: sql<number>`${now} - coalesce(${eb.ref('started_at')}, ${eb.ref('queued_at')})`,
        lease_expires_at: null,
      }))
      .where(ACTIVE)
      .where('status', '=', 'running');
    if (!options.everything) running = running.where('lease_expires_at', '<', now);
    const ended = (await running.returning('id').execute()).map((r) => r.id);
    if (options.everything) {
      const queued = await trx
        .updateTable('runs')
        .set({
          status: 'error',
          output: 'The service stopped before the run could start (it was restarted or crashed).',
          completed_at: now,
          duration_ms: 0,
        })
        .where(ACTIVE)
        .where('status', '=', 'queued')
        .returning('id')
        .execute();
      ended.push(...queued.map((r) => r.id));
    }
    await this.addRunsToTotals(trx, ended);
    return ended;
  }

  async getRun(id: string): Promise<Run | null> {
    const row = await this.db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRun(row) : null;
  }

  async listRuns(agentId: string, query: RunQuery): Promise<Run[]> {
    let q = this.db.selectFrom('runs').selectAll().where('agent_id', '=', agentId);
    if (query.since !== null) q = q.where('queued_at', '>=', query.since);
    const rows = await q.orderBy('queued_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(toRun);
  }

  // ---------------------------------------------------------------- stats

  /** Per-day, per-status aggregates of the runs `where` selects, straight from the runs table. */
  private async dayStatusCounts(where: RawBuilder<boolean>): Promise<DayStatusCount[]> {
    const rows = await this.db
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
      status: r.status as RunStatus,
      count: num(r.count),
      costUsd: num(r.cost ?? 0),
      durationMs: num(r.duration as number),
    }));
  }

  /**
   * Adds the finished runs among those `where` selects to the hourly totals. Called in the
   * transaction that finishes them.
   */
  private async addToTotals(trx: Transaction<Database>, where: RawBuilder<boolean>): Promise<void> {
    await sql`
      insert into run_totals_hourly (hour, status, runs, cost_usd, duration_ms)
      select queued_at / ${sql.lit(HOUR_MS)}, status, count(*), sum(cost_usd), coalesce(sum(duration_ms), 0)
      from runs
      where ${where} and status not in ('queued', 'running')
      group by queued_at / ${sql.lit(HOUR_MS)}, status
      on conflict (hour, status) do update set
        runs = run_totals_hourly.runs + excluded.runs,
        cost_usd = run_totals_hourly.cost_usd + excluded.cost_usd,
        duration_ms = run_totals_hourly.duration_ms + excluded.duration_ms
    `.execute(trx);
  }

  /** Takes deleted runs out of the hourly totals (the finished ones; active runs are not in them). */
  private async subtractFromTotals(
    trx: Transaction<Database>,
    rows: { queued_at: number; status: string; cost_usd: number; duration_ms: number | null }[],
  ): Promise<void> {
    const deltas = new Map<string, { hour: number; status: string; runs: number; cost: number; duration: number }>();
    for (const row of rows) {
      if (row.status === 'queued' || row.status === 'running') continue;
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

  private async addRunsToTotals(trx: Transaction<Database>, runIds: string[]): Promise<void> {
    for (let i = 0; i < runIds.length; i += 500) {
      const chunk = runIds.slice(i, i + 500);
      await this.addToTotals(trx, sql<boolean>`id in (${sql.join(chunk)})`);
    }
  }

  /** Recomputes the hourly totals from the runs (after a bulk import that bypassed the store). */
  async rebuildRunTotals(): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('run_totals_hourly').execute();
      await this.addToTotals(trx, sql<boolean>`true`);
    });
  }

  /**
   * The global figures for [since, now]: whole hours from the hourly totals, the part of the
   * first hour before its end from the runs themselves, and the runs not finished yet from the
   * small index of active runs. Each run is counted by exactly one of the three.
   */
  private async globalDayStatusCounts(since: number): Promise<DayStatusCount[]> {
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
      this.dayStatusCounts(sql<boolean>`queued_at >= ${since} and queued_at < ${firstHour * HOUR_MS} and status not in ('queued', 'running')`),
      this.dayStatusCounts(sql<boolean>`status in ('queued', 'running') and queued_at >= ${since}`),
    ]);
    const fromHours = hours.map((r) => ({
      day: num(r.day),
      status: r.status as RunStatus,
      count: num(r.count),
      costUsd: num(r.cost ?? 0),
      durationMs: num(r.duration ?? 0),
    }));
    return [...fromHours, ...edge, ...active].filter((r) => r.count !== 0);
  }

  async agentStats(agentId: string, since: number, now: number): Promise<AgentStats> {
    const [rows, last] = await Promise.all([
      this.dayStatusCounts(sql<boolean>`agent_id = ${agentId} and queued_at >= ${since}`),
      this.db
        .selectFrom('runs')
        .select(sql<number | null>`coalesce(started_at, queued_at)`.as('t'))
        .where('agent_id', '=', agentId)
        .orderBy('queued_at', 'desc')
        .limit(1)
        .executeTakeFirst(),
    ]);
    const totals = summarizeRuns(rows, since, now);
    return {
      totalRuns: totals.totalRuns,
      successRate: totals.successRate,
      avgDurationMs: totals.avgDurationMs,
      totalCostUsd: totals.totalCostUsd,
      lastRunAt: numOrNull(last?.t),
      dailyRuns: totals.dailyRuns,
    };
  }

  async globalStats(since: number, now: number): Promise<GlobalStats> {
    const [rows, agents, running] = await Promise.all([
      this.globalDayStatusCounts(since),
      this.db
        .selectFrom('agents')
        .select((eb) => [eb.fn.countAll<number>().as('total'), eb.fn.sum<number>('enabled').as('active')])
        .executeTakeFirstOrThrow(),
      this.db
        .selectFrom('runs')
        .select('agent_id')
        .distinct()
        .where(ACTIVE)
        .where('status', '=', 'running')
        .orderBy('agent_id')
        .execute(),
    ]);
    const totals = summarizeRuns(rows, since, now);
    return {
      totalAgents: num(agents.total),
      activeAgents: num(agents.active ?? 0),
      runsInPeriod: totals.totalRuns,
      successRate: totals.successRate,
      totalCostUsd: totals.totalCostUsd,
      runningAgentIds: running.map((r) => r.agent_id),
      dailyRuns: totals.dailyRuns,
    };
  }

  // ---------------------------------------------------------------- Dashboard sessions and sign-in

  private sessionTablesDb: Kysely<Database & SessionTables> | null = null;

  /** The same database, typed with the tables of migration 0002. */
  private get sdb(): Kysely<Database & SessionTables> {
    this.sessionTablesDb ??= this.db.withTables<SessionTables>();
    return this.sessionTablesDb;
  }

  async findUserCredentials(name: string): Promise<UserCredentials | null> {
    const row = await this.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? { user: toUser(row), passwordHash: row.password_hash } : null;
  }

  async setUserPassword(userId: string, passwordHash: string | null): Promise<boolean> {
    return this.sdb.transaction().execute(async (trx) => {
      const updated = await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      // A new password signs the user out everywhere: whoever knew the old one loses access.
      await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
      return true;
    });
  }

  async createSession(session: { idHash: string; userId: string; expiresAt: number }, now: number): Promise<void> {
    await this.sdb
      .insertInto('sessions')
      .values({ id_hash: session.idHash, user_id: session.userId, created_at: now, last_seen_at: now, expires_at: session.expiresAt })
      .execute();
  }

  async findSession(idHash: string, now: number): Promise<SessionHolder | null> {
    const row = await this.sdb
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.id_hash', 's.created_at as session_created_at', 's.last_seen_at', 's.expires_at', 'u.id', 'u.name', 'u.role', 'u.created_at'])
      .where('s.id_hash', '=', idHash)
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    if (!row) return null;
    return {
      idHash: row.id_hash,
      user: { id: row.id, name: row.name, role: row.role as Role, createdAt: num(row.created_at) },
      createdAt: num(row.session_created_at),
      lastSeenAt: num(row.last_seen_at),
      expiresAt: num(row.expires_at),
    };
  }

  async touchSession(idHash: string, now: number, expiresAt: number): Promise<void> {
    await this.sdb.updateTable('sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
  }

  async deleteSession(idHash: string): Promise<boolean> {
    const result = await this.sdb.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    const result = await this.sdb.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async recordSignInFailure(subjects: string[], now: number, forgetBefore: number): Promise<void> {
    await this.sdb.transaction().execute(async (trx) => {
      await trx.deleteFrom('sign_in_failures').where('failed_at', '<', forgetBefore).execute();
      if (subjects.length === 0) return;
      await trx
        .insertInto('sign_in_failures')
        .values(subjects.map((subject) => ({ id: randomUUID(), subject, failed_at: now })))
        .execute();
    });
  }

  async signInFailures(subjects: string[], since: number): Promise<Map<string, number[]>> {
    const failures = new Map<string, number[]>();
    if (subjects.length === 0) return failures;
    const rows = await this.sdb
      .selectFrom('sign_in_failures')
      .select(['subject', 'failed_at'])
      .where('subject', 'in', subjects)
      .where('failed_at', '>=', since)
      .orderBy('failed_at')
      .execute();
    for (const row of rows) {
      const times = failures.get(row.subject) ?? [];
      times.push(num(row.failed_at));
      failures.set(row.subject, times);
    }
    return failures;
  }

  async clearSignInFailures(subject: string): Promise<void> {
    await this.sdb.deleteFrom('sign_in_failures').where('subject', '=', subject).execute();
  }
}

/** A parameter typed for a BIGINT column (PostgreSQL types untyped SELECT parameters as text). */
function bigint(value: number) {
  return sql<number>`cast(${value} as bigint)`;
}

function agentColumns(fields: AgentFields) {
  return {
    name: fields.name,
    description: fields.description,
    schedule: fields.schedule,
    timezone: fields.timezone,
    prompt: fields.prompt,
    enabled: fields.enabled ? 1 : 0,
    max_turns: fields.maxTurns,
    max_budget_usd: fields.maxBudgetUsd,
    model: fields.model,
    allowed_tools: JSON.stringify(fields.allowedTools),
  };
}

function usageColumns(usage: RunUsage) {
  return {
    cost_usd: usage.costUsd,
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_input_tokens: usage.cacheReadInputTokens,
    cache_creation_input_tokens: usage.cacheCreationInputTokens,
    num_turns: usage.numTurns,
  };
}

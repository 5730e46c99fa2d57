import { sql, type Transaction } from 'kysely';
import type { RunTrigger } from '../../domain/types.js';
import { bigint, num, numOrNull } from '../dialect.js';
import type { Database } from '../schema.js';
import type { SqlOutbox } from './outbox.js';
import type { SqlRunTotals } from './run-totals.js';
import { valuesList } from './values-list.js';

/** Agent ids per statement when reading open rows (well under every dialect's parameter limit). */
const IDS_PER_STATEMENT = 500;
/** Rows per insert or update statement. */
const ROWS_PER_STATEMENT = 100;

/** A skipped row's output for all the slots it stands for (recomputed each time slots are added). */
export type SkipOutput = (slots: number, firstSlot: number | null, lastSlot: number | null) => string;

/** Slots that did not run, to record as a skipped row or to add to the open row of their cause. */
export interface NewSkip {
  /** The id of the row, if one is written. */
  id: string;
  agentId: string;
  /** The coalescing key (skip-reasons.ts); null: a row of its own that nothing coalesces into. */
  cause: string | null;
  trigger: RunTrigger;
  /** How many slots, the first and the last (null for a run that had no slot). */
  slots: number;
  firstSlot: number | null;
  lastSlot: number | null;
  output: SkipOutput;
}

/** What recording skips did: rows written, rows added to; and the deliveries their events made (see SqlOutbox.emit). */
export interface SkipsRecorded {
  created: string[];
  coalesced: string[];
  deliveries: number;
}

/** An open row of a cause, as coalescing reads it. */
interface OpenRow {
  id: string;
  agentId: string;
  cause: string;
  slots: number;
  firstSlot: number | null;
  lastSlot: number | null;
}

/**
 * Skipped runs (issue 11): one row per cause and agent while the cause stays open, its
 * `skipped_slots` counting the slots (skip-reasons.ts has the causes). A row is a finished run
 * from the moment it is written: it enters the totals ledger and emits `run.skipped` then, once;
 * slots added to it later change neither.
 */
export class SqlSkips {
  constructor(
    private readonly totals: SqlRunTotals,
    private readonly outbox: SqlOutbox,
  ) {}

  /** Records `skips` in `trx`: each adds to the agent's open row of its cause, or becomes a new row. */
  async recordSkips(trx: Transaction<Database>, skips: readonly NewSkip[], now: number): Promise<SkipsRecorded> {
    if (skips.length === 0) return { created: [], coalesced: [], deliveries: 0 };
    const open = await this.openRows(
      trx,
      skips.filter((s) => s.cause !== null),
    );
    const additions = new Map<string, { row: OpenRow; skip: NewSkip; slots: number; last: number | null }>();
    const fresh: NewSkip[] = [];
    for (const skip of skips) {
      const row = skip.cause === null ? undefined : open.get(openKey(skip.agentId, skip.cause));
      if (!row) {
        fresh.push(skip);
        continue;
      }
      const added = additions.get(row.id) ?? { row, skip, slots: 0, last: row.lastSlot };
      added.slots += skip.slots;
      added.last = maxOrNull(added.last, skip.lastSlot);
      additions.set(row.id, added);
    }
    const coalesced = [...additions.values()].map(({ row, skip, slots, last }) => ({
      id: row.id,
      slots,
      last,
      output: skip.output(row.slots + slots, row.firstSlot, last),
    }));
    await this.addToRows(trx, coalesced, now);
    const created = await this.insertRows(trx, fresh, now);
    await this.totals.addEndedRuns(trx, created);
    const deliveries = await this.outbox.emitRunsEnded(trx, created, now);
    return { created, coalesced: coalesced.map((c) => c.id), deliveries };
  }

  /**
   * A queued (or just claimed) run that will not run after all (a spend cap, a slot gone stale
   * during downtime): added to the open row of `cause` and deleted (it never ran, nor entered the
   * ledger), or, without one, made the skipped row itself.
   */
  async skipQueuedRun(
    trx: Transaction<Database>,
    run: { id: string; agentId: string; scheduledFor: number | null },
    cause: string | null,
    output: SkipOutput,
    now: number,
  ): Promise<SkipsRecorded> {
    const row = cause === null ? undefined : (await this.openRows(trx, [{ agentId: run.agentId, cause }], run.id)).get(openKey(run.agentId, cause));
    if (row) {
      const last = maxOrNull(row.lastSlot, run.scheduledFor);
      await this.addToRows(trx, [{ id: row.id, slots: 1, last, output: output(row.slots + 1, row.firstSlot, last) }], now);
      await trx.deleteFrom('runs').where('id', '=', run.id).execute();
      return { created: [], coalesced: [row.id], deliveries: 0 };
    }
    await trx
      .updateTable('runs')
      .set({
        status: 'skipped',
        output: output(1, run.scheduledFor, run.scheduledFor),
        executor_id: null,
        started_at: null,
        lease_expires_at: null,
        completed_at: now,
        duration_ms: 0,
        reserved_usd: 0,
        skipped_slots: 1,
        last_skipped_for: run.scheduledFor,
        skip_cause: cause,
      })
      .where('id', '=', run.id)
      .execute();
    await this.totals.addEndedRun(trx, run.id);
    const deliveries = await this.outbox.emitRunsEnded(trx, [run.id], now);
    return { created: [run.id], coalesced: [], deliveries };
  }

  /** Closes the agent's open causes (a run of it is starting), but `keep` (the overlap cause naming that run). */
  async closeCauses(trx: Transaction<Database>, agentId: string, keep: string): Promise<void> {
    await trx
      .updateTable('runs')
      .set({ skip_cause: null })
      .where('agent_id', '=', agentId)
      .where('skip_cause', 'is not', null)
      .where('skip_cause', '<>', keep)
      .execute();
  }

  /** The open rows of these agents' causes, by agent and cause (leaving out the row `exceptId`). */
  private async openRows(
    trx: Transaction<Database>,
    wanted: readonly { agentId: string; cause: string | null }[],
    exceptId?: string,
  ): Promise<Map<string, OpenRow>> {
    const rows = new Map<string, OpenRow>();
    const causes = new Set(wanted.map((w) => openKey(w.agentId, w.cause ?? '')));
    const agentIds = [...new Set(wanted.map((w) => w.agentId))];
    for (let i = 0; i < agentIds.length; i += IDS_PER_STATEMENT) {
      // runs_skip_cause_idx (agent_id, skip_cause) where skip_cause is not null: open rows only.
      let query = trx
        .selectFrom('runs')
        .select(['id', 'agent_id', 'skip_cause', 'skipped_slots', 'scheduled_for', 'last_skipped_for'])
        .where('agent_id', 'in', agentIds.slice(i, i + IDS_PER_STATEMENT))
        .where('skip_cause', 'is not', null)
        .where('status', '=', 'skipped');
      if (exceptId !== undefined) query = query.where('id', '<>', exceptId);
      for (const row of await query.orderBy('queued_at').execute()) {
        const key = openKey(row.agent_id, row.skip_cause ?? '');
        if (!causes.has(key) || rows.has(key)) continue;
        rows.set(key, {
          id: row.id,
          agentId: row.agent_id,
          cause: row.skip_cause ?? '',
          slots: numOrNull(row.skipped_slots) ?? 1,
          firstSlot: numOrNull(row.scheduled_for),
          lastSlot: numOrNull(row.last_skipped_for),
        });
      }
    }
    return rows;
  }

  /** Adds slots to open rows: their count, their last slot, their output, and `completed_at` (the latest skip). */
  private async addToRows(
    trx: Transaction<Database>,
    rows: readonly { id: string; slots: number; last: number | null; output: string }[],
    now: number,
  ): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      const values = valuesList(
        rows.slice(i, i + ROWS_PER_STATEMENT).map((r) => ({ id: r.id, added: sql`cast(${r.slots} as integer)`, last: bigint(r.last), output: r.output })),
      );
      await sql`
        update runs set
          skipped_slots = coalesce(runs.skipped_slots, 1) + v.added,
          last_skipped_for = v.last,
          output = v.output,
          completed_at = ${bigint(now)}
        from (${values}) as v
        where runs.id = v.id
      `.execute(trx);
    }
  }

  /** Writes new skipped rows; returns the ids written (a slot that already has a row keeps it). */
  private async insertRows(trx: Transaction<Database>, skips: readonly NewSkip[], now: number): Promise<string[]> {
    const created: string[] = [];
    for (let i = 0; i < skips.length; i += ROWS_PER_STATEMENT) {
      const values = valuesList(
        skips.slice(i, i + ROWS_PER_STATEMENT).map((s) => ({
          id: s.id,
          agent_id: s.agentId,
          trigger: s.trigger,
          slot: bigint(s.firstSlot),
          last: bigint(s.lastSlot),
          slots: sql`cast(${s.slots} as integer)`,
          cause: s.cause,
          output: s.output(s.slots, s.firstSlot, s.lastSlot),
        })),
      );
      // `where true`: SQLite needs a WHERE in an INSERT ... SELECT with ON CONFLICT.
      const inserted = await sql<{ id: string }>`
        insert into runs (id, agent_id, status, trigger, scheduled_for, queued_at, completed_at, duration_ms, output, skipped_slots, last_skipped_for, skip_cause, agent_version)
        select v.id, v.agent_id, 'skipped', v.trigger, v.slot, ${bigint(now)}, ${bigint(now)}, 0, v.output, v.slots, v.last, v.cause,
          (select a.version from agents a where a.id = v.agent_id)
        from (${values}) as v
        where true
        on conflict (agent_id, scheduled_for) do nothing
        returning id
      `.execute(trx);
      created.push(...inserted.rows.map((r) => r.id));
    }
    return created;
  }
}

function openKey(agentId: string, cause: string): string {
  return `${agentId}\u0000${cause}`;
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(num(a), num(b));
}

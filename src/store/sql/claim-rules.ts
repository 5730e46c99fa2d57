import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { RunTrigger } from '../../domain/types.js';
import { numOrNull, type DialectTraits } from '../dialect.js';
import type { Database } from '../schema.js';
import { ACTIVE } from './predicates.js';

/**
 * Which queued run a claim may start (issue 11), as SQL over the `runs` table of the claim:
 * - a retry not before its `not_before`;
 * - a scheduled run or a retry not while another run of its agent is running, unless the agent's
 *   overlapPolicy is `allow` (overlapPolicy queue and replace queue a slot's run behind the
 *   running one: this is where it waits). Manual runs are never held back.
 * The running-run probe repeats the active-run predicate so that it can use runs_active_idx.
 */
export function mayStart(now: number): RawBuilder<boolean> {
  return sql<boolean>`(runs.not_before is null or runs.not_before <= ${now})
    and not (
      runs.trigger in ('schedule', 'retry')
      and exists (select 1 from runs other where other.agent_id = runs.agent_id and other.status in ('queued', 'running') and other.status = 'running')
      and (select a.overlap_policy from agents a where a.id = runs.agent_id) <> 'allow'
    )`;
}

/** Advisory-lock namespace of the per-agent claim lock (two 32-bit keys: never the migrations' 64-bit key). */
const CLAIM_LOCK_NAMESPACE = 0x0c1a;

/**
 * The oldest queued run that may start, locked for this claim (PostgreSQL: rows other claimers
 * hold are passed over). On PostgreSQL the claim then takes its agent's transaction-scoped lock,
 * so two instances cannot both start a held-back run of one agent: the claim's update repeats
 * mayStart() after the lock, and sees the other's running run once it committed.
 */
export async function claimCandidate(trx: Transaction<Database>, traits: DialectTraits, now: number): Promise<ClaimCandidate | null> {
  let oldest = trx
    .selectFrom('runs')
    .select(['id', 'agent_id', 'trigger', 'scheduled_for'])
    .where(ACTIVE)
    .where('status', '=', 'queued')
    .where(mayStart(now))
    .orderBy('queued_at')
    .orderBy('id')
    .limit(1);
  if (traits.skipLocked) oldest = oldest.forUpdate().skipLocked();
  const candidate = await oldest.executeTakeFirst();
  if (!candidate) return null;
  if (traits.name === 'postgres') await sql`select pg_advisory_xact_lock(${sql.lit(CLAIM_LOCK_NAMESPACE)}, hashtext(${candidate.agent_id}))`.execute(trx);
  return { id: candidate.id, agentId: candidate.agent_id, trigger: candidate.trigger, scheduledFor: numOrNull(candidate.scheduled_for) };
}

/** The queued run a claim is about to start, locked for it. */
export interface ClaimCandidate {
  id: string;
  agentId: string;
  trigger: RunTrigger;
  scheduledFor: number | null;
}

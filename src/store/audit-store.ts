import type { AgentVersion, AgentVersionQuery } from '../domain/agent-versions.js';
import type { AuditEntry, AuditQuery, NewAuditEntry } from '../domain/audit.js';

/**
 * The Store's part for the audit trail and agents' versions (store.ts composes it into the Store).
 *
 * Entries are written by the changes themselves: a store method that changes something takes its
 * entry as an optional last parameter (`audit`, or `by` for agents, whose entries the store
 * builds from the change) and writes it in the change's transaction, only when the change
 * happened (a delete of nothing, a revoke of a revoked token, a cancel with nothing to cancel
 * record nothing). Where the store makes an id (a user's, a token's) the entry's targetId is it;
 * a manual run's entry gets its runId, a cancel's the runs it cancelled. Agents' creates and
 * updates also write their versions (sql/agent-versions.ts): version 1 with the agent, the next
 * one when a versioned field changes, whoever (or nothing) made the change.
 */

/** sql/audit.ts; `recordAudit` is for a change made otherwise, right after it. */
export interface AuditStore {
  recordAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first (by time, then id), filtered as `query` says. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;
  /** Deletes up to `limit` of the oldest entries made before `before`; returns how many. */
  pruneAuditBatch(before: number, limit: number): Promise<number>;
}

/** sql/agent-versions.ts: agents' versions, written by the agents' changes themselves. */
export interface AgentVersionsStore {
  /** The agent's versions, newest first (none for an unknown agent). */
  listAgentVersions(agentId: string, query: AgentVersionQuery): Promise<AgentVersion[]>;
}

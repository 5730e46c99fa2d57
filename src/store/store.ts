/**
 * store/: the only place with SQL. This file is the Store interface, one part per aggregate;
 * the SQL behind each part is in sql/<aggregate>.ts, composed into one store by sql/sql-store.ts.
 *
 * - A tick is claimed in sql/ticks.ts (compare-and-set on `next_fire_at`, then the run insert).
 * - A queued run is claimed, its lease renewed and the run ended in sql/runs.ts; which run may
 *   start is sql/claim-rules.ts, what follows a run's end (retries, pauses) sql/run-endings.ts,
 *   and skipped runs, coalesced by cause, sql/skips.ts.
 * - The hourly totals ledger, every rule of it, is kept in sql/run-totals.ts.
 * - "Active" and "finished" run, as SQL, are defined once in sql/predicates.ts.
 * - A run's transcript is appended and listed in sql/run-events.ts.
 * - An agent's secrets are in sql/secrets.ts, only ever encrypted (the services hold the key).
 * - Retention's deletes (small batches) and the named leases are in sql/retention.ts.
 * - Webhooks are in sql/webhooks.ts; the outbox (events written with their cause, one delivery
 *   per webhook) in sql/outbox.ts; the senders' claims and attempts in sql/delivery-claims.ts;
 *   their part of the interface is webhooks-store.ts.
 * - The spend caps (settings, the spend ledger, reservations, alerts) are in sql/budgets.ts.
 * - The audit trail and agents' versions (sql/audit.ts, sql/agent-versions.ts): audit-store.ts.
 * - The tables are typed in schema.ts; what differs between SQLite and PostgreSQL is named in
 *   dialect.ts and supplied by sqlite/ and postgres/; open-store.ts picks one. migrations/ only
 *   ever gains files.
 */
import type { EncodedRunEvent, RunEvent } from '../domain/run-events.js';
import type { AgentCursor } from '../domain/agent-cursor.js';
import type { AuditActor, NewAuditEntry } from '../domain/audit.js';
import type { AgentVersionsStore, AuditStore } from './audit-store.js';
import type { MissedSlots } from '../domain/skip-reasons.js';
import type { DeliveryClaimsStore, OutboxStore, WebhooksStore } from './webhooks-store.js';
import type { ForecastStore } from './forecast-store.js';
import type { BudgetsStore } from './budgets-store.js';
import type { Agent, AgentFields, AgentStats, GlobalStats, Role, Run, RunOutcome, RunUsage, SpendSummary, User } from '../domain/types.js';

export type * from './webhooks-store.js';
export type * from './audit-store.js';
export type * from './budgets-store.js';

/** An API token as listed (never its secret). */
export interface TokenInfo {
  id: string;
  userId: string;
  userName: string;
  label: string;
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** A token to store: only its hash and display prefix. */
export interface NewToken {
  userId: string;
  label: string;
  tokenHash: string;
  prefix: string;
  /** Registered from CRON_AGENTS_ADMIN_TOKEN: a start with another value of it revokes this one. */
  fromEnv?: boolean;
}

/** The holder of a valid token, as authentication needs it. */
export interface TokenHolder {
  tokenId: string;
  tokenHash: string;
  lastUsedAt: number | null;
  user: User;
}

/** A user and their password hash, as sign-in needs it. */
export interface UserCredentials {
  user: User;
  passwordHash: string | null;
}

/** A live dashboard session and its user. */
export interface SessionHolder {
  idHash: string;
  user: User;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

/** An agent that has come due, as the scheduler needs it. */
export interface DueAgent {
  id: string;
  schedule: string;
  timezone: string;
  nextFireAt: number;
}

/** One tick to claim: move the agent from slot `due` to `next`, and maybe fire `slot`. */
export interface TickClaim {
  agentId: string;
  due: number;
  next: number | null;
  /** The slot to run, or null when the missed slots are all outside the catch-up window. */
  slot: number | null;
  runId: string;
  now: number;
  /** Slots that will not run (downtime): one skipped row per agent and outage (skip-reasons.ts). */
  missed?: MissedTickSlots | null;
}

/** A tick's missed slots; `since` (the scheduler's start) keys the outage, `skipId` names a new row. */
export interface MissedTickSlots extends MissedSlots {
  since: number;
  skipId: string;
  catchupWindowMs: number;
}

/**
 * fired: a run was queued for the slot. skipped: the tick was claimed but no run was queued
 * (the overlap policy, or nothing recent enough to catch up; a skipped run says why). lost: another
 * claimer (instance, or an edit of the agent) moved the agent first.
 */
export type TickResult = 'fired' | 'skipped_overlap' | 'skipped_stale' | 'lost';

/** everything: all running runs, else those whose lease expired. staleSlotsBefore: with everything, older queued slots become skipped. */
export interface AbandonedRunsOptions {
  everything: boolean;
  staleSlotsBefore?: number;
  catchupWindowMs?: number;
}

/** A run claimed for execution, with the agent's settings as they are at this moment. */
export interface ClaimedRun {
  run: Run;
  agent: Agent;
  /** The SDK's maxBudgetUsd for this run: the agent's per-run limit, lowered to what is left under the spend caps. */
  maxBudgetUsd: number | null;
}

export interface CancelResult {
  /** Queued runs ended as cancelled at once. */
  cancelledQueued: string[];
  /** Running runs flagged for cancel; their executors stop them. */
  runningIds: string[];
}

export interface RunQuery {
  limit: number;
  since: number | null;
}

/** The creator of a new agent already has `agents` of them, the most they may have; nothing was written. */
export class AgentCapReached extends Error {
  constructor(readonly agents: number) {
    super(`the creator already has ${agents} agents`);
  }
}

/** A page of the agents list: at most `limit` agents after `after` (null: from the start). */
export interface AgentsPage {
  limit: number;
  after: AgentCursor | null;
}

/** How the next scheduled run is derived when an agent changes. */
export type AgentUpdate = (current: Agent) => { fields: AgentFields; nextFireAt: number | null };

/**
 * The only door to the database. Every method is one transaction or one atomic statement, so
 * several service instances can share one database.
 */
export type Store = DatabaseStore &
  UsersTokensStore &
  SessionsStore &
  AgentsStore &
  SecretsStore &
  TicksStore &
  RunsStore &
  RunEventsStore &
  StatsStore &
  DeploymentCountsStore &
  RetentionStore &
  WebhooksStore &
  OutboxStore &
  DeliveryClaimsStore &
  AuditStore &
  AgentVersionsStore &
  ForecastStore &
  BudgetsStore;

/** The migrations a database has applied, those this version would apply, and any it does not know. */
export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Applied by a newer cron-agents: this version refuses to migrate (or serve) such a database. */
  unknown: string[];
}

/** The database itself, and the signals instances send each other through it. */
export interface DatabaseStore {
  /** 'sqlite' belongs to one process; 'postgres' may be shared by several instances. */
  readonly dialect: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  /** What `migrate` would apply, read without changing anything (`migrate --dry-run`). */
  migrationStatus(): Promise<MigrationStatus>;
  /** Cheap round trip for the health check. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Asks whichever instance executes these runs to stop them now (the heartbeat is the fallback). */
  notifyCancel(runIds: string[]): Promise<void>;
  /** Calls `listener` with the run ids any instance asked to stop; resolves to an unsubscribe. */
  onCancel(listener: (runIds: string[]) => void): Promise<() => Promise<void>>;
}

/** sql/users-tokens.ts */
export interface UsersTokensStore {
  createUser(input: { name: string; role: Role; passwordHash?: string | null }, now: number, audit?: NewAuditEntry): Promise<User>;
  findUserByName(name: string): Promise<User | null>;
  /** Names compare without case (findUserByName too). A user with the password hash sign-in checks (null hash: the user has no password). */
  findUserCredentials(name: string): Promise<UserCredentials | null>;
  /** Sets (or, with null, removes) a user's password and ends all their sessions; false for an unknown user. */
  setUserPassword(userId: string, passwordHash: string | null, audit?: NewAuditEntry): Promise<boolean>;
  listUsers(): Promise<User[]>;
  countUsers(): Promise<number>;
  createToken(input: NewToken, now: number, audit?: NewAuditEntry): Promise<TokenInfo>;
  findTokenHolder(tokenHash: string): Promise<TokenHolder | null>;
  findTokenByHash(tokenHash: string): Promise<TokenInfo | null>;
  touchToken(tokenId: string, now: number): Promise<void>;
  revokeToken(tokenId: string, now: number, audit?: NewAuditEntry): Promise<boolean>;
  /** Marks a token as the one CRON_AGENTS_ADMIN_TOKEN holds (tokens registered before migration 0007 may lack the mark). */
  markEnvToken(tokenId: string): Promise<void>;
  /**
   * Revokes the active tokens of earlier values of CRON_AGENTS_ADMIN_TOKEN: every env token but
   * `current` made no later than it (a later one is a newer value, set on another instance).
   * Returns their ids.
   */
  revokeEarlierEnvTokens(current: { id: string; createdAt: number }, now: number): Promise<string[]>;
  listTokens(): Promise<TokenInfo[]>;
}

/** sql/sessions.ts: dashboard sessions and sign-in rate limiting. */
export interface SessionsStore {
  createSession(session: { idHash: string; userId: string; expiresAt: number }, now: number, audit?: NewAuditEntry): Promise<void>;
  /** The session with this id hash and its user, unless it has expired. */
  findSession(idHash: string, now: number): Promise<SessionHolder | null>;
  /** Records use of a session and slides its expiry. */
  touchSession(idHash: string, now: number, expiresAt: number): Promise<void>;
  /** Ends a session (sign-out); false when there was none. */
  deleteSession(idHash: string): Promise<boolean>;
  /** Removes expired sessions; returns how many. */
  deleteExpiredSessions(now: number): Promise<number>;
  /** Records one failed sign-in under each subject, and forgets failures older than `forgetBefore`. */
  recordSignInFailure(subjects: string[], now: number, forgetBefore: number, audit?: NewAuditEntry): Promise<void>;
  /** Times of the failed sign-ins since `since`, per subject, oldest first (subjects without any are absent). */
  signInFailures(subjects: string[], since: number): Promise<Map<string, number[]>>;
  clearSignInFailures(subject: string): Promise<void>;
}

/** sql/agents.ts */
export interface AgentsStore {
  /** Every agent, by name; or, with `page`, at most `limit` of them after the cursor. */
  listAgents(page?: AgentsPage): Promise<Agent[]>;
  getAgent(id: string): Promise<Agent | null>;
  /** With `maxAgentsOfCreator`, an AgentCapReached when the creator already has that many. Versions and `by`'s entries: audit-store.ts. */
  createAgent(
    fields: AgentFields,
    creatorId: string | null,
    nextFireAt: number | null,
    now: number,
    maxAgentsOfCreator?: number,
    by?: AuditActor,
  ): Promise<Agent>;
  /** Reads, merges through `update` and writes in one transaction; null when the agent is gone. */
  updateAgent(id: string, update: AgentUpdate, now: number, by?: AuditActor): Promise<Agent | null>;
  /** Hard delete; the agent's runs go with it. */
  deleteAgent(id: string, audit?: { by: AuditActor; at: number }): Promise<{ id: string; name: string } | null>;
}

/** A secret as listed: never its value. */
export interface SecretInfo {
  name: string;
  updatedAt: number;
}

/** A secret as stored: its value encrypted by the services (the store never sees a plain value). */
export interface EncryptedSecret {
  name: string;
  encryptedValue: string;
}

/** sql/secrets.ts: per-agent secrets; they go when their agent goes. */
export interface SecretsStore {
  /** The agent's secrets by name (byte order), without values. */
  listSecrets(agentId: string): Promise<SecretInfo[]>;
  /** The agent's secrets as stored, for a run. */
  readSecrets(agentId: string): Promise<EncryptedSecret[]>;
  /** Sets or replaces one secret; null when the agent does not exist. */
  putSecret(agentId: string, secret: EncryptedSecret, now: number, audit?: NewAuditEntry): Promise<SecretInfo | null>;
  /** False when the agent had no such secret. */
  deleteSecret(agentId: string, name: string, audit?: NewAuditEntry): Promise<boolean>;
}

/** sql/ticks.ts: the scheduler's side. */
export interface TicksStore {
  /** The earliest `next_fire_at` of any enabled agent. */
  earliestFireAt(): Promise<number | null>;
  findDueAgents(now: number, limit: number): Promise<DueAgent[]>;
  claimTick(claim: TickClaim): Promise<TickResult>;
  /** Claims ticks in one transaction, a result per claim; `onCancelRequested` hears of runs overlapPolicy replace stops. */
  claimTicks(claims: readonly TickClaim[], queuedAt?: () => number, onCancelRequested?: (runIds: string[]) => void): Promise<TickResult[]>;
}

/** sql/runs.ts: the executor's side, and the API's. */
export interface RunsStore {
  enqueueManualRun(agentId: string, runId: string, now: number, audit?: NewAuditEntry): Promise<Run | null>;
  /** Claims the oldest queued run for `executorId`, atomically, or null when none waits. */
  claimQueuedRun(executorId: string, now: number, leaseUntil: number): Promise<ClaimedRun | null>;
  /** Renews the leases this executor holds; returns the runs it still holds and which of them were asked to stop. */
  renewLeases(executorId: string, runIds: string[], leaseUntil: number): Promise<{ held: string[]; cancelRequested: string[] }>;
  recordUsage(runId: string, executorId: string, usage: RunUsage): Promise<void>;
  /** Ends a run this executor holds; false when it no longer holds it (fencing). */
  finishRun(runId: string, executorId: string, outcome: RunOutcome, now: number): Promise<boolean>;
  /** Ends queued runs of the agent as cancelled and flags its running ones. */
  requestCancel(agentId: string, now: number, audit?: NewAuditEntry): Promise<CancelResult>;
  /**
   * Ends as error the runs no executor will finish (retried as maxRetries allows): with `everything`, all
   * running runs (start-up of the embedded database); otherwise those whose lease expired. Returns the ids it ended or skipped.
   */
  endAbandonedRuns(now: number, options: AbandonedRunsOptions): Promise<string[]>;
  getRun(id: string): Promise<Run | null>;
  listRuns(agentId: string, query: RunQuery): Promise<Run[]>;
}

/** Which events of a run to list: those after `after` (a seq; 0 for all), oldest first, at most `limit`. */
export interface RunEventQuery {
  after: number;
  limit: number;
}

/** sql/run-events.ts: each run's transcript, written by its executor, read by the API. */
export interface RunEventsStore {
  /**
   * Appends events of a run this executor holds, in one statement; false, and nothing written,
   * when it no longer holds the run (fenced like recordUsage: ended, deleted or taken over).
   */
  appendRunEvents(runId: string, executorId: string, events: readonly EncodedRunEvent[]): Promise<boolean>;
  /** The run's events after `query.after`, oldest first (an unknown run has none). */
  listRunEvents(runId: string, query: RunEventQuery): Promise<RunEvent[]>;
}

/** sql/stats.ts, over the totals ledger of sql/run-totals.ts. */
export interface StatsStore {
  agentStats(agentId: string, since: number, now: number): Promise<AgentStats>;
  globalStats(since: number, now: number): Promise<GlobalStats>;
  /** Recomputes the global hourly totals from the runs (after a bulk import past the store). */
  rebuildRunTotals(): Promise<void>;
}

/** The deployment-wide figures /metrics shows beside each instance's own. */
export interface DeploymentCounts {
  agentsEnabled: number;
  runsQueued: number;
  /** The deployment's spend today and this month (UTC) against its caps (GET/PUT /api/budget). */
  spend: SpendSummary;
}

/** sql/deployment-counts.ts: read by the metrics scrape, at most every 15 s. */
export interface DeploymentCountsStore {
  deploymentCounts(now: number): Promise<DeploymentCounts>;
}

/** What one prune batch deleted: events of old runs, or (once those are gone) the runs. */
export interface PruneBatch {
  runs: number;
  events: number;
}

/** sql/retention.ts: deleting what is older than the retention, a small batch per statement. */
export interface RetentionStore {
  /** Claims the named lease until `until`, unless another claim is still valid at `now`; true when claimed. */
  claimLease(name: string, holder: string, now: number, until: number): Promise<boolean>;
  /**
   * One batch of at most `limit` rows: events of the oldest runs that ended before `endedBefore`,
   * or, when those have none, the runs themselves. Zero of both: nothing is left to prune. The
   * hourly totals keep the deleted runs.
   */
  pruneRunsBatch(endedBefore: number, limit: number): Promise<PruneBatch>;
}

/**
 * sql/: the SQL both dialects share, one file per aggregate (users-tokens, sessions, agents,
 * secrets, ticks, runs, run-events, stats, retention, webhooks, outbox, delivery-claims), the totals ledger's rules (run-totals), the
 * run predicates and the values-list builder the claims use. This file composes the aggregates
 * into one Store.
 */
import { inspect } from 'node:util';
import { sql, type Kysely } from 'kysely';
import type { DialectTraits } from '../dialect.js';
import type { Database } from '../schema.js';
import type { MigrationStatus, Store } from '../store.js';
import { SqlAgents } from './agents.js';
import { SqlBudgets } from './budgets.js';
import { SqlDeliveryClaims } from './delivery-claims.js';
import { SqlOutbox } from './outbox.js';
import { SqlRetention } from './retention.js';
import { SqlRunEvents } from './run-events.js';
import { SqlRunTotals } from './run-totals.js';
import { SqlRuns } from './runs.js';
import { SqlRunEndings } from './run-endings.js';
import { SqlSkips } from './skips.js';
import { SqlSecrets } from './secrets.js';
import { SqlSessions } from './sessions.js';
import { SqlStats } from './stats.js';
import { SqlDeploymentCounts } from './deployment-counts.js';
import { SqlTicks } from './ticks.js';
import { SqlUsersTokens } from './users-tokens.js';
import { SqlWebhooks } from './webhooks.js';
import { SqlAudit } from './audit.js';
import { SqlAgentVersions } from './agent-versions.js';
import { SqlForecast } from './forecast.js';
import { migrationTableSchema, migrator, readMigrationStatus } from './migration-status.js';

/** What went wrong, from whatever the migrator reports: an Error's message, else the value shown as it is. */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error === undefined || error === null) return 'unknown error';
  return typeof error === 'string' ? error : inspect(error);
}

/**
 * The Store over Kysely, shared by the SQLite and PostgreSQL dialects: the database's own
 * methods here, each aggregate's in its own class, and below, which class answers what.
 */
export class SqlStore implements Store {
  readonly dialect: 'sqlite' | 'postgres';
  private readonly usersTokens: SqlUsersTokens;
  private readonly sessions: SqlSessions;
  private readonly agents: SqlAgents;
  private readonly secrets: SqlSecrets;
  private readonly ticks: SqlTicks;
  private readonly runs: SqlRuns;
  private readonly runEvents: SqlRunEvents;
  private readonly stats: SqlStats;
  private readonly deploymentCountsSql: SqlDeploymentCounts;
  private readonly retention: SqlRetention;
  private readonly webhooks: SqlWebhooks;
  private readonly outbox: SqlOutbox;
  private readonly budgets: SqlBudgets;
  private readonly deliveryClaims: SqlDeliveryClaims;
  private readonly audit: SqlAudit;
  private readonly agentVersions: SqlAgentVersions;
  private readonly forecast: SqlForecast;

  constructor(
    readonly db: Kysely<Database>,
    readonly traits: DialectTraits,
  ) {
    this.dialect = traits.name;
    const totals = new SqlRunTotals(db);
    this.usersTokens = new SqlUsersTokens(db, traits);
    this.sessions = new SqlSessions(db);
    this.agents = new SqlAgents(db, traits, totals);
    this.secrets = new SqlSecrets(db, traits);
    this.outbox = new SqlOutbox(db);
    this.budgets = new SqlBudgets(db, traits, this.outbox);
    // Skipped rows, and what follows a run's end (retries, pauses): issue 11's policies.
    const skips = new SqlSkips(totals, this.outbox);
    const endings = new SqlRunEndings({ totals, outbox: this.outbox, budgets: this.budgets, skips });
    this.ticks = new SqlTicks(db, traits, { skips, totals, outbox: this.outbox, budgets: this.budgets });
    this.runs = new SqlRuns(db, traits, this.agents, totals, this.outbox, this.budgets, skips, endings);
    this.runEvents = new SqlRunEvents(db);
    this.stats = new SqlStats(db, totals, this.budgets);
    this.deploymentCountsSql = new SqlDeploymentCounts(db, this.budgets);
    this.retention = new SqlRetention(db);
    this.webhooks = new SqlWebhooks(db);
    this.deliveryClaims = new SqlDeliveryClaims(db, traits);
    this.audit = new SqlAudit(db);
    this.agentVersions = new SqlAgentVersions(db);
    this.forecast = new SqlForecast(db);
  }

  async migrate(): Promise<void> {
    const run = async () => {
      const schema = await migrationTableSchema(this.db, this.traits.name);
      const { error, results } = await migrator(this.db, schema).migrateToLatest();
      const failed = results?.find((r) => r.status === 'Error');
      if (error || failed) {
        const reason = describeError(error);
        throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${reason}`);
      }
    };
    await (this.traits.withMigrationLock ? this.traits.withMigrationLock(this.db, run) : run());
  }

  migrationStatus(): Promise<MigrationStatus> {
    return readMigrationStatus(this.db, this.traits.name);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
    await this.traits.onClose?.();
  }

  async notifyCancel(runIds: string[]): Promise<void> {
    if (runIds.length > 0) await this.traits.cancelChannel?.publish(runIds);
  }

  async onCancel(listener: (runIds: string[]) => void): Promise<() => Promise<void>> {
    return this.traits.cancelChannel ? this.traits.cancelChannel.subscribe(listener) : async () => {};
  }

  // Each aggregate's methods, as the Store interface groups them.

  createUser(...a: Parameters<Store['createUser']>) {
    return this.usersTokens.createUser(...a);
  }
  findUserByName(...a: Parameters<Store['findUserByName']>) {
    return this.usersTokens.findUserByName(...a);
  }
  findUserCredentials(...a: Parameters<Store['findUserCredentials']>) {
    return this.usersTokens.findUserCredentials(...a);
  }
  setUserPassword(...a: Parameters<Store['setUserPassword']>) {
    return this.usersTokens.setUserPassword(...a);
  }
  listUsers() {
    return this.usersTokens.listUsers();
  }
  countUsers() {
    return this.usersTokens.countUsers();
  }
  createToken(...a: Parameters<Store['createToken']>) {
    return this.usersTokens.createToken(...a);
  }
  findTokenHolder(...a: Parameters<Store['findTokenHolder']>) {
    return this.usersTokens.findTokenHolder(...a);
  }
  findTokenByHash(...a: Parameters<Store['findTokenByHash']>) {
    return this.usersTokens.findTokenByHash(...a);
  }
  touchToken(...a: Parameters<Store['touchToken']>) {
    return this.usersTokens.touchToken(...a);
  }
  revokeToken(...a: Parameters<Store['revokeToken']>) {
    return this.usersTokens.revokeToken(...a);
  }
  markEnvToken(...a: Parameters<Store['markEnvToken']>) {
    return this.usersTokens.markEnvToken(...a);
  }
  revokeEarlierEnvTokens(...a: Parameters<Store['revokeEarlierEnvTokens']>) {
    return this.usersTokens.revokeEarlierEnvTokens(...a);
  }
  listTokens() {
    return this.usersTokens.listTokens();
  }

  createSession(...a: Parameters<Store['createSession']>) {
    return this.sessions.createSession(...a);
  }
  findSession(...a: Parameters<Store['findSession']>) {
    return this.sessions.findSession(...a);
  }
  touchSession(...a: Parameters<Store['touchSession']>) {
    return this.sessions.touchSession(...a);
  }
  deleteSession(...a: Parameters<Store['deleteSession']>) {
    return this.sessions.deleteSession(...a);
  }
  deleteExpiredSessions(...a: Parameters<Store['deleteExpiredSessions']>) {
    return this.sessions.deleteExpiredSessions(...a);
  }
  recordSignInFailure(...a: Parameters<Store['recordSignInFailure']>) {
    return this.sessions.recordSignInFailure(...a);
  }
  signInFailures(...a: Parameters<Store['signInFailures']>) {
    return this.sessions.signInFailures(...a);
  }
  clearSignInFailures(...a: Parameters<Store['clearSignInFailures']>) {
    return this.sessions.clearSignInFailures(...a);
  }

  listAgents(...a: Parameters<Store['listAgents']>) {
    return this.agents.listAgents(...a);
  }
  getAgent(...a: Parameters<Store['getAgent']>) {
    return this.agents.getAgent(...a);
  }
  createAgent(...a: Parameters<Store['createAgent']>) {
    return this.agents.createAgent(...a);
  }
  updateAgent(...a: Parameters<Store['updateAgent']>) {
    return this.agents.updateAgent(...a);
  }
  deleteAgent(...a: Parameters<Store['deleteAgent']>) {
    return this.agents.deleteAgent(...a);
  }

  listSecrets(...a: Parameters<Store['listSecrets']>) {
    return this.secrets.listSecrets(...a);
  }
  readSecrets(...a: Parameters<Store['readSecrets']>) {
    return this.secrets.readSecrets(...a);
  }
  putSecret(...a: Parameters<Store['putSecret']>) {
    return this.secrets.putSecret(...a);
  }
  deleteSecret(...a: Parameters<Store['deleteSecret']>) {
    return this.secrets.deleteSecret(...a);
  }

  earliestFireAt() {
    return this.ticks.earliestFireAt();
  }
  findDueAgents(...a: Parameters<Store['findDueAgents']>) {
    return this.ticks.findDueAgents(...a);
  }
  claimTick(...a: Parameters<Store['claimTick']>) {
    return this.ticks.claimTick(...a);
  }
  claimTicks(...a: Parameters<Store['claimTicks']>) {
    return this.ticks.claimTicks(...a);
  }

  enqueueManualRun(...a: Parameters<Store['enqueueManualRun']>) {
    return this.runs.enqueueManualRun(...a);
  }
  claimQueuedRun(...a: Parameters<Store['claimQueuedRun']>) {
    return this.runs.claimQueuedRun(...a);
  }
  renewLeases(...a: Parameters<Store['renewLeases']>) {
    return this.runs.renewLeases(...a);
  }
  recordUsage(...a: Parameters<Store['recordUsage']>) {
    return this.runs.recordUsage(...a);
  }
  finishRun(...a: Parameters<Store['finishRun']>) {
    return this.runs.finishRun(...a);
  }
  requestCancel(...a: Parameters<Store['requestCancel']>) {
    return this.runs.requestCancel(...a);
  }
  endAbandonedRuns(...a: Parameters<Store['endAbandonedRuns']>) {
    return this.runs.endAbandonedRuns(...a);
  }
  getRun(...a: Parameters<Store['getRun']>) {
    return this.runs.getRun(...a);
  }
  listRuns(...a: Parameters<Store['listRuns']>) {
    return this.runs.listRuns(...a);
  }

  appendRunEvents(...a: Parameters<Store['appendRunEvents']>) {
    return this.runEvents.appendRunEvents(...a);
  }
  listRunEvents(...a: Parameters<Store['listRunEvents']>) {
    return this.runEvents.listRunEvents(...a);
  }

  agentStats(...a: Parameters<Store['agentStats']>) {
    return this.stats.agentStats(...a);
  }
  globalStats(...a: Parameters<Store['globalStats']>) {
    return this.stats.globalStats(...a);
  }
  rebuildRunTotals() {
    return this.stats.rebuildRunTotals();
  }
  deploymentCounts(...a: Parameters<Store['deploymentCounts']>) {
    return this.deploymentCountsSql.deploymentCounts(...a);
  }

  claimLease(...a: Parameters<Store['claimLease']>) {
    return this.retention.claimLease(...a);
  }
  pruneRunsBatch(...a: Parameters<Store['pruneRunsBatch']>) {
    return this.retention.pruneRunsBatch(...a);
  }

  listWebhooks() {
    return this.webhooks.listWebhooks();
  }
  getWebhook(...a: Parameters<Store['getWebhook']>) {
    return this.webhooks.getWebhook(...a);
  }
  getWebhookSecret(...a: Parameters<Store['getWebhookSecret']>) {
    return this.webhooks.getWebhookSecret(...a);
  }
  countWebhooks() {
    return this.webhooks.countWebhooks();
  }
  createWebhook(...a: Parameters<Store['createWebhook']>) {
    return this.webhooks.createWebhook(...a);
  }
  updateWebhook(...a: Parameters<Store['updateWebhook']>) {
    return this.webhooks.updateWebhook(...a);
  }
  setWebhookSecret(...a: Parameters<Store['setWebhookSecret']>) {
    return this.webhooks.setWebhookSecret(...a);
  }
  deleteWebhook(...a: Parameters<Store['deleteWebhook']>) {
    return this.webhooks.deleteWebhook(...a);
  }
  listDeliveries(...a: Parameters<Store['listDeliveries']>) {
    return this.webhooks.listDeliveries(...a);
  }

  emitTestEvent(...a: Parameters<Store['emitTestEvent']>) {
    return this.outbox.emitTestEvent(...a);
  }
  retryDelivery(...a: Parameters<Store['retryDelivery']>) {
    return this.outbox.retryDelivery(...a);
  }
  onOutboxWritten(...a: Parameters<Store['onOutboxWritten']>) {
    return this.outbox.onOutboxWritten(...a);
  }
  pruneOutboxBatch(...a: Parameters<Store['pruneOutboxBatch']>) {
    return this.outbox.pruneOutboxBatch(...a);
  }
  claimDeliveries(...a: Parameters<Store['claimDeliveries']>) {
    return this.deliveryClaims.claimDeliveries(...a);
  }
  recordDeliveryAttempt(...a: Parameters<Store['recordDeliveryAttempt']>) {
    return this.deliveryClaims.recordDeliveryAttempt(...a);
  }
  nextDeliveryDueAt(...a: Parameters<Store['nextDeliveryDueAt']>) {
    return this.deliveryClaims.nextDeliveryDueAt(...a);
  }

  recordAudit(...a: Parameters<Store['recordAudit']>) {
    return this.audit.recordAudit(...a);
  }
  listAudit(...a: Parameters<Store['listAudit']>) {
    return this.audit.listAudit(...a);
  }
  pruneAuditBatch(...a: Parameters<Store['pruneAuditBatch']>) {
    return this.audit.pruneAuditBatch(...a);
  }
  listAgentVersions(...a: Parameters<Store['listAgentVersions']>) {
    return this.agentVersions.listAgentVersions(...a);
  }
  recentRunCosts(...a: Parameters<Store['recentRunCosts']>) {
    return this.forecast.recentRunCosts(...a);
  }

  getBudgetSettings() {
    return this.budgets.getBudgetSettings();
  }
  putBudgetSettings(...a: Parameters<Store['putBudgetSettings']>) {
    return this.budgets.putBudgetSettings(...a);
  }
  spendSummary(...a: Parameters<Store['spendSummary']>) {
    return this.budgets.spendSummary(...a);
  }
}

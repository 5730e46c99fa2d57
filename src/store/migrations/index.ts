import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as sessions from './0002-sessions.js';
import * as runTotals from './0003-run-totals.js';
import * as agentSecrets from './0004-agent-secrets.js';
import * as agentRunOptions from './0005-agent-run-options.js';
import * as runEvents from './0006-run-events.js';
import * as envTokens from './0007-env-tokens.js';
import * as userNamesWithoutCase from './0008-user-names-without-case.js';
import * as leases from './0009-leases.js';
import * as webhooksOutbox from './0010-webhooks-outbox.js';
import * as spendAndPolicies from './0011-spend-and-policies.js';
import * as auditAndVersions from './0012-audit-and-versions.js';

/** Every migration, in order. Names sort in the order they must run. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-sessions': sessions,
  '0003-run-totals': runTotals,
  '0004-agent-secrets': agentSecrets,
  '0005-agent-run-options': agentRunOptions,
  '0006-run-events': runEvents,
  '0007-env-tokens': envTokens,
  '0008-user-names-without-case': userNamesWithoutCase,
  '0009-leases': leases,
  '0010-webhooks-outbox': webhooksOutbox,
  '0011-spend-and-policies': spendAndPolicies,
  '0012-audit-and-versions': auditAndVersions,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

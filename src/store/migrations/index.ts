import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001-initial.js';
import * as sessions from './0002-sessions.js';
import * as runTotals from './0003-run-totals.js';
import * as agentSecrets from './0004-agent-secrets.js';
import * as agentRunOptions from './0005-agent-run-options.js';

/** Every migration, in order. Names sort in the order they must run. */
const MIGRATIONS: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-sessions': sessions,
  '0003-run-totals': runTotals,
  '0004-agent-secrets': agentSecrets,
  '0005-agent-run-options': agentRunOptions,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => MIGRATIONS,
};

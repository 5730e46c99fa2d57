import path from 'node:path';
import type { Config } from '../config.js';
import { openPostgresStore } from './postgres/open-postgres-store.js';
import { openSqliteStore } from './sqlite/open-sqlite-store.js';
import type { Store } from './store.js';

/** The file name of the embedded database inside the data dir. */
export const SQLITE_FILE = 'cron-agents.sqlite';

/** Opens the store the configuration names: PostgreSQL for a DATABASE_URL, else SQLite in the data dir. */
export async function openStore(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Promise<Store> {
  if (config.databaseUrl) return openPostgresStore(config.databaseUrl);
  return openSqliteStore(path.join(config.dataDir, SQLITE_FILE));
}

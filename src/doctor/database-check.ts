import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import { openStore, SQLITE_FILE } from '../store/open-store.js';
import type { MigrationStatus } from '../store/store.js';
import type { CheckResult } from './doctor.js';

/** The database check: PostgreSQL answers (or the SQLite file opens), and what its migrations are. */

const NAME = 'database';

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** DATABASE_URL for messages: host, port and database, never the password. */
export function describePostgres(url: string): { where: string; host: string; port: string; database: string; user: string } {
  const parsed = new URL(url);
  const host = parsed.hostname || 'localhost';
  const port = parsed.port || '5432';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || decodeURIComponent(parsed.username) || 'postgres';
  return { where: `PostgreSQL at ${host}:${port}/${database}`, host, port, database, user: decodeURIComponent(parsed.username) };
}

/** Why a connection failed, in words, and what to do: by the error's code (a socket's, or PostgreSQL's SQLSTATE). */
function connectionProblem(error: unknown, url: string): Pick<CheckResult, 'summary' | 'fix'> {
  const { where, host, port, database, user } = describePostgres(url);
  // pg's own connect timeout comes without a code: "timeout expired".
  const code = errorCode(error) ?? (/timeout/i.test(messageOf(error)) ? 'TIMEOUT' : undefined);
  const checkUrl = 'check the host, port, user, password and database name in DATABASE_URL';
  switch (code) {
    case 'ECONNREFUSED':
      return { summary: `cannot connect to ${where}: connection refused (nothing listens on ${host}:${port})`, fix: `start PostgreSQL, or ${checkUrl}` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { summary: `cannot connect to ${where}: the host name ${host} is unknown`, fix: checkUrl };
    case 'ETIMEDOUT':
    case 'TIMEOUT':
      return {
        summary: `cannot connect to ${where}: no answer in time`,
        fix: `check that ${host}:${port} is reachable from here (firewall, network), or ${checkUrl}`,
      };
    case '28P01':
    case '28000':
      return { summary: `${where} refused the user "${user}": ${messageOf(error)}`, fix: 'check the user and password in DATABASE_URL (and pg_hba.conf)' };
    case '3D000':
      return { summary: `${where}: the database "${database}" does not exist`, fix: `create it (createdb ${database}), or correct the name in DATABASE_URL` };
    default:
      return { summary: `cannot use ${where}: ${messageOf(error)}`, fix: checkUrl };
  }
}

/** Resolves with `promise`, or rejects with a TIMEOUT error after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer in ${ms / 1000} s`), { code: 'TIMEOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The migrations, as one check line: pending ones are applied at the next start; unknown ones mean a newer cron-agents migrated it. */
function migrationResult(where: string, status: MigrationStatus): CheckResult {
  if (status.unknown.length > 0) {
    return {
      name: NAME,
      status: 'fail',
      summary: `${where} was migrated by a newer cron-agents (${status.unknown.join(', ')}): this version refuses to serve it`,
      fix: 'run the newer cron-agents (migrations are forward-only)',
    };
  }
  const last = status.applied.at(-1) ?? 'none';
  if (status.pending.length > 0) {
    return {
      name: NAME,
      status: 'warn',
      summary: `${where}: ${status.pending.length} migration(s) pending (last applied: ${last})`,
      fix: 'they are applied when the service starts, or now with: cron-agents migrate (see migrate --dry-run)',
    };
  }
  return { name: NAME, status: 'ok', summary: `${where}: up to date (${status.applied.length} migrations, last ${last})` };
}

async function checkPostgres(url: string, timeoutMs: number): Promise<CheckResult> {
  // A client of its own first: a bounded connect with PostgreSQL's own error codes.
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  client.on('error', () => {});
  try {
    await within(client.connect(), timeoutMs + 1000);
    await within(client.query('select 1'), timeoutMs);
  } catch (error) {
    return { name: NAME, status: 'fail', ...connectionProblem(error, url) };
  } finally {
    void client.end().catch(() => {});
  }
  const { where } = describePostgres(url);
  const store = await openStore({ databaseUrl: url, dataDir: '' });
  try {
    return migrationResult(where, await within(store.migrationStatus(), timeoutMs));
  } catch (error) {
    return {
      name: NAME,
      status: 'fail',
      summary: `${where} answers, but its migrations cannot be read: ${messageOf(error)}`,
      fix: 'check the user may read the database',
    };
  } finally {
    void store.close().catch(() => {});
  }
}

async function checkSqlite(dataDir: string): Promise<CheckResult> {
  const file = path.join(dataDir, SQLITE_FILE);
  // Opening would create the file: the doctor leaves no trace.
  if (!fs.existsSync(file)) return { name: NAME, status: 'ok', summary: `SQLite: no database yet at ${file} (created, with every migration, on first start)` };
  let store;
  try {
    store = await openStore({ databaseUrl: null, dataDir });
  } catch (error) {
    const damaged = errorCode(error) === 'SQLITE_NOTADB' || errorCode(error) === 'SQLITE_CORRUPT';
    return {
      name: NAME,
      status: 'fail',
      summary: `SQLite: cannot open ${file}: ${messageOf(error)}`,
      fix: damaged ? 'restore a backup (cron-agents restore FILE)' : 'check the file and its folder are readable and writable by this user',
    };
  }
  try {
    return migrationResult(`SQLite at ${file}`, await store.migrationStatus());
  } catch (error) {
    return { name: NAME, status: 'fail', summary: `SQLite: cannot read ${file}: ${messageOf(error)}`, fix: 'restore a backup (cron-agents restore FILE)' };
  } finally {
    await store.close();
  }
}

/** The database the configuration names. */
export async function checkDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, timeoutMs: number): Promise<CheckResult> {
  return config.databaseUrl ? checkPostgres(config.databaseUrl, timeoutMs) : checkSqlite(config.dataDir);
}

/**
 * The operator's database commands: `backup FILE`, `restore FILE` and `migrate [--dry-run]`.
 * cli.ts dispatches to them and turns the errors made by `usage` into its usage message (exit 2);
 * any other error is printed as one line (exit 1).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type Config } from './config.js';
import { parseSecretKey, SecretCipher } from './domain/secret-cipher.js';
import { SECRET_KEY_FILE } from './services/secret-key.js';
import { migrationProvider } from './store/migrations/index.js';
import { openStore, SQLITE_FILE } from './store/open-store.js';
import { backupSqlite, type SqliteSnapshot } from './store/sqlite/sqlite-backup.js';
import { restoreSqlite } from './store/sqlite/sqlite-restore.js';

/** Makes the error cli.ts reports as wrong usage. */
export type UsageErrorFactory = (message: string) => Error;

/** Parses a command's arguments, turning parseArgs' complaints into usage errors. */
function parse<T extends Record<string, { type: 'boolean' }>>(args: string[], options: T, usage: UsageErrorFactory) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usage(error instanceof Error ? error.message : String(error));
  }
}

/** The one FILE argument of backup and restore. */
function oneFile(command: string, positionals: string[], usage: UsageErrorFactory): string {
  const file = positionals[0];
  if (file === undefined || file === '' || positionals.length > 1) throw usage(`${command} takes one FILE`);
  return file;
}

/** The database a configuration names, for messages: the SQLite file, or the PostgreSQL URL without its password. */
function describeDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): string {
  if (!config.databaseUrl) return path.join(config.dataDir, SQLITE_FILE);
  try {
    const url = new URL(config.databaseUrl);
    if (url.password) url.password = '***';
    return url.href;
  } catch {
    return 'the PostgreSQL database of DATABASE_URL';
  }
}

function summary(snapshot: SqliteSnapshot): string {
  const schema = snapshot.migrations.at(-1) ?? 'none';
  return `${snapshot.agents} agent(s), ${snapshot.runs} run(s), ${snapshot.bytes} bytes, schema ${schema}`;
}

/** The id of the key this configuration encrypts secrets with, if there is one yet (the key file is never created here). */
function currentKeyId(config: Pick<Config, 'secretKey' | 'dataDir'>): string | null {
  let key = config.secretKey;
  if (!key) {
    try {
      key = parseSecretKey(fs.readFileSync(path.join(config.dataDir, SECRET_KEY_FILE), 'utf8'));
    } catch {
      key = null;
    }
  }
  return key ? new SecretCipher(key).keyId : null;
}

function keySource(config: Pick<Config, 'secretKey' | 'dataDir'>): string {
  return config.secretKey ? 'CRON_AGENTS_SECRET_KEY' : path.join(config.dataDir, SECRET_KEY_FILE);
}

/** `cron-agents backup FILE [--force]`: a consistent copy of the SQLite database, taken while the service runs. */
export async function backupCommand(args: string[], usage: UsageErrorFactory): Promise<void> {
  const { values, positionals } = parse(args, { force: { type: 'boolean' } }, usage);
  const file = oneFile('backup', positionals, usage);
  const config = loadConfig();
  if (config.databaseUrl) {
    throw new Error(
      `DATABASE_URL names a PostgreSQL database: back it up with PostgreSQL's own tools, e.g. pg_dump --format=custom --file=${file} "$DATABASE_URL" (see the README, "Backups")`,
    );
  }
  const database = describeDatabase(config);
  const snapshot = await backupSqlite(database, file, { overwrite: values.force === true });
  console.log(`backed up ${database} to ${snapshot.file}: ${summary(snapshot)}`);
  if (snapshot.secretKeyIds.length > 0) {
    console.error(
      `the secrets in it are encrypted under key ${snapshot.secretKeyIds.join(', ')}, which is not in the file: keep a copy of ${keySource(config)} with the backup`,
    );
  }
}

/** `cron-agents restore FILE`: replaces the SQLite database by a backup, refused while anything holds the database open. */
export async function restoreCommand(args: string[], usage: UsageErrorFactory): Promise<void> {
  const { positionals } = parse(args, {}, usage);
  const file = oneFile('restore', positionals, usage);
  const config = loadConfig();
  if (config.databaseUrl) {
    throw new Error(
      `DATABASE_URL names a PostgreSQL database: restore a pg_dump with PostgreSQL's own tools, e.g. pg_restore --clean --if-exists --dbname="$DATABASE_URL" ${file} (see the README, "Backups")`,
    );
  }
  const known = Object.keys(await migrationProvider.getMigrations()).sort();
  const database = describeDatabase(config);
  const { restored, previous } = restoreSqlite(file, database, known);
  console.log(`restored ${path.resolve(file)} into ${database}: ${summary(restored)}`);
  if (previous) console.log(`the database it replaced is saved as ${previous}`);
  const pending = known.filter((name) => !restored.migrations.includes(name));
  if (pending.length > 0) console.log(`the service applies ${pending.length} newer migration(s) when it starts (or run: cron-agents migrate)`);
  const keyId = currentKeyId(config);
  const foreign = restored.secretKeyIds.filter((id) => id !== keyId);
  if (foreign.length > 0) {
    console.error(
      `warning: its secrets are encrypted under key ${foreign.join(', ')}, but ${keySource(config)} ${keyId ? `holds key ${keyId}` : 'holds no key'}: ` +
        'put back the key saved with the backup, or those secrets cannot be read (runs that need them fail)',
    );
  }
}

/** `cron-agents migrate [--dry-run]`: applies the pending migrations, or only lists them. */
export async function migrateCommand(args: string[], usage: UsageErrorFactory): Promise<void> {
  const { values, positionals } = parse(args, { 'dry-run': { type: 'boolean' } }, usage);
  if (positionals.length > 0) throw usage('migrate takes no arguments but --dry-run');
  const config = loadConfig();
  const database = describeDatabase(config);
  const all = Object.keys(await migrationProvider.getMigrations()).sort();
  if (values['dry-run'] && !config.databaseUrl && !fs.existsSync(database)) {
    // Opening would create the file: a dry run leaves no trace.
    console.log(`there is no database at ${database} yet: migrate would create it and apply all ${all.length} migration(s):`);
    for (const name of all) console.log(`  ${name}`);
    return;
  }
  const store = await openStore(config);
  try {
    const status = await store.migrationStatus();
    if (status.unknown.length > 0) {
      throw new Error(
        `${database} has migration(s) this version does not know (${status.unknown.join(', ')}): it was migrated by a newer cron-agents. Run that version (migrations are forward-only).`,
      );
    }
    if (values['dry-run']) {
      console.log(`${database}: ${status.applied.length} migration(s) applied${status.applied.length > 0 ? `, the last ${status.applied.at(-1)}` : ''}`);
      if (status.pending.length === 0) console.log('nothing to apply: the database is up to date');
      else console.log(`migrate would apply ${status.pending.length} migration(s), in this order:\n${status.pending.map((name) => `  ${name}`).join('\n')}`);
      return;
    }
    await store.migrate();
    for (const name of status.pending) console.log(`applied ${name}`);
    console.log('database is up to date');
  } finally {
    await store.close();
  }
}

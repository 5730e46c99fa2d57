import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { iso } from './api/present.js';
import { systemClock } from './clock.js';
import { Retention } from './engine/retention.js';
import { silentLogger } from './logger.js';
import { AppError, NotFoundError, ValidationError } from './domain/errors.js';
import { ROLES, type Role } from './domain/types.js';
import { choosePassword } from './password-prompt.js';
import { Access } from './services/access.js';
import { OPERATOR } from './services/actor.js';
import { openStore } from './store/open-store.js';
import { backupCommand, migrateCommand, restoreCommand } from './cli-backup.js';
import { helpRequest } from './cli-help.js';
import { doctorCommand } from './doctor/doctor.js';

const USAGE = `Usage: cron-agents <command>

Commands:
  serve                                   Start the service (API, scheduler, runner)
  migrate [--dry-run]                     Apply database migrations and exit (--dry-run: list
                                          the pending ones and apply nothing)
  user add NAME --role admin|member|viewer [--password]
                                          With --password, also set a dashboard password
                                          (typed at a terminal; else generated and printed)
  user password NAME                      Set or reset NAME's dashboard password (same way);
                                          signs NAME out of every dashboard session
  user list
  token create USER [--name LABEL]        Print a new API token for USER (shown once)
  token revoke ID
  token list
  prune                                   Delete runs (and their events) that ended longer ago
                                          than CRON_AGENTS_RETENTION, now (the service does it hourly)
  backup FILE [--force]                   Copy the SQLite database to FILE, consistently, while the
                                          service runs (PostgreSQL: use pg_dump, see the README)
  restore FILE                            Replace the SQLite database by the backup FILE (the
                                          service must be stopped; the old one is kept beside it)
  doctor [--online]                       Check the configuration, database, claude binary, sandbox
                                          and model credentials; print what to fix
  help [COMMAND]                          This list, or a command's help (also: COMMAND --help)
  --version                               Print the version

Configuration comes from the environment; see the README.`;

class UsageError extends Error {}
const usage = (message: string) => new UsageError(message);

/** Opens the database for one command: migrated, and closed again however the command ends. */
async function withAccess<T>(body: (access: Access) => Promise<T>): Promise<T> {
  const store = await openStore(loadConfig());
  try {
    await store.migrate();
    return await body(new Access({ store, clock: systemClock }));
  } finally {
    await store.close();
  }
}

/** A service's refusal (no such user, no such token) is the operator's mistake: exit code 2, as for bad usage. */
function refusalAsUsage(hint = ''): (error: unknown) => never {
  return (error) => {
    if (error instanceof ValidationError || error instanceof NotFoundError) throw new UsageError(`${error.details[0]?.message ?? error.message}${hint}`);
    throw error;
  };
}

function isRole(value: string): value is Role {
  return ROLES.some((role) => role === value);
}

/** An instant for a listing; '-' for none. */
const when = (instant: number | null) => iso(instant) ?? '-';

async function serve(): Promise<void> {
  // Loaded here, not at the top: the other commands (and every --help) start in a fraction of the time without the service's modules.
  const { App } = await import('./app.js');
  const app = await App.create(loadConfig());
  let signals = 0;
  const shutdown = (signal: string) => {
    signals++;
    if (signals > 1) {
      app.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    app.logger.info({ signal, graceMs: app.config.shutdownGraceMs }, 'shutting down');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await app.start();
}

async function addUser(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { role: { type: 'string' }, password: { type: 'boolean' } }, allowPositionals: true });
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new UsageError('user add takes one NAME');
  const role = values.role ?? 'member';
  if (!isRole(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
  const chosen = values.password ? await choosePassword(name) : null;
  const user = await withAccess((access) => access.createUser({ name, role, password: chosen?.password ?? null }, OPERATOR));
  if (chosen?.generated) {
    // As with tokens: the secret alone on stdout, so a script can take it.
    console.error(`created user ${user.name} (${user.role}), id ${user.id}, with this dashboard password (shown only once):`);
    console.log(chosen.password);
  } else {
    console.log(`created user ${user.name} (${user.role}), id ${user.id}${chosen ? ', with a dashboard password' : ''}`);
  }
}

async function setPassword(args: string[]): Promise<void> {
  const name = args[0];
  if (!name || args.length > 1) throw new UsageError('user password takes one NAME');
  // The database is not held open while someone types at the prompt.
  const user = await withAccess((access) => access.findUser(name));
  if (!user) throw new UsageError(`no user named "${name}" (create one with: user add ${name} --role member --password)`);
  const chosen = await choosePassword(name);
  await withAccess((access) => access.setPassword(user.id, chosen.password, OPERATOR));
  console.error(`password of ${user.name} set; their dashboard sessions have ended`);
  if (chosen.generated) {
    console.error('it is shown only once:');
    console.log(chosen.password);
  }
}

async function userCommand(sub: string | undefined, rest: string[]): Promise<void> {
  if (sub === 'add') return addUser(rest);
  if (sub === 'password') return setPassword(rest);
  if (sub === 'list') {
    const users = await withAccess((access) => access.listUsers());
    for (const u of users) console.log(`${u.id}  ${u.name}  ${u.role}  created ${when(u.createdAt)}`);
    return;
  }
  throw new UsageError('user takes: add, password, list');
}

async function tokenCommand(sub: string | undefined, rest: string[]): Promise<void> {
  if (sub === 'create') {
    const { values, positionals } = parseArgs({ args: rest, options: { name: { type: 'string' } }, allowPositionals: true });
    const userName = positionals[0];
    if (!userName || positionals.length > 1) throw new UsageError('token create takes one USER');
    const { token, info } = await withAccess((access) => access.issueTokenByName(userName, values.name ?? 'cli', OPERATOR)).catch(
      refusalAsUsage(` (create one with: user add ${userName} --role member)`),
    );
    console.error(`token ${info.id} for ${info.userName} (${info.label}); it is shown only once:`);
    console.log(token);
    return;
  }
  if (sub === 'revoke') {
    const id = rest[0];
    if (!id || rest.length > 1) throw new UsageError('token revoke takes one ID (see: token list)');
    await withAccess((access) => access.revokeToken(id, OPERATOR)).catch(refusalAsUsage());
    console.log(`revoked token ${id}`);
    return;
  }
  if (sub === 'list') {
    const tokens = await withAccess((access) => access.listTokens());
    for (const t of tokens) {
      const state = t.revokedAt === null ? 'active' : `revoked ${when(t.revokedAt)}`;
      console.log(`${t.id}  ${t.prefix}…  ${t.userName}  "${t.label}"  created ${when(t.createdAt)}  last used ${when(t.lastUsedAt)}  ${state}`);
    }
    return;
  }
  throw new UsageError('token takes: create, revoke, list');
}

/** One prune now, as the service's hourly one does, but without waiting for its lease. */
async function prune(): Promise<void> {
  const config = loadConfig();
  if (config.retentionMs === 0) {
    console.log('CRON_AGENTS_RETENTION is 0: every run is kept, nothing to prune');
    return;
  }
  const store = await openStore(config);
  try {
    await store.migrate();
    const { retentionMs, auditRetentionMs, instanceId } = config;
    const retention = new Retention({ store, clock: systemClock, logger: silentLogger, retentionMs, auditRetentionMs, instanceId });
    const result = await retention.prune();
    console.log(`deleted ${result.runs} run(s) that ended before ${iso(result.endedBefore)}, and ${result.events} event(s)`);
    if (result.auditEntries > 0) console.log(`deleted ${result.auditEntries} audit entries older than CRON_AGENTS_AUDIT_RETENTION`);
  } finally {
    await store.close();
  }
}

async function main(argv: string[]): Promise<void> {
  // Before anything runs: `serve --help` starts nothing, `restore FILE --help` restores nothing.
  const help = helpRequest(argv, USAGE);
  if (help !== null) {
    console.log(help);
    return;
  }
  const [command, sub, ...rest] = argv;
  switch (command) {
    case 'serve':
    case undefined:
      return serve();
    case 'migrate':
      return migrateCommand(argv.slice(1), usage);
    case 'backup':
      return backupCommand(argv.slice(1), usage);
    case 'restore':
      return restoreCommand(argv.slice(1), usage);
    case 'user':
      return userCommand(sub, rest);
    case 'token':
      return tokenCommand(sub, rest);
    case 'prune':
      if (sub !== undefined) throw new UsageError('prune takes no arguments');
      return prune();
    case 'doctor':
      return doctorCommand(argv.slice(1), usage);
    case 'help':
      // helpRequest answered every known command: what is left names none.
      throw new UsageError(`unknown command "${argv.slice(1).join(' ')}"`);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    console.error(`cron-agents: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (error instanceof ConfigError || error instanceof AppError) {
    console.error(`cron-agents: ${error.message}`);
    process.exit(1);
  }
  const code = error instanceof Error && 'code' in error ? error.code : undefined;
  if (error instanceof Error && (code === 'EADDRINUSE' || code === 'EACCES')) {
    console.error(`cron-agents: cannot listen: ${error.message}`);
    process.exit(1);
  }
  // One line by default; the stack only when asked for.
  console.error(`cron-agents: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.LOG_LEVEL === 'debug' && error instanceof Error) console.error(error.stack);
  process.exit(1);
});

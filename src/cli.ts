import { parseArgs } from 'node:util';
import { App } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { AppError } from './domain/errors.js';
import { hashPassword } from './domain/passwords.js';
import { displayPrefix, generateToken, hashToken } from './domain/tokens.js';
import { ROLES, type Role } from './domain/types.js';
import { openStore } from './store/open-store.js';
import { choosePassword } from './password-prompt.js';
import type { Store } from './store/store.js';

const USAGE = `Usage: cron-agents <command>

Commands:
  serve                                   Start the service (API, scheduler, runner)
  migrate                                 Apply database migrations and exit
  user add NAME --role admin|member|viewer [--password]
                                          With --password, also set a dashboard password
                                          (typed at a terminal; else generated and printed)
  user password NAME                      Set or reset NAME's dashboard password (same way);
                                          signs NAME out of every dashboard session
  user list
  token create USER [--name LABEL]        Print a new API token for USER (shown once)
  token revoke ID
  token list

Configuration comes from the environment; see the README.`;

class UsageError extends Error {}

async function withStore<T>(body: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(loadConfig());
  try {
    await store.migrate();
    return await body(store);
  } finally {
    await store.close();
  }
}

const iso = (t: number | null) => (t === null ? '-' : new Date(t).toISOString());

async function serve(): Promise<void> {
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

async function main(argv: string[]): Promise<void> {
  const [command, sub, ...rest] = argv;
  switch (command) {
    case 'serve':
    case undefined:
      return serve();
    case 'migrate':
      await withStore(async () => {});
      console.log('database is up to date');
      return;
    case 'user': {
      if (sub === 'add') {
        const { values, positionals } = parseArgs({
          args: rest,
          options: { role: { type: 'string' }, password: { type: 'boolean' } },
          allowPositionals: true,
        });
        const name = positionals[0];
        if (!name || positionals.length > 1) throw new UsageError('user add takes one NAME');
        const role = values.role ?? 'member';
        if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        const chosen = values.password ? await choosePassword(name) : null;
        const passwordHash = chosen ? await hashPassword(chosen.password) : null;
        const user = await withStore((store) => store.createUser({ name, role: role as Role, passwordHash }, Date.now()));
        if (chosen?.generated) {
          // As with tokens: the secret alone on stdout, so a script can take it.
          console.error(`created user ${user.name} (${user.role}), id ${user.id}, with this dashboard password (shown only once):`);
          console.log(chosen.password);
        } else {
          console.log(`created user ${user.name} (${user.role}), id ${user.id}${chosen ? ', with a dashboard password' : ''}`);
        }
        return;
      }
      if (sub === 'password') {
        const name = rest[0];
        if (!name || rest.length > 1) throw new UsageError('user password takes one NAME');
        const user = await withStore((store) => store.findUserByName(name));
        if (!user) throw new UsageError(`no user named "${name}" (create one with: user add ${name} --role member --password)`);
        const chosen = await choosePassword(name);
        const passwordHash = await hashPassword(chosen.password);
        await withStore((store) => store.setUserPassword(user.id, passwordHash));
        console.error(`password of ${user.name} set; their dashboard sessions have ended`);
        if (chosen.generated) {
          console.error('it is shown only once:');
          console.log(chosen.password);
        }
        return;
      }
      if (sub === 'list') {
        const users = await withStore((store) => store.listUsers());
        for (const u of users) console.log(`${u.id}  ${u.name}  ${u.role}  created ${iso(u.createdAt)}`);
        return;
      }
      throw new UsageError('user takes: add, password, list');
    }
    case 'token': {
      if (sub === 'create') {
        const { values, positionals } = parseArgs({ args: rest, options: { name: { type: 'string' } }, allowPositionals: true });
        const userName = positionals[0];
        if (!userName || positionals.length > 1) throw new UsageError('token create takes one USER');
        const token = generateToken();
        const info = await withStore(async (store) => {
          const user = await store.findUserByName(userName);
          if (!user) throw new UsageError(`no user named "${userName}" (create one with: user add ${userName} --role member)`);
          return store.createToken({ userId: user.id, label: values.name ?? 'cli', tokenHash: hashToken(token), prefix: displayPrefix(token) }, Date.now());
        });
        console.error(`token ${info.id} for ${info.userName} (${info.label}); it is shown only once:`);
        console.log(token);
        return;
      }
      if (sub === 'revoke') {
        const id = rest[0];
        if (!id || rest.length > 1) throw new UsageError('token revoke takes one ID (see: token list)');
        const revoked = await withStore((store) => store.revokeToken(id, Date.now()));
        if (!revoked) throw new UsageError(`no active token with id ${id}`);
        console.log(`revoked token ${id}`);
        return;
      }
      if (sub === 'list') {
        const tokens = await withStore((store) => store.listTokens());
        for (const t of tokens) {
          const state = t.revokedAt === null ? 'active' : `revoked ${iso(t.revokedAt)}`;
          console.log(`${t.id}  ${t.prefix}…  ${t.userName}  "${t.label}"  created ${iso(t.createdAt)}  last used ${iso(t.lastUsedAt)}  ${state}`);
        }
        return;
      }
      throw new UsageError('token takes: create, revoke, list');
    }
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return;
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
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    console.error(`cron-agents: cannot listen: ${(error as Error).message}`);
    process.exit(1);
  }
  // One line by default; the stack only when asked for.
  console.error(`cron-agents: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.LOG_LEVEL === 'debug' && error instanceof Error) console.error(error.stack);
  process.exit(1);
});

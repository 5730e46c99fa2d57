import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { Migrator } from 'kysely';
import pg from 'pg';
import { afterAll } from 'vitest';
import { MIGRATION_LOCK_KEY, openPostgresStore } from '../../src/store/postgres/open-postgres-store.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { settle, type FakeClock } from './fake-clock.js';

export interface OpenOptions {
  /** PostgreSQL pool size (ignored by SQLite, which has one connection); default 5. */
  maxConnections?: number;
}

/** A store dialect the shared suites run against. */
export interface DialectUnderTest {
  name: 'sqlite' | 'postgres';
  /**
   * Why this dialect's tests cannot run here, or undefined when they can. The suites register
   * them all the same, as `describe.skipIf(dialect.skipped)(...)`, so a run counts what it skipped.
   */
  skipped?: string;
  /** A fresh, migrated, empty store, for one test or one describe; closing it cleans up what it made. */
  open(options?: OpenOptions): Promise<Store>;
}

/** PostgreSQL URL for tests; without it the PostgreSQL half of every suite is skipped. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || null;

const POSTGRES_SKIPPED = 'TEST_DATABASE_URL is not set: the PostgreSQL half of the store, engine and API suites is registered but SKIPPED';

let warned = false;

// Test schemas are created and dropped under the advisory lock the PostgreSQL store takes around
// its migrations (MIGRATION_LOCK_KEY): Kysely's Migrator reads the catalog of every schema, and
// that read fails ('schema "t_..." does not exist') when another test drops its schema meanwhile.

/** Runs `body` on a connection of its own, holding the migration lock if `locked`. */
async function withClient<T>(url: string, locked: boolean, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    if (locked) await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await body(client);
  } finally {
    await client.end();
  }
}

/** A migrated test schema and its tables, in an order they can be emptied in (referencing first). */
interface TestSchema {
  name: string;
  tables: string[];
}

/**
 * Test schemas are named after the host and the process that made them (Vitest runs each test
 * file in a process of its own), so leftovers of processes that are gone can be told apart.
 */
const SCHEMA_PREFIX = `t_${createHash('sha256').update(os.hostname()).digest('hex').slice(0, 6)}_`;

/**
 * Migrated schemas emptied by stores that closed, for the next store of this process: making a
 * schema (DDL, migrations) costs ~10 times what emptying one does. Dropped after the test file.
 */
const spareSchemas: TestSchema[] = [];
let orphansReaped: Promise<void> | null = null;

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Drops the test schemas of this host's processes that ended without dropping theirs (a crash, Ctrl-C). */
async function reapOrphanSchemas(url: string): Promise<void> {
  await withClient(url, true, async (client) => {
    const { rows } = await client.query<{ nspname: string }>('select nspname from pg_namespace where starts_with(nspname, $1)', [SCHEMA_PREFIX]);
    for (const { nspname } of rows) {
      const pid = Number(/^t_[0-9a-f]{6}_(\d+)_[0-9a-f]+$/.exec(nspname)?.[1]);
      if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) await client.query(`drop schema if exists ${nspname} cascade`);
    }
  });
}

async function createTestSchema(url: string): Promise<TestSchema> {
  const name = `${SCHEMA_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  // Two connections: store.migrate() holds one for its advisory lock while it migrates on another.
  const store = openPostgresStore(url, { schema: name, maxConnections: 2 });
  try {
    await withClient(url, true, async (client) => {
      await client.query(`create schema ${name}`);
      // Kysely's Migrator, unless told its schema, takes a `kysely_migration` table in ANY schema
      // for its own: with other test schemas alive it would never create the tables in this one,
      // and then fail with 'relation "kysely_migration_lock" does not exist'. Create them here
      // first (no migrations), so that store.migrate() below runs the real ones in this schema.
      const provider = { getMigrations: async () => ({}) };
      const { error } = await new Migrator({ db: store.db, provider, migrationTableSchema: name }).migrateToLatest();
      if (error) throw error instanceof Error ? error : new Error('creating the migration tables failed', { cause: error });
    });
    await store.migrate();
  } catch (error) {
    await store.close();
    await withClient(url, true, (client) => client.query(`drop schema if exists ${name} cascade`)).catch(() => {});
    throw error;
  }
  await store.close();
  return { name, tables: await tablesToEmpty(url, name) };
}

/** The schema's tables (but Kysely's own), each after every table that references it. */
async function tablesToEmpty(url: string, schema: string): Promise<string[]> {
  return withClient(url, false, async (client) => {
    const tables = (
      await client.query<{ name: string }>("select tablename as name from pg_tables where schemaname = $1 and tablename not like 'kysely\\_%'", [schema])
    ).rows.map((r) => r.name);
    const references = (
      await client.query<{ child: string; parent: string }>(
        `select c.relname as child, p.relname as parent
         from pg_constraint k
         join pg_class c on c.oid = k.conrelid
         join pg_class p on p.oid = k.confrelid
         join pg_namespace n on n.oid = c.relnamespace
         where k.contype = 'f' and n.nspname = $1 and c.oid <> p.oid`,
        [schema],
      )
    ).rows;
    const ordered: string[] = [];
    let left = [...tables];
    while (left.length > 0) {
      const free = left.filter((t) => !references.some((r) => r.parent === t && left.includes(r.child)));
      if (free.length === 0) throw new Error(`circular foreign keys among ${left.join(', ')}`);
      ordered.push(...free);
      left = left.filter((t) => !free.includes(t));
    }
    return ordered;
  });
}

async function emptyTestSchema(url: string, schema: TestSchema): Promise<void> {
  await withClient(url, false, async (client) => {
    await client.query('begin');
    for (const table of schema.tables) await client.query(`delete from ${schema.name}.${table}`);
    await client.query('commit');
  });
}

/** Drops the spare schemas of this process: once a test file is done, nothing opens a store again. */
async function dropSpareSchemas(url: string): Promise<void> {
  const schemas = spareSchemas.splice(0);
  if (schemas.length === 0) return;
  await withClient(url, true, async (client) => {
    for (const schema of schemas) await client.query(`drop schema if exists ${schema.name} cascade`);
  });
}

/**
 * Each PostgreSQL store lives in a schema of its own, fresh to it: a new one, or one a closed
 * store of this process left, migrated and emptied. The spares are dropped after the test file.
 */
async function openPostgresInTestSchema(url: string, options: OpenOptions): Promise<Store> {
  orphansReaped ??= reapOrphanSchemas(url);
  await orphansReaped;
  const schema = spareSchemas.pop() ?? (await createTestSchema(url));
  const store = openPostgresStore(url, { schema: schema.name, maxConnections: options.maxConnections ?? 5 });
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    try {
      await emptyTestSchema(url, schema);
      spareSchemas.push(schema);
    } catch {
      await withClient(url, true, (client) => client.query(`drop schema if exists ${schema.name} cascade`)).catch(() => {});
    }
  };
  return store;
}

/** In-memory SQLite: always available, and the default where a test names no dialect. */
export const SQLITE: DialectUnderTest = {
  name: 'sqlite',
  async open() {
    const store = openSqliteStore(':memory:');
    await store.migrate();
    return store;
  },
};

/**
 * Every dialect the suites run against: SQLite, and PostgreSQL, which is skipped (but counted as
 * skipped) unless TEST_DATABASE_URL is set.
 */
export function dialectsUnderTest(): DialectUnderTest[] {
  if (TEST_DATABASE_URL) {
    const url = TEST_DATABASE_URL;
    // Called while a test file is collected: the hook runs when the whole file is done.
    afterAll(() => dropSpareSchemas(url));
    return [SQLITE, { name: 'postgres', open: (options = {}) => openPostgresInTestSchema(url, options) }];
  }
  if (!warned) {
    warned = true;
    console.warn(POSTGRES_SKIPPED);
  }
  const open = (): Promise<Store> => Promise.reject(new Error(POSTGRES_SKIPPED));
  return [SQLITE, { name: 'postgres', skipped: POSTGRES_SKIPPED, open }];
}

/** A store that knows which of its calls are still in flight. */
export interface TrackedStore<S extends Store = Store> {
  /** Use this one: every call through it is tracked. */
  store: S;
  /**
   * Resolves once no store call is in flight and none started during a full `settle()`: the
   * work that store calls set off has run. SQLite answers within `settle()`; PostgreSQL needs
   * real network round trips, so this also waits for the calls themselves (never on timers:
   * no store call waits for the fake clock). Gives up after 10 s of real time.
   */
  idle: () => Promise<void>;
}

/** Wraps a store so tests driven by a fake clock can wait for its real I/O instead of sleeping. */
export function trackStore<S extends Store>(inner: S): TrackedStore<S> {
  const inFlight = new Set<Promise<unknown>>();
  let started = 0;
  const wrappers = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  const store = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      let wrapper = wrappers.get(prop);
      if (!wrapper) {
        wrapper = (...args: unknown[]) => {
          const method = Reflect.get(target, prop, target) as (...a: unknown[]) => unknown;
          const result = method.apply(target, args);
          if (result instanceof Promise) {
            started++;
            const tracked: Promise<unknown> = result.finally(() => inFlight.delete(tracked));
            // The caller handles the outcome of `result`; this copy only marks the end of the call.
            tracked.catch(() => {});
            inFlight.add(tracked);
          }
          return result;
        };
        wrappers.set(prop, wrapper);
      }
      return wrapper;
    },
  });

  async function idle(): Promise<void> {
    const giveUpAt = performance.now() + 10_000;
    for (;;) {
      const before = started;
      await settle();
      if (inFlight.size === 0 && started === before) return;
      if (performance.now() > giveUpAt) throw new Error(`the store never went idle: ${inFlight.size} call(s) still in flight`);
      if (inFlight.size > 0) {
        let bound: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise<void>((resolve) => {
            bound = setTimeout(resolve, 100);
          }),
        ]);
        clearTimeout(bound);
      }
    }
  }

  return { store, idle };
}

/**
 * Moves a fake clock to `target` one timer at a time, letting the store go idle after each, so
 * a pass or heartbeat a timer starts has finished (and armed its next timer) before time moves
 * on. With SQLite this is what `FakeClock.advanceTo` does already; with PostgreSQL, store calls
 * outlast `settle()`. Time itself never moves but through the fake clock.
 */
export async function advanceClockTo(clock: FakeClock, target: number | string | Date, idle: () => Promise<void>): Promise<void> {
  const end = new Date(target).getTime();
  await idle();
  for (;;) {
    const next = clock.nextTimerAt;
    if (next === null || next > end) break;
    await clock.advanceTo(next);
    await idle();
  }
  await clock.advanceTo(end);
  await idle();
}

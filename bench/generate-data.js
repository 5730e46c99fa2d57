// Builds the benchmark data set: N enabled agents and M runs over the last 30 days, in a fresh
// SQLite file created by the service's own migrations. Bulk rows go in through raw
// better-sqlite3 prepared statements in big transactions (the store's per-row API would take
// many minutes for a million runs).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Migrator } from 'kysely';
import { migrationProvider } from '#dist/store/migrations/index.js';
import { openSqliteStore } from '#dist/store/sqlite/open-sqlite-store.js';
import { SQLITE_FILE } from '#dist/store/open-store.js';
import { displayPrefix, generateToken, hashToken } from '#dist/domain/tokens.js';

/**
 * Ids as the service makes them: its own id function when it has one (time-ordered ids land at
 * the end of the primary-key index, random ones anywhere), random UUIDs otherwise.
 */
const ids = await import('#dist/domain/ids.js').then(
  (m) => (typeof m.newId === 'function' ? { idFor: (instant) => m.newId(instant), idScheme: "the service's newId() (time-ordered)" } : null),
  () => null,
);
const { idFor, idScheme } = ids ?? { idFor: () => randomUUID(), idScheme: 'random UUIDs (the service has no id function)' };

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** A small deterministic PRNG (mulberry32), so every bench run gets the same data set. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Status mix of finished runs: mostly success. @type {[string, number][]} */
const STATUS_MIX = [
  ['success', 0.85],
  ['error', 0.08],
  ['budget_exceeded', 0.04],
  ['cancelled', 0.03],
];

const OUTPUTS = {
  success: 'Checked the repository and summarised the open pull requests. No action needed today; two PRs wait for review for more than 3 days.',
  error: 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
  budget_exceeded: 'Stopped: the run reached its budget of $1.00 before it finished.',
  cancelled: 'Cancelled',
};

const PROMPT =
  'You are the nightly maintenance agent of the payments team. Read the open issues labelled "triage" in ' +
  'the repository, group them by component, and post a short summary with the three most urgent ones. ' +
  'Do not change any file. If nothing needs attention, answer "All quiet." and stop.';

/** The seconds-field schedule of agent i: ~N/60 agents fire in every second of the minute. */
export function scheduleOf(i) {
  return `${i % 60} * * * * *`;
}

/**
 * Creates `<dataDir>/cron-agents.sqlite` with `agents` agents and about `runs` runs. Returns the
 * bench user's bearer token, the agent ids, and a description of the data set.
 */
export async function generateData({ dataDir, agents: agentCount, runs: runCount, now = Date.now(), farFuture }) {
  const file = path.join(dataDir, SQLITE_FILE);
  const started = performance.now();

  // The bulk rows below are written against the first migration's schema. The later migrations run
  // afterwards, through the store, exactly as when a populated database is upgraded: whatever they
  // derive from existing runs (e.g. totals tables) is backfilled by their own code, not the bench's.
  const migrations = Object.keys(await migrationProvider.getMigrations()).sort();
  const store = openSqliteStore(file);
  const [firstMigration] = migrations;
  if (firstMigration === undefined) throw new Error('the service has no migrations');
  const migrated = await new Migrator({ db: store.db, provider: migrationProvider }).migrateTo(firstMigration);
  if (migrated.error) throw migrated.error instanceof Error ? migrated.error : new Error('migration failed', { cause: migrated.error });
  await store.close();

  const db = new SQLite(file);
  // Bulk-load settings for this connection only; the file goes back to WAL at the end.
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -2000000');
  db.pragma('foreign_keys = OFF');

  const random = prng(42);
  const windowStart = now - 30 * DAY_MS;
  // History ends a few minutes before now: the scheduling phase only adds runs in the future.
  const windowEnd = now - 5 * MINUTE_MS;

  // The agents belong to a member; the bench signs in as an admin created through the store at the end.
  const userId = randomUUID();
  db.prepare(`INSERT INTO users (id, name, role, password_hash, created_at) VALUES (?, 'bench-owner', 'member', NULL, ?)`).run(
    userId,
    windowStart - 60 * DAY_MS,
  );
  const insertAgent = db.prepare(
    `INSERT INTO agents (id, name, description, schedule, timezone, prompt, enabled, max_turns, max_budget_usd, model,
       allowed_tools, next_fire_at, creator_id, created_at, updated_at)
     VALUES (?, ?, ?, ?, 'UTC', ?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const agentIds = [];
  db.transaction(() => {
    for (let i = 0; i < agentCount; i++) {
      const created = windowStart - DAY_MS - Math.floor(random() * 30 * DAY_MS);
      const id = idFor(created);
      agentIds.push(id);
      insertAgent.run(
        id,
        `bench-agent-${String(i).padStart(5, '0')}`,
        i % 3 === 0 ? null : `Bench agent ${i}: triages issues of component ${i % 97}`,
        scheduleOf(i),
        PROMPT,
        [10, 25, 50][i % 3],
        i % 4 === 0 ? null : [0.5, 1, 2][i % 3],
        i % 5 === 0 ? 'claude-sonnet-4-5' : null,
        JSON.stringify(i % 2 === 0 ? ['Read', 'Grep', 'Glob'] : ['Read', 'Bash(git log:*)']),
        farFuture,
        userId,
        created,
        created + Math.floor(random() * DAY_MS),
      );
    }
  })();

  // Runs: each agent gets runs spread over the window, one per "period"; each period's run sits at a
  // random minute within the period, at the agent's second — so scheduled slots are distinct per
  // agent and on its schedule. 10% are manual runs (no slot). Rows go in in time order, period by
  // period, as a live service would append them.
  const runsPerAgent = Math.max(1, Math.round(runCount / agentCount));
  const periodMs = Math.floor((windowEnd - windowStart) / runsPerAgent / MINUTE_MS) * MINUTE_MS;
  const insertRun = db.prepare(
    `INSERT INTO runs (id, agent_id, status, trigger, scheduled_for, output, cost_usd, input_tokens, output_tokens,
       cache_read_input_tokens, cache_creation_input_tokens, num_turns, queued_at, started_at, completed_at, duration_ms,
       executor_id, lease_expires_at, cancel_requested)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'bench-host:1:history', NULL, 0)`,
  );
  /** @type {Record<string, number>} */
  const statusCounts = {};
  let inserted = 0;
  let manual = 0;
  const pickStatus = () => {
    let r = random();
    for (const [status, share] of STATUS_MIX) {
      if (r < share) return status;
      r -= share;
    }
    return 'success';
  };
  // The runs table's secondary indexes are dropped for the load and rebuilt afterwards from their
  // own stored definitions (a sorted build is several times faster than a million random inserts).
  // Automatic indexes (primary key, UNIQUE) cannot be dropped and are filled as rows go in.
  const runIndexes = /** @type {{ name: string, sql: string }[]} */ (
    db.prepare(`select name, sql from sqlite_master where type = 'index' and tbl_name = 'runs' and sql is not null`).all()
  );
  for (const index of runIndexes) db.exec(`DROP INDEX "${index.name}"`);
  const insertPeriod = db.transaction((rows) => {
    for (const row of rows) insertRun.run(row);
  });
  for (let k = 0; k < runsPerAgent; k++) {
    const periodStart = windowStart + k * periodMs;
    const rows = [];
    for (let i = 0; i < agentCount; i++) {
      const isManual = random() < 0.1;
      const minute = Math.floor(random() * (periodMs / MINUTE_MS));
      const slot = periodStart + minute * MINUTE_MS + (i % 60) * 1000;
      const scheduledFor = isManual ? null : slot;
      const queuedAt = isManual ? slot + Math.floor(random() * 59_000) : slot + 1 + Math.floor(random() * 8);
      const startedAt = queuedAt + Math.floor(random() * 40);
      const status = pickStatus();
      // Durations: mostly 10 s - 2 min, a long tail to ~10 min; cancelled runs stop early.
      const base = 10_000 + random() * random() * 600_000;
      const durationMs = Math.round(status === 'cancelled' ? base / 4 : base);
      const turns = 1 + Math.floor(random() * (status === 'budget_exceeded' ? 40 : 15));
      const inputTokens = turns * (2_000 + Math.floor(random() * 8_000));
      const cacheRead = Math.floor(inputTokens * 0.6);
      const cacheCreation = Math.floor(inputTokens * 0.1);
      const outputTokens = turns * (100 + Math.floor(random() * 900));
      const costUsd =
        status === 'budget_exceeded'
          ? 1 + random() * 0.05
          : Math.round(((inputTokens - cacheRead - cacheCreation) * 3e-6 + cacheRead * 0.3e-6 + cacheCreation * 3.75e-6 + outputTokens * 15e-6) * 1e6) / 1e6;
      rows.push([
        idFor(queuedAt),
        agentIds[i],
        status,
        isManual ? 'manual' : 'schedule',
        scheduledFor,
        OUTPUTS[status],
        costUsd,
        inputTokens,
        outputTokens,
        cacheRead,
        cacheCreation,
        turns,
        queuedAt,
        startedAt,
        startedAt + durationMs,
        startedAt + durationMs - queuedAt,
      ]);
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      if (isManual) manual++;
    }
    rows.sort((a, b) => a[12] - b[12]);
    insertPeriod(rows);
    inserted += rows.length;
  }

  for (const index of runIndexes) db.exec(index.sql);
  db.pragma('journal_mode = WAL');
  const sqliteVersion = /** @type {{ v: string }} */ (db.prepare('select sqlite_version() as v').get()).v;
  db.close();

  // The remaining migrations, then a user with a token, through the service's store.
  const upgradeStarted = performance.now();
  const upgraded = openSqliteStore(file);
  await upgraded.migrate();
  const upgradeSeconds = (performance.now() - upgradeStarted) / 1000;
  const user = await upgraded.createUser({ name: 'bench', role: 'admin' }, now);
  const token = generateToken();
  await upgraded.createToken({ userId: user.id, label: 'bench', tokenHash: hashToken(token), prefix: displayPrefix(token) }, now);
  await upgraded.close();

  const check = new SQLite(file, { readonly: true });
  const counts = /** @type {{ runs: number, first: number, last: number }} */ (
    check.prepare('select count(*) as runs, min(queued_at) as first, max(queued_at) as last from runs').get()
  );
  const bytes = /** @type {{ b: number }} */ (check.prepare('select page_count * page_size as b from pragma_page_count(), pragma_page_size()').get()).b;
  check.close();

  return {
    file,
    token,
    userId: user.id,
    agentIds,
    migrations,
    sqliteVersion,
    seconds: (performance.now() - started) / 1000,
    description: {
      agents: agentCount,
      runs: counts.runs,
      runsPerAgent,
      manualRuns: manual,
      scheduledRuns: inserted - manual,
      statusCounts,
      firstQueuedAt: counts.first,
      lastQueuedAt: counts.last,
      upgradeSeconds,
      idScheme,
      fileBytes: bytes,
    },
  };
}

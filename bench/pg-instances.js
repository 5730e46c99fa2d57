// Scale-out benchmark: 1, 2 and 4 instances of the service on one PostgreSQL database with
// 10,000 agents, each with an AgentRunner that finishes at once (test/fixtures). Measures the
// fire lateness of scheduled ticks (queued_at - scheduled_for) and ticks claimed per second.
//
//   node bench/pg-instances.js [--seconds 30] [--instances 1,2,4]
//
// Needs PostgreSQL: BENCH_DATABASE_URL (or TEST_DATABASE_URL, or postgres://postgres@127.0.0.1:5432/test).
// Writes its section of bench/RESULTS.md between its own markers and prints the figures.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPostgresStore } from '#dist/store/postgres/open-postgres-store.js';
import { parseSchedule } from '#dist/domain/cron.js';
import { newId } from '#dist/domain/ids.js';
import { RESULTS, writeResultsSection } from './results-file.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const FIXTURE = path.join(ROOT, 'test/fixtures/serve-with-fake-runner.mjs');
const START = '<!-- bench:pg-instances:start (written by bench/pg-instances.js; edits inside are overwritten) -->';
const END = '<!-- bench:pg-instances:end -->';
const AGENTS = 10_000;

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const seconds = Number(arg('seconds', '30'));
const counts = arg('instances', '1,2,4').split(',').map(Number);
const baseUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

const log = (...parts) => console.log('[pg-instances]', ...parts);
const quantile = (sorted, q) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);

/**
 * One statement on a connection of its own; rows are whatever the SQL selects.
 * @param {string} url
 * @param {string} text
 * @param {unknown[]} [params]
 * @returns {Promise<Record<string, any>[]>}
 */
async function query(url, text, params = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function createDatabase() {
  const name = `cron_agents_bench_${randomBytes(4).toString('hex')}`;
  await query(baseUrl, `create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** 10,000 agents, agent i firing at second i mod 60 of every minute: ~167 ticks every second. */
async function seedAgents(url) {
  const store = openPostgresStore(url);
  await store.migrate();
  const now = Date.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('begin');
  for (let base = 0; base < AGENTS; base += 500) {
    const values = [];
    const params = [];
    for (let i = base; i < Math.min(AGENTS, base + 500); i++) {
      const schedule = `${i % 60} * * * * *`;
      const p = params.length;
      params.push(newId(now), `bench-${String(i).padStart(5, '0')}`, schedule, now);
      // The description keeps the steady schedule for after the burst rounds.
      values.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 3}, 'UTC', 'p', 1, 50, null, null, '[]', null, null, $${p + 4}, $${p + 4})`);
    }
    await client.query(
      `insert into agents (id, name, description, schedule, timezone, prompt, enabled, max_turns, max_budget_usd, model, allowed_tools, next_fire_at, creator_id, created_at, updated_at) values ${values.join(',')}`,
      params,
    );
  }
  await client.query('commit');
  await client.end();
  await store.close();
}

/**
 * Moves every agent to its next real slot after `from` and clears the runs of the previous round.
 * `burst`: every agent on `0 * * * * *`, so that all 10,000 come due at the same instant.
 */
async function resetSchedule(url, from, burst) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('delete from runs');
  await client.query('delete from run_totals_hourly');
  await client.query(burst ? `update agents set schedule = '0 * * * * *'` : 'update agents set schedule = description');
  const rows = (await client.query('select id, schedule from agents')).rows;
  await client.query('begin');
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    const ids = chunk.map((r) => r.id);
    const next = chunk.map((r) => parseSchedule(r.schedule, 'UTC').nextAfter(from));
    await client.query('update agents set next_fire_at = v.next from unnest($1::text[], $2::bigint[]) as v(id, next) where agents.id = v.id', [ids, next]);
  }
  await client.query('commit');
  await client.end();
}

function startInstance(url, dataDir) {
  const child = spawn(process.execPath, [FIXTURE], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: '0',
      CRON_AGENTS_DATA_DIR: dataDir,
      CRON_AGENTS_ADMIN_TOKEN: `bench-${randomBytes(20).toString('hex')}`,
      FAKE_RUN_MS: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, exited, output: () => output };
}

/** Starts `count` instances, each with a data dir of its own; `stop()` ends them and removes the dirs. */
function startInstances(url, count) {
  const dirs = Array.from({ length: count }, () => fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-pg-bench-')));
  const procs = dirs.map((dir) => startInstance(url, dir));
  return {
    procs,
    async stop() {
      for (const p of procs) p.child.kill('SIGTERM');
      await Promise.all(procs.map((p) => p.exited));
      for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function round(db, instances) {
  const start = Date.now() + 8000; // time for the instances to start before the first slot
  await resetSchedule(db.url, start, false);
  const running = startInstances(db.url, instances);
  const procs = running.procs;
  const until = start + seconds * 1000;
  await new Promise((resolve) => setTimeout(resolve, until - Date.now() + 1500));
  await running.stop();

  const rows = await query(
    db.url,
    `select scheduled_for, queued_at, executor_id from runs where trigger = 'schedule' and scheduled_for > $1 and scheduled_for <= $2`,
    [start, until],
  );
  const lateness = rows.map((r) => Number(r.queued_at) - Number(r.scheduled_for)).sort((a, b) => a - b);
  const slotsDue = await query(db.url, `select count(*)::int as n from agents`).then(() => {
    let n = 0;
    for (let i = 0; i < AGENTS; i++) {
      const second = i % 60;
      for (let t = Math.ceil((start + 1) / 1000) * 1000; t <= until; t += 1000) if (new Date(t).getUTCSeconds() === second) n++;
    }
    return n;
  });
  const duplicates = await query(
    db.url,
    `select count(*)::int as n from (select agent_id, scheduled_for from runs where trigger = 'schedule' group by 1, 2 having count(*) > 1) d`,
  );
  const perExecutor = new Map();
  // Runs still queued at the stop have no executor yet.
  for (const r of rows) if (r.executor_id) perExecutor.set(r.executor_id, (perExecutor.get(r.executor_id) ?? 0) + 1);
  return {
    instances,
    fired: rows.length,
    slotsDue,
    duplicates: duplicates[0]?.n,
    ticksPerSecond: rows.length / seconds,
    median: quantile(lateness, 0.5),
    p99: quantile(lateness, 0.99),
    max: lateness.at(-1) ?? NaN,
    executors: [...perExecutor.values()].sort((a, b) => b - a),
    errors: procs
      .map((p) => p.output())
      .join('')
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l)).length,
  };
}

/** All 10,000 agents due at one instant: how fast the instances claim them all. */
async function burst(db, instances) {
  const slot = Math.ceil((Date.now() + 10_000) / 60_000) * 60_000;
  await resetSchedule(db.url, slot - 1, true);
  const running = startInstances(db.url, instances);
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const deadline = slot + 60_000;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if (Date.now() < slot) continue;
    const fired = (await client.query(`select count(*)::int as n from runs where scheduled_for = $1`, [slot])).rows[0].n;
    if (fired >= AGENTS) break;
  }
  const rows = (await client.query(`select queued_at from runs where scheduled_for = $1 order by queued_at`, [slot])).rows;
  await client.end();
  await running.stop();
  const lateness = rows.map((r) => Number(r.queued_at) - slot);
  const last = lateness.at(-1) ?? NaN;
  return { instances, claimed: rows.length, lastMs: last, ticksPerSecond: rows.length / Math.max(1, last / 1000), p50: quantile(lateness, 0.5) };
}

async function settings(url) {
  const [version] = await query(url, 'select version() as v');
  const names = ['shared_buffers', 'synchronous_commit', 'max_connections', 'work_mem', 'fsync', 'wal_level'];
  const rows = await query(url, `select name, setting, unit from pg_settings where name = any($1)`, [names]);
  return { version: String(version?.v).split(' on ')[0], settings: rows.map((r) => `${r.name}=${r.setting}${r.unit ? ` ${r.unit}` : ''}`).join(', ') };
}

function writeResults(info, results) {
  const lines = [
    START,
    '',
    `## Several instances on PostgreSQL: ${new Date().toISOString()}`,
    '',
    `Command: \`npm run bench:pg\` (\`node bench/pg-instances.js --seconds ${seconds} --instances ${counts.join(',')}\`)`,
    '',
    `- Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; 1-minute load average at the end: ${os.loadavg()[0]?.toFixed(2)}.`,
    `- ${info.version}, local socket-free TCP on 127.0.0.1; settings: ${info.settings}.`,
    `- ${AGENTS.toLocaleString('en-US')} enabled agents, agent i on \`\${i % 60} * * * * *\` (UTC): ~167 ticks due every second; each instance with`,
    `  \`CRON_AGENTS_MAX_CONCURRENT_RUNS=4\`, a pool of 10 connections, and a runner that finishes at once. All instances run on this one`,
    `  2-core machine, so more instances share the same two cores: the figures show correctness and contention, not added capacity.`,
    `- Each round: ${seconds} s of slots, after the instances started; lateness = queued_at - scheduled_for of every scheduled run.`,
    '',
    'Steady load (~167 ticks due every second):',
    '',
    '| instances | slots due | runs fired | duplicate (agent, slot) | ticks claimed / s | lateness median | p99 | max | runs executed per instance |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.instances} | ${r.slotsDue} | ${r.fired} | ${r.duplicates} | ${r.ticksPerSecond.toFixed(1)} | ${r.median} ms | ${r.p99} ms | ${r.max} ms | ${r.executors.join(' / ')} |`,
    ),
    '',
    'Burst (all 10,000 agents due at the same instant; capacity of claiming):',
    '',
    '| instances | ticks claimed | time to claim the last | ticks claimed / s | median lateness |',
    '|---|---|---|---|---|',
    ...results.map((r) => `| ${r.instances} | ${r.burst.claimed} | ${r.burst.lastMs} ms | ${r.burst.ticksPerSecond.toFixed(0)} | ${r.burst.p50} ms |`),
    '',
    END,
  ];
  writeResultsSection(START, END, lines.join('\n'));
}

const db = await createDatabase();
try {
  log(`database ${db.name}; seeding ${AGENTS} agents`);
  await seedAgents(db.url);
  const info = await settings(db.url);
  const results = [];
  for (const n of counts) {
    log(`${n} instance(s), ${seconds} s`);
    const r = await round(db, n);
    log(
      `${n} instance(s): fired ${r.fired} of ${r.slotsDue} slots, ${r.duplicates} duplicates, ${r.ticksPerSecond.toFixed(1)} ticks/s, lateness median ${r.median} ms, p99 ${r.p99} ms, max ${r.max} ms; per instance ${r.executors.join('/')}; logged errors ${r.errors}`,
    );
    const b = await burst(db, n);
    log(
      `${n} instance(s), burst: ${b.claimed} ticks due at once claimed in ${b.lastMs} ms (${b.ticksPerSecond.toFixed(0)} ticks/s; median lateness ${b.p50} ms)`,
    );
    results.push({ ...r, burst: b });
  }
  writeResults(info, results);
  log(`results written to ${path.relative(ROOT, RESULTS)}`);
} finally {
  await query(baseUrl, `drop database if exists ${db.name} with (force)`);
}

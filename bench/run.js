// The benchmark of cron-agents on a big embedded database. Run it with `npm run bench`
// (builds, then `node --expose-gc bench/run.js`). Options:
//
//   --profile   CPU-profile the server processes while they are measured (V8 sampling profiler,
//               from "ready" to "stop") and print where their CPU went; profiles are kept in a
//               temp dir whose path is printed
//   --sql       time every SQL statement in the server processes (prepare and run) and print the
//               costliest ones per phase (adds overhead: figures of such a run are for diagnosis only)
//   --quick     a small smoke run (1,000 agents, 100,000 runs, short phases)
//
// Phases, each against a fresh child process serving the same SQLite file:
//   1. API latency: GET /api/agents/stats and /api/agents/:id/stats (7d, 30d), sequential requests
//      over real HTTP with a real bearer token, the scheduler quiet (no agent due for a year).
//   2. Throughput: GET /api/agents/:id against a bare Fastify 5 route with the same URL shape and a
//      constant body (autocannon, in this process; the servers live in the child).
//   3. Fire lateness: every agent on a seconds schedule (~agents/60 fire each second), a runner that
//      finishes at once; lateness of each fired run = queued_at - scheduled_for, read from the table,
//      and also (observed in the server) the time its claiming transaction committed - scheduled_for.
//
// Smoke (--quick) and diagnosis (--profile, --sql) runs print their figures but leave RESULTS.md alone.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import SQLite from 'better-sqlite3';
import { generateData } from './generate-data.js';
import { formatSummary, summarizeProfile } from './profile-summary.js';
import { RESULTS, writeResultsSection } from './results-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const PROFILE = args.has('--profile');
const SQL_TIMING = args.has('--sql');

const SETTINGS = QUICK
  ? {
      agents: 1_000,
      runs: 100_000,
      latencyRequests: 50,
      latencyWarmup: 10,
      latencyCapMs: 10_000,
      cannonSeconds: 4,
      cannonWarmup: 1,
      connections: 10,
      scheduleSeconds: 15,
    }
  : {
      agents: 10_000,
      runs: 1_000_000,
      latencyRequests: 200,
      latencyWarmup: 20,
      latencyCapMs: 30_000,
      cannonSeconds: 10,
      cannonWarmup: 3,
      connections: 10,
      scheduleSeconds: 65,
    };

const TARGETS = { latenessP99Ms: 50, statsP99Ms: 50, rpsRatio: 0.5 };

// ------------------------------------------------------------------------------ small helpers

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function describe(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    count: sorted.length,
    median: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    min: sorted.length ? sorted[0] : NaN,
  };
}

const round = (x, digits = 1) => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
/** 1-minute load average: the bench shares the machine, and other work skews every figure. */
const loads = [];
const noteLoad = (phase) => loads.push({ phase, load1: round(os.loadavg()[0], 2) });

/** Busy and total CPU-seconds of the whole machine so far, from /proc/stat (null elsewhere). */
function machineCpu() {
  try {
    const fields = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / 100, total: total / 100 };
  } catch {
    return null;
  }
}

/** Measures how much CPU the rest of the machine used while `body` ran, besides this bench's own processes. */
async function withForeignCpu(body) {
  const before = machineCpu();
  const ownBefore = process.cpuUsage();
  const result = await body();
  const after = machineCpu();
  const own = process.cpuUsage(ownBefore);
  if (!before || !after) return { result, foreign: null };
  const ownSeconds = (own.user + own.system) / 1e6 + (result.server?.cpuSeconds ?? 0);
  return {
    result,
    foreign: {
      cpuSeconds: round(Math.max(0, after.busy - before.busy - ownSeconds), 1),
      availableSeconds: round(after.total - before.total, 1),
      benchSeconds: round(ownSeconds, 1),
    },
  };
}
const log = (...parts) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function machineInfo(sqliteVersion) {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    nproc: os.availableParallelism(),
    cpu: model,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    sqlite: sqliteVersion,
    fastify: readVersion('fastify'),
    betterSqlite3: readVersion('better-sqlite3'),
    autocannon: readVersion('autocannon'),
    source: sourceState(),
  };
}

/** The commit the built code came from, and the source files that differ from it (read-only git calls). */
function sourceState() {
  const git = (...a) =>
    execFileSync('git', ['--no-optional-locks', ...a], { cwd: path.join(here, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trimEnd();
  try {
    const changed = git('status', '--porcelain', '--untracked-files=all', '--', 'src').split('\n').filter(Boolean);
    return { commit: git('log', '-1', '--format=%h %s'), changedSrcFiles: changed.length, changed: changed.map((l) => l.slice(3)) };
  } catch {
    return { commit: 'unknown', changedSrcFiles: 0, changed: [] };
  }
}

function readVersion(pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(here, '..', 'node_modules', pkg, 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
}

// ------------------------------------------------------------------------------ child processes

const children = new Set();
/** @type {string | null} */
let profileDir = null;

/** Starts bench/server.js in a child process and waits for it to serve. */
async function startServer(mode, dataDir) {
  const execArgv = ['--expose-gc'];
  const env = { ...process.env };
  if (SQL_TIMING) env.BENCH_SQL_TIMING = '1';
  if (PROFILE && profileDir) env.BENCH_CPU_PROFILE_DIR = profileDir;
  const child = fork(path.join(here, 'server.js'), [mode, dataDir], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  /** @typedef {{ type: string, [key: string]: any }} ServerMessage */
  /** @type {ServerMessage[]} */
  const messages = [];
  /** @type {{ type: string, resolve: (message: ServerMessage) => void }[]} */
  const waiters = [];
  child.on('message', (/** @type {ServerMessage} */ message) => {
    const waiter = waiters.findIndex((w) => w.type === message.type);
    if (waiter >= 0) waiters.splice(waiter, 1)[0]?.resolve(message);
    else messages.push(message);
  });
  const next = (type, timeoutMs = 120_000) =>
    new Promise((resolve, reject) => {
      const queued = messages.findIndex((m) => m.type === type);
      if (queued >= 0) return resolve(messages.splice(queued, 1)[0]);
      const timer = setTimeout(() => reject(new Error(`server (${mode}) sent no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const onExit = (code) => reject(new Error(`server (${mode}) exited with code ${code} before "${type}"`));
      child.once('exit', onExit);
      waiters.push({
        type,
        resolve: (message) => {
          clearTimeout(timer);
          child.off('exit', onExit);
          resolve(message);
        },
      });
    });
  const ready = await next('ready');
  return {
    ready,
    send: (message, reply) => {
      child.send(message);
      return reply ? next(reply) : undefined;
    },
    async stop() {
      const exited = new Promise((/** @type {(value?: unknown) => void} */ resolve) => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
      child.send({ type: 'stop' });
      const stopped = await next('stopped', 60_000);
      await exited;
      return stopped;
    },
  };
}

function killChildren() {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}

function printSql(title, rows) {
  if (!rows) return;
  console.log(`\nSQL time in the server, ${title} (top statements by prepare + run time):`);
  for (const r of rows) {
    console.log(
      `  prepare ${String(r.prepareMs).padStart(6)} ms (${r.prepares}x)  run ${String(r.runMs).padStart(6)} ms (${r.runs}x, max ${r.maxRunMs} ms)  ${r.sql.slice(0, 400)}`,
    );
  }
}

async function sqlCheckpoint(server, title) {
  if (!SQL_TIMING) return;
  const { sql } = await server.send({ type: 'sql-report' }, 'sql-report');
  printSql(title, sql);
}

// ------------------------------------------------------------------------------ HTTP measurements

const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(url, headers) {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { agent: keepAlive, headers }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

/** Sequential requests after a warm-up; returns the latency figures in ms and the first body. */
async function sequentialLatency({ base, pathFor, headers }) {
  const { latencyRequests, latencyWarmup, latencyCapMs } = SETTINGS;
  let first = null;
  for (let i = 0; i < latencyWarmup; i++) {
    const response = await get(new URL(pathFor(i), base), headers);
    if (response.status !== 200) throw new Error(`${pathFor(i)} answered ${response.status}: ${response.body}`);
    first ??= JSON.parse(response.body.toString());
  }
  globalThis.gc?.();
  const times = [];
  const deadline = performance.now() + latencyCapMs;
  for (let i = 0; i < latencyRequests && performance.now() < deadline; i++) {
    const url = new URL(pathFor(latencyWarmup + i), base);
    const t = performance.now();
    const response = await get(url, headers);
    times.push(performance.now() - t);
    if (response.status !== 200) throw new Error(`${url.pathname} answered ${response.status}: ${response.body}`);
  }
  return { ...describe(times), requested: latencyRequests, first };
}

/** Runs autocannon; resolves with its result and the request count of every 1-second tick. */
function cannon(options) {
  return new Promise((resolve, reject) => {
    const ticks = [];
    // autocannon ticks once more after the end, with 0 requests; its own histogram leaves that out too.
    const done = (error, result) =>
      error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve({ result, ticks: ticks.at(-1) === 0 ? ticks.slice(0, -1) : ticks });
    const instance = autocannon(options, done);
    instance.on('tick', ({ counter }) => ticks.push(counter));
  });
}

/**
 * Throughput of several targets measured the same way: the same request stream (`<prefix><id>`
 * over the same ids, same headers), a warm-up each, then ROUNDS alternating runs so that load
 * from elsewhere on the machine hits every target alike. req/s figures are over the 1-second
 * samples of all rounds.
 */
async function throughput(targets, { ids, headers }) {
  const rounds = 2;
  const make = (target, duration) => {
    let k = 0;
    return {
      url: target.base,
      connections: SETTINGS.connections,
      duration,
      headers,
      requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `${target.pathPrefix}${ids[k++ % ids.length]}` }) }],
    };
  };
  for (const target of targets) await cannon(make(target, SETTINGS.cannonWarmup));
  const runs = new Map(targets.map((t) => [t.key, []]));
  for (let round = 0; round < rounds; round++) {
    for (const target of targets) {
      globalThis.gc?.();
      const run = await cannon(make(target, SETTINGS.cannonSeconds / rounds));
      if (run.result.errors > 0 || run.result.non2xx > 0) {
        throw new Error(`${target.base}${target.pathPrefix}: ${run.result.errors} errors, ${run.result.non2xx} non-2xx responses`);
      }
      runs.get(target.key).push(run);
    }
  }
  const out = {};
  for (const target of targets) {
    const list = runs.get(target.key);
    const samples = describe(list.flatMap((r) => r.ticks));
    const total = list.reduce((a, r) => a + r.result.requests.total, 0);
    const bytes = list.reduce((a, r) => a + r.result.throughput.total, 0);
    const seconds = list.reduce((a, r) => a + r.result.duration, 0);
    out[target.key] = {
      label: target.label,
      rpsMedian: samples.median,
      rpsMean: round(total / seconds, 0),
      rpsMin: samples.min,
      samples: samples.count,
      total,
      seconds: round(seconds, 1),
      // Per round: autocannon's latency histograms do not merge, so the table shows the rounds' median of medians and worst p99.
      latencyMs: {
        median: describe(list.map((r) => r.result.latency.p50)).median,
        p99: Math.max(...list.map((r) => r.result.latency.p99)),
        max: Math.max(...list.map((r) => r.result.latency.max)),
      },
      bytesPerRequest: Math.round(bytes / total),
    };
    log(`${target.label}: ${out[target.key].rpsMedian} req/s (median of ${samples.count} 1-s samples), latency p99 ${out[target.key].latencyMs.p99} ms`);
  }
  return out;
}

// ------------------------------------------------------------------------------ phases

async function measureApi(dataDir, data) {
  const server = await startServer('api', dataDir);
  try {
    const { appUrl, bareUrl } = server.ready;
    const headers = { authorization: `Bearer ${data.token}` };
    // A fixed, shuffled sample of agents, so every request reads another agent.
    const sample = data.agentIds.filter((_, i) => i % 7 === 3);
    const stats = {};
    /** @type {[key: string, label: string, pathFor: (i: number) => string][]} */
    const cases = [
      ['globalStats7d', 'GET /api/agents/stats', () => '/api/agents/stats'],
      ['globalStats30d', 'GET /api/agents/stats?period=30d', () => '/api/agents/stats?period=30d'],
      ['agentStats7d', 'GET /api/agents/:id/stats', (i) => `/api/agents/${sample[i % sample.length]}/stats`],
      ['agentStats30d', 'GET /api/agents/:id/stats?period=30d', (i) => `/api/agents/${sample[i % sample.length]}/stats?period=30d`],
      ['getAgent', 'GET /api/agents/:id', (i) => `/api/agents/${sample[i % sample.length]}`],
    ];
    for (const [key, label, pathFor] of cases) {
      const result = await sequentialLatency({ base: appUrl, pathFor, headers });
      stats[key] = { label, ...result };
      log(`${label}: median ${round(result.median, 2)} ms, p99 ${round(result.p99, 2)} ms, max ${round(result.max, 2)} ms (n=${result.count})`);
    }
    // The API's counts against a direct count of the table: catches stats that read derived
    // tables the data set did not fill (the boundary moves by ~a minute: a few runs differ).
    const db = new SQLite(data.file, { readonly: true });
    const countSince = (/** @type {number} */ ms) =>
      /** @type {{ n: number }} */ (db.prepare('select count(*) as n from runs where queued_at >= ?').get(Date.now() - ms)).n;
    const sanity = {
      globalRunsIn7d: stats.globalStats7d.first.data.runsInPeriod,
      tableRunsIn7d: countSince(7 * 86_400_000),
      globalRunsIn30d: stats.globalStats30d.first.data.runsInPeriod,
      tableRunsIn30d: countSince(30 * 86_400_000),
      agentRunsIn7d: stats.agentStats7d.first.data.totalRuns,
    };
    db.close();
    sanity.ok =
      Math.abs(sanity.globalRunsIn7d - sanity.tableRunsIn7d) <= sanity.tableRunsIn7d * 0.001 &&
      Math.abs(sanity.globalRunsIn30d - sanity.tableRunsIn30d) <= sanity.tableRunsIn30d * 0.001;
    if (!sanity.ok) log(`WARNING: global stats disagree with the runs table: ${JSON.stringify(sanity)}`);
    for (const s of Object.values(stats)) delete s.first;
    await sqlCheckpoint(server, 'latency phase');

    // The bare route answers with the very document GET /api/agents/:id returns, so both move the
    // same bytes and the ratio prices what the service does per request (auth, SQL, schemas).
    const agentDoc = JSON.parse((await get(new URL(`/api/agents/${sample[0]}`, appUrl), headers)).body.toString());
    await server.send({ type: 'bare-body', body: agentDoc }, 'bare-body-set');
    const ids = sample.slice(0, 1000);
    await sqlCheckpoint(server, 'between phases');
    const { app, bare, bareTiny } = await throughput(
      [
        { key: 'app', label: 'GET /api/agents/:id', base: appUrl, pathPrefix: '/api/agents/' },
        { key: 'bare', label: 'bare Fastify, same body', base: bareUrl, pathPrefix: '/bare/' },
        { key: 'bareTiny', label: 'bare Fastify, {"hello":"world"}', base: bareUrl, pathPrefix: '/tiny/' },
      ],
      { ids, headers },
    );
    await sqlCheckpoint(server, 'throughput phase (all three targets)');
    const stopped = await server.stop();
    return {
      stats,
      sanity,
      rps: { app, bare, bareTiny, ratio: app.rpsMedian / bare.rpsMedian, ratioTiny: app.rpsMedian / bareTiny.rpsMedian },
      server: stopped,
    };
  } catch (error) {
    killChildren();
    throw error;
  }
}

async function measureLateness(dataDir, file) {
  const server = await startServer('schedule', dataDir);
  const { startedAt } = server.ready;
  const firstSlots = server.ready.firstSlots.map(([, slot]) => slot);
  const agentOrder = server.ready.firstSlots.map(([id]) => id);
  log(`scheduler running on ${firstSlots.length} agents; measuring for ${SETTINGS.scheduleSeconds} s`);
  await sleep(SETTINGS.scheduleSeconds * 1000);
  const stopped = await server.stop();
  printSql('scheduling phase', stopped.sql);

  const from = Math.min(...firstSlots);
  // Slots due more than a second before the stop must have fired; later ones may be mid-claim.
  const cutoff = stopped.stoppingAt - 1000;
  const db = new SQLite(file, { readonly: true });
  // Slots an agent's next_fire_at has moved past were claimed; a claimed slot without a run was
  // skipped (the agent still had a run queued or running: the overlap rule). Slots at or after
  // next_fire_at were never claimed before the stop.
  const agentRows = /** @type {{ id: string, n: number | null }[]} */ (db.prepare('select id, next_fire_at as n from agents').all());
  const nextFireOf = new Map(agentRows.map((a) => [a.id, a.n]));
  let expected = 0;
  let unclaimed = 0;
  firstSlots.forEach((first, i) => {
    if (first > cutoff) return;
    const slots = Math.floor((cutoff - first) / 60_000) + 1;
    expected += slots;
    const next = nextFireOf.get(agentOrder[i]) ?? Infinity;
    for (let k = 0; k < slots; k++) if (first + k * 60_000 >= next) unclaimed++;
  });

  const rows = /** @type {{ s: number, q: number, st: number | null, status: string }[]} */ (
    db
      .prepare(
        `select scheduled_for as s, queued_at as q, started_at as st, status from runs where trigger = 'schedule' and scheduled_for >= ? order by scheduled_for`,
      )
      .all(from)
  );
  db.close();
  const lateness = [];
  const queueWait = [];
  const statuses = {};
  const perSlotMax = new Map();
  let firedBeforeCutoff = 0;
  for (const r of rows) {
    const late = r.q - r.s;
    lateness.push(late);
    perSlotMax.set(r.s, Math.max(perSlotMax.get(r.s) ?? -Infinity, late));
    if (r.st !== null) queueWait.push(r.st - r.q);
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.s <= cutoff) firedBeforeCutoff++;
  }
  const early = lateness.filter((x) => x < 0).length;
  const committed = describe(stopped.committedLateness ?? []);
  delete stopped.committedLateness;
  return {
    seconds: round((stopped.stoppingAt - startedAt) / 1000, 1),
    lateness: describe(lateness),
    committed,
    /** The lateness of the last run fired for each slot: how long one slot's claims take. */
    lastOfSlot: describe([...perSlotMax.values()]),
    queueWait: describe(queueWait),
    statuses,
    expected,
    firedBeforeCutoff,
    notFired: expected - firedBeforeCutoff,
    unclaimed,
    skipped: expected - firedBeforeCutoff - unclaimed,
    early,
    server: stopped,
  };
}

// ------------------------------------------------------------------------------ RESULTS.md

const START = '<!-- bench:generated:start (written by bench/run.js; edits inside are overwritten) -->';
const END = '<!-- bench:generated:end -->';

function verdict(ok) {
  return ok ? 'met' : '**missed**';
}

function renderResults(r) {
  const { machine, data, api, lateness } = r;
  const ms = (x) => `${round(x, 2)} ms`;
  const lines = [];
  lines.push(START, '');
  lines.push(`## Latest run: ${r.date}`, '');
  lines.push(`Command: \`${r.command}\` (whole bench: ${round(r.totalSeconds, 0)} s)`, '');
  const src = machine.source;
  lines.push(
    `Code under test: \`dist/\` built from commit ${src.commit}${src.changedSrcFiles ? ` plus ${src.changedSrcFiles} uncommitted file(s) under src/ (${src.changed.slice(0, 12).join(', ')}${src.changed.length > 12 ? ', …' : ''})` : ''}.`,
    '',
  );
  lines.push('### Machine', '');
  lines.push(`- nproc: ${machine.nproc}; CPU: ${machine.cpu}; memory: ${machine.memoryGiB} GiB; ${machine.os}`);
  lines.push(
    `- 1-minute load average (${machine.nproc} cores): ${r.loads.map((l) => `${l.load1} ${l.phase}`).join(', ')}${
      Math.max(...r.loads.map((l) => l.load1)) > machine.nproc ? ' — **the machine was busy with other work; figures are pessimistic**' : ''
    }`,
  );
  const foreign = (f) => (f ? `${f.cpuSeconds} of ${f.availableSeconds} CPU-seconds (the bench itself: ${f.benchSeconds})` : 'unknown');
  lines.push(`- CPU used by other processes on the machine: API phases ${foreign(api.foreign)}; scheduling phase ${foreign(lateness.foreign)}.`);
  lines.push(
    `- Node ${machine.node}; SQLite ${machine.sqlite} (better-sqlite3 ${machine.betterSqlite3}); Fastify ${machine.fastify}; autocannon ${machine.autocannon}`,
    '',
  );
  lines.push('### Data set', '');
  const d = data.description;
  lines.push(
    `- ${d.agents.toLocaleString('en')} enabled agents, schedule \`\${i % 60} * * * * *\` (agent i fires at second i mod 60 of every minute: ~${Math.round(d.agents / 60)} agents per second), UTC.`,
    `- ${d.runs.toLocaleString('en')} runs over the last 30 days (${d.runsPerAgent} per agent, in time order): ${d.scheduledRuns.toLocaleString('en')} scheduled (distinct slots per agent), ${d.manualRuns.toLocaleString('en')} manual; ` +
      Object.entries(d.statusCounts)
        .map(([s, n]) => `${s} ${round((n / d.runs) * 100, 1)}%`)
        .join(', ') +
      '.',
    `- Ids: ${d.idScheme}. Rows written against the first migration's schema, then the later migrations run through the store (backfills included, ${round(d.upgradeSeconds, 1)} s), as when a populated database is upgraded.`,
    `- SQLite file ${round(d.fileBytes / 2 ** 20, 0)} MiB; generated in ${round(data.seconds, 1)} s; no ANALYZE (as the service leaves it).`,
    '',
  );
  lines.push('### Results', '');
  lines.push('| Measure | median | p99 | max | n | target | |', '|---|---|---|---|---|---|---|');
  const L = lateness.lateness;
  lines.push(
    `| Fire lateness (queued_at - scheduled_for, from the runs table) | ${ms(L.median)} | ${ms(L.p99)} | ${ms(L.max)} | ${L.count} | p99 < ${TARGETS.latenessP99Ms} ms | ${verdict(L.p99 < TARGETS.latenessP99Ms)} |`,
  );
  const C = lateness.committed;
  lines.push(
    `| Fire lateness, claim committed (run row visible) - scheduled_for ¹ | ${ms(C.median)} | ${ms(C.p99)} | ${ms(C.max)} | ${C.count} | p99 < ${TARGETS.latenessP99Ms} ms | ${verdict(C.p99 < TARGETS.latenessP99Ms)} |`,
  );
  for (const s of Object.values(api.stats)) {
    const isStats = s.label.includes('stats');
    lines.push(
      `| ${s.label} (sequential, keep-alive) | ${ms(s.median)} | ${ms(s.p99)} | ${ms(s.max)} | ${s.count} | ${isStats ? `< ${TARGETS.statsP99Ms} ms` : '(info)'} | ${isStats ? verdict(s.p99 < TARGETS.statsP99Ms) : ''} |`,
    );
  }
  lines.push(
    '',
    '¹ Observed in the server process when the transaction that claimed the tick had committed. It differs from queued_at when the',
    'scheduler reads the clock for a whole batch of claims before writing them: queued_at then understates how late the run really appeared.',
    '',
  );
  const { app, bare, bareTiny } = api.rps;
  lines.push(
    `| Throughput (autocannon, ${SETTINGS.connections} connections; ${SETTINGS.cannonSeconds} s per target in 2 alternating rounds, after ${SETTINGS.cannonWarmup} s warm-up) | req/s median of 1-s samples | req/s mean | latency median (rounds' median) | latency p99 (worst round) | bytes/response |`,
    '|---|---|---|---|---|---|',
  );
  lines.push(
    `| GET /api/agents/:id (1,000 agents in turn) | ${app.rpsMedian} | ${app.rpsMean} | ${app.latencyMs.median} ms | ${app.latencyMs.p99} ms | ${app.bytesPerRequest} |`,
  );
  lines.push(
    `| bare Fastify GET /bare/:id, same constant body | ${bare.rpsMedian} | ${bare.rpsMean} | ${bare.latencyMs.median} ms | ${bare.latencyMs.p99} ms | ${bare.bytesPerRequest} |`,
  );
  lines.push(
    `| bare Fastify GET /tiny/:id, {"hello":"world"} | ${bareTiny.rpsMedian} | ${bareTiny.rpsMean} | ${bareTiny.latencyMs.median} ms | ${bareTiny.latencyMs.p99} ms | ${bareTiny.bytesPerRequest} |`,
  );
  lines.push('');
  lines.push(
    `Ratio GET /api/agents/:id / bare (same body): **${round(api.rps.ratio, 3)}** (target >= ${TARGETS.rpsRatio}: ${verdict(api.rps.ratio >= TARGETS.rpsRatio)}); against the tiny body: ${round(api.rps.ratioTiny, 3)}.`,
    '',
  );
  lines.push('### Scheduling phase details', '');
  lines.push(
    `- ${lateness.seconds} s of real time with an AgentRunner that finishes at once (success), default config (max ${4} concurrent runs, 1 s safety poll).`,
    `- Slots due (up to 1 s before stop): ${lateness.expected}; fired: ${lateness.firedBeforeCutoff}; not fired: ${lateness.notFired} (${lateness.skipped} claimed but skipped because the agent's previous run was still queued or running, ${lateness.unclaimed} not yet claimed at the stop). Runs fired early (negative lateness): ${lateness.early}.`,
    `- Lateness of the last run of each slot (time to claim one second's ~${Math.round(data.description.agents / 60)} ticks): median ${ms(lateness.lastOfSlot.median)}, p99 ${ms(lateness.lastOfSlot.p99)}, max ${ms(lateness.lastOfSlot.max)} over ${lateness.lastOfSlot.count} slots.`,
    `- Queue wait (started_at - queued_at): median ${ms(lateness.queueWait.median)}, p99 ${ms(lateness.queueWait.p99)}, max ${ms(lateness.queueWait.max)}; statuses at stop: ${Object.entries(
      lateness.statuses,
    )
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}.`,
    `- Server process: ${round(lateness.server.cpuSeconds, 1)} CPU-seconds over the phase (${round((lateness.server.cpuSeconds * 1000) / Math.max(1, lateness.lateness.count), 2)} ms of CPU per fired run, scheduling and executing it; this figure depends little on other load); event-loop delay p50 ${ms(lateness.server.loopDelayMs.p50)}, p99 ${ms(lateness.server.loopDelayMs.p99)}, max ${ms(lateness.server.loopDelayMs.max)}.`,
    `- Sanity: GET /api/agents/stats counted ${api.sanity.globalRunsIn7d} runs in 7 d (table: ${api.sanity.tableRunsIn7d}) and ${api.sanity.globalRunsIn30d} in 30 d (table: ${api.sanity.tableRunsIn30d}); one agent ${api.sanity.agentRunsIn7d} in 7 d. ${
      api.sanity.ok ? 'Consistent.' : '**MISMATCH: the stats figures above are not trustworthy.**'
    }`,
    '',
  );
  lines.push(END);
  return lines.join('\n');
}

function writeResults(results) {
  const header = `# Benchmark results\n\nRun with \`npm run bench\` (see bench/run.js for what each phase does). The section between the markers is\nwritten by the bench itself; notes outside it are kept.\n\n${START}\n${END}\n`;
  writeResultsSection(START, END, renderResults(results), header);
  return RESULTS;
}

// ------------------------------------------------------------------------------ main

async function main() {
  const began = performance.now();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-bench-'));
  if (PROFILE) profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-bench-profiles-'));
  const cleanup = () => {
    killChildren();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      cleanup();
      process.exit(130);
    });
  }
  try {
    log(`data dir ${dataDir}; generating ${SETTINGS.agents} agents and ${SETTINGS.runs} runs`);
    const now = Date.now();
    const data = await generateData({ dataDir, agents: SETTINGS.agents, runs: SETTINGS.runs, now, farFuture: now + 365 * 86_400_000 });
    log(`data set ready in ${round(data.seconds, 1)} s (${round(data.description.fileBytes / 2 ** 20, 0)} MiB)`);
    const machine = machineInfo(data.sqliteVersion);

    noteLoad('start');
    log('phase 1+2: API latency and throughput (scheduler quiet)');
    const apiRun = await withForeignCpu(() => measureApi(dataDir, data));
    const api = { ...apiRun.result, foreign: apiRun.foreign };
    globalThis.gc?.();

    noteLoad('after API phases');
    log('phase 3: fire lateness');
    const latenessRun = await withForeignCpu(() => measureLateness(dataDir, data.file));
    const lateness = { ...latenessRun.result, foreign: latenessRun.foreign };
    noteLoad('after scheduling phase');
    const L = lateness.lateness;
    log(`fire lateness: median ${L.median} ms, p99 ${L.p99} ms, max ${L.max} ms, n=${L.count} (not fired: ${lateness.notFired} of ${lateness.expected})`);
    const C = lateness.committed;
    log(`fire lateness by commit time: median ${C.median} ms, p99 ${C.p99} ms, max ${C.max} ms, n=${C.count}`);

    const results = {
      date: new Date().toISOString(),
      command: `npm run bench${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      totalSeconds: (performance.now() - began) / 1000,
      machine,
      data,
      api,
      lateness,
      loads,
    };
    const report = renderResults(results);
    console.log(`\n${report.split('\n').slice(1, -1).join('\n')}`);
    // Smoke and diagnosis runs (instrumented) must not replace the recorded figures.
    if (QUICK || PROFILE || SQL_TIMING) log('--quick/--profile/--sql: bench/RESULTS.md left as it is');
    else log(`wrote ${writeResults(results)}`);
    if (profileDir) {
      const dir = profileDir;
      for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'))) {
        console.log(`\n${formatSummary(summarizeProfile(path.join(dir, f), { top: 30 }))}`);
      }
      log(`CPU profiles kept in ${profileDir}`);
    }
  } finally {
    cleanup();
    keepAlive.destroy();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

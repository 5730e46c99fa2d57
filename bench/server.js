// The server side of the benchmark, run as a child process of bench/run.js so that the load
// generator and the server under test do not share an event loop (or, on 2 cores, a core).
//
//   node bench/server.js api <dataDir>       the real App with a quiet scheduler, plus a bare Fastify
//   node bench/server.js schedule <dataDir>  the real App with every agent due at its next real slot
//
// It talks to the parent over IPC: it sends {type: 'ready', ...} once serving, and on
// {type: 'stop'} it stops everything, sends {type: 'stopped', ...} and exits. It exits on its own
// when the parent goes away.
import path from 'node:path';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import Fastify from 'fastify';
import { pino } from 'pino';
import { App } from '#dist/app.js';
import { loadConfig } from '#dist/config.js';
import { parseSchedule } from '#dist/domain/cron.js';
import { ZERO_USAGE } from '#dist/domain/types.js';
import { SQLITE_FILE } from '#dist/store/open-store.js';

const [mode, dataDir] = process.argv.slice(2);
if (!process.send || !dataDir || (mode !== 'api' && mode !== 'schedule')) {
  console.error('usage: node bench/server.js api|schedule <dataDir> (started by bench/run.js over IPC)');
  process.exit(2);
}

/** An AgentRunner that finishes every run at once, successfully. @type {import('#dist/engine/agent-runner.js').AgentRunner} */
const instantRunner = {
  async run() {
    return { ...ZERO_USAGE, costUsd: 0.0123, inputTokens: 1200, outputTokens: 80, numTurns: 1, status: 'success', output: 'done' };
  },
};

const send = (message) => process.send?.(message);

// Diagnosis only (bench/run.js --sql): times every statement the process prepares and runs, by SQL text.
const sqlTimes = new Map();
if (process.env.BENCH_SQL_TIMING === '1') {
  // Called below as prepare.call(this, ...), on the database it belongs to.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const prepare = SQLite.prototype.prepare;
  const entry = (sql) => {
    const key = sql.replace(/\s+/g, ' ').trim();
    let e = sqlTimes.get(key);
    if (!e) sqlTimes.set(key, (e = { sql: key, prepares: 0, prepareMs: 0, runs: 0, runMs: 0, maxRunMs: 0 }));
    return e;
  };
  /** @type {(this: SQLite.Database, sql: string) => SQLite.Statement} */
  const timedPrepare = function (sql) {
    const e = entry(sql);
    const t = performance.now();
    const stmt = prepare.call(this, sql);
    e.prepares++;
    e.prepareMs += performance.now() - t;
    for (const method of ['all', 'get', 'run']) {
      const original = stmt[method];
      stmt[method] = function timed(...params) {
        const t0 = performance.now();
        try {
          return original.apply(this, params);
        } finally {
          const dt = performance.now() - t0;
          e.runs++;
          e.runMs += dt;
          if (dt > e.maxRunMs) e.maxRunMs = dt;
        }
      };
    }
    return stmt;
  };
  SQLite.prototype.prepare = /** @type {SQLite.Database['prepare']} */ (timedPrepare);
}
const sqlReport = () =>
  [...sqlTimes.values()]
    .sort((a, b) => b.prepareMs + b.runMs - (a.prepareMs + a.runMs))
    .slice(0, 20)
    .map((e) => ({ ...e, prepareMs: Math.round(e.prepareMs), runMs: Math.round(e.runMs), maxRunMs: Math.round(e.maxRunMs * 10) / 10 }));
const resetSql = () => sqlTimes.clear();
// How late the event loop runs its callbacks while serving: a busy loop makes every timer late.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
/** @type {NodeJS.CpuUsage | null} */
let cpuAtReady = null;
// Diagnosis only (bench/run.js --profile): a CPU profile from "ready" to "stop", so start-up and
// the bench's own set-up are not in it.
const profileDir = process.env.BENCH_CPU_PROFILE_DIR;
const profiler = profileDir ? new Session() : null;
const startProfile = async () => {
  if (!profiler) return;
  profiler.connect();
  await profiler.post('Profiler.enable');
  await profiler.post('Profiler.setSamplingInterval', { interval: 500 });
  await profiler.post('Profiler.start');
};
const stopProfile = async () => {
  if (!profiler) return;
  const { profile } = await profiler.post('Profiler.stop');
  fs.writeFileSync(path.join(profileDir ?? '.', `${mode}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
  profiler.disconnect();
};
const markReady = async () => {
  await startProfile();
  loopDelay.enable();
  cpuAtReady = process.cpuUsage();
  resetSql();
};
const loopReport = () => {
  loopDelay.disable();
  const cpu = process.cpuUsage(cpuAtReady ?? undefined);
  return {
    loopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    sql: process.env.BENCH_SQL_TIMING === '1' ? sqlReport() : undefined,
  };
};
let stopping = false;
// The parent went away without asking us to stop (it crashed or was killed): do not linger.
process.on('disconnect', () => {
  if (!stopping) process.exit(1);
});

const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent' });
const app = await App.create(config, { runner: instantRunner, logger: pino({ level: 'silent' }), print: () => {} });

/**
 * When each fired tick's transaction had committed, minus its slot: the moment its run row exists
 * for everyone else. queued_at alone can understate that when the scheduler stamps a batch of
 * claims with clock readings taken before the batch's writes. Observed by wrapping the store
 * instance's claim method (bench-side; the service's code is not changed).
 */
const committedLateness = [];
function watchClaimCommits(store) {
  // claimTick may delegate to claimTicks: wrap only the one the scheduler calls per batch.
  const name = typeof store.claimTicks === 'function' ? 'claimTicks' : 'claimTick';
  const original = store[name];
  store[name] = async function watchedClaim(arg, ...rest) {
    const results = await original.call(this, arg, ...rest);
    const committedAt = Date.now();
    const claims = name === 'claimTicks' ? arg : [arg];
    const outcomes = name === 'claimTicks' ? results : [results];
    claims.forEach((claim, i) => {
      if (outcomes[i] === 'fired' && claim.slot !== null) committedLateness.push(committedAt - claim.slot);
    });
    return results;
  };
}

/** The constant body of the bare route /bare/:id (the parent sets it to a real agent document). */
/** @type {unknown} */
let bareBody = { hello: 'world' };
/** @type {import('fastify').FastifyInstance | null} */
let bare = null;

if (mode === 'api') {
  await app.start();
  const server = Fastify({ logger: false });
  bare = server;
  // Same shape of URL as GET /api/agents/:id, so both are driven by the same requests.
  server.get('/bare/:id', async () => bareBody);
  server.get('/tiny/:id', async () => ({ hello: 'world' }));
  await server.listen({ port: 0, host: '127.0.0.1' });
  const address = /** @type {import('node:net').AddressInfo} */ (server.server.address());
  await markReady();
  send({ type: 'ready', appUrl: app.url, bareUrl: `http://127.0.0.1:${address.port}` });
} else {
  // Every agent due at its next real slot, a short lead from now so start-up is not counted as
  // lateness. Done over a second connection to the same file (WAL), before the scheduler starts.
  const leadMs = 2000;
  const from = Date.now() + leadMs;
  const db = new SQLite(path.join(dataDir, SQLITE_FILE));
  db.pragma('busy_timeout = 5000');
  const agents = /** @type {{ id: string, schedule: string, timezone: string }[]} */ (
    db.prepare('select id, schedule, timezone from agents where enabled = 1').all()
  );
  const setNext = db.prepare('update agents set next_fire_at = ? where id = ?');
  const firstSlots = [];
  const schedules = new Map();
  const scheduleOf = (agent) => {
    const key = `${agent.timezone} ${agent.schedule}`;
    if (!schedules.has(key)) schedules.set(key, parseSchedule(agent.schedule, agent.timezone));
    return schedules.get(key);
  };
  db.transaction(() => {
    for (const agent of agents) {
      const next = scheduleOf(agent).nextAfter(from);
      setNext.run(next, agent.id);
      firstSlots.push([agent.id, next]);
    }
  })();
  db.close();
  watchClaimCommits(app.store);
  await app.start();
  await markReady();
  send({ type: 'ready', appUrl: app.url, startedAt: Date.now(), firstSlots });
}

process.on('message', (/** @type {{ type?: string, body?: unknown } | undefined} */ message) => void onMessage(message));

/** @param {{ type?: string, body?: unknown } | undefined} message */
async function onMessage(message) {
  if (message?.type === 'sql-report') {
    send({ type: 'sql-report', sql: sqlReport() });
    resetSql();
  } else if (message?.type === 'bare-body') {
    bareBody = message.body;
    send({ type: 'bare-body-set' });
  } else if (message?.type === 'stop') {
    stopping = true;
    const stoppingAt = Date.now();
    const load = loopReport();
    await stopProfile();
    await app.stop();
    await bare?.close();
    send({ type: 'stopped', stoppingAt, stoppedAt: Date.now(), ...load, committedLateness: mode === 'schedule' ? committedLateness : undefined });
    process.disconnect?.();
    setImmediate(() => process.exit(0));
  }
}

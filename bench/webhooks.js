// What webhook delivery costs and how fast it is: `npm run bench` runs it (after the others), or
// alone `npm run build && node bench/webhooks.js` (`--quick`: a smoke run that leaves RESULTS.md alone).
//
// One instance: the real store (SQLite, on a file), the outbox sender and (for latency) the run
// executor with a runner that ends each run at once; the receiver is bench/webhook-receiver.js, in
// a child process, answering 204 and checking every signature.
// 1. Throughput: N runs end while the sender is stopped (N events in the outbox), then the sender
//    starts; events delivered per second, from its start to the last arrival.
// 2. Latency: runs end one at a time, the receiver idle; for each, the time from the run's end
//    (its completedAt) to the event's arrival at the receiver. Median and p99 (target p99 < 1 s).
//
// Writes its section of bench/RESULTS.md between its own markers and prints the figures.
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemClock } from '#dist/clock.js';
import { DEFAULTS } from '#dist/defaults.js';
import { planNewAgent } from '#dist/domain/agent-fields.js';
import { SecretCipher } from '#dist/domain/secret-cipher.js';
import { ZERO_USAGE } from '#dist/domain/types.js';
import { OutboxSender } from '#dist/engine/outbox-sender.js';
import { RunExecutor } from '#dist/engine/run-executor.js';
import { silentLogger } from '#dist/logger.js';
import { OPERATOR } from '#dist/services/actor.js';
import { Webhooks } from '#dist/services/webhooks.js';
import { openSqliteStore } from '#dist/store/sqlite/open-sqlite-store.js';
import { RESULTS, writeResultsSection } from './results-file.js';

const START = '<!-- bench:webhooks:start (written by bench/webhooks.js; edits inside are overwritten) -->';
const END = '<!-- bench:webhooks:end -->';
const QUICK = process.argv.includes('--quick');
const SETTINGS = QUICK ? { events: 200, latencyRuns: 30 } : { events: 3_000, latencyRuns: 300 };
const TARGET_P99_MS = 1_000;

const log = (text) => process.stderr.write(`[bench:webhooks] ${text}\n`);
const percentile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
};

/** The receiver child: its URL, and a way to wait for arrivals. */
async function startReceiver() {
  const child = fork(path.join(import.meta.dirname, 'webhook-receiver.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const arrivals = [];
  /** @type {{ count: number; resolve: (value?: unknown) => void } | null} */
  let waiter = null;
  const url = await new Promise((resolve) => {
    child.on('message', (/** @type {any} */ message) => {
      if (message.url) return resolve(message.url);
      arrivals.push(message);
      if (waiter && arrivals.length >= waiter.count) waiter.resolve();
    });
  });
  const until = (count) => (arrivals.length >= count ? Promise.resolve() : new Promise((resolve) => (waiter = { count, resolve })));
  return { url, arrivals, until, setSecret: (secret) => child.send({ secret }), stop: () => child.kill() };
}

function newSender(store, cipher) {
  return new OutboxSender({
    store,
    clock: systemClock,
    logger: silentLogger,
    cipher,
    instanceId: 'bench',
    publicUrl: 'https://agents.example.com',
    retryBaseMs: DEFAULTS.webhookRetryBaseMs,
    allowPrivate: true,
    pollMs: DEFAULTS.outboxPollMs,
    concurrency: DEFAULTS.webhookConcurrency,
    timeoutMs: DEFAULTS.webhookTimeoutMs,
    maxResponseBytes: DEFAULTS.webhookResponseBytes,
    claimMs: DEFAULTS.webhookClaimMs,
  });
}

async function throughput(store, cipher, agentId, receiver) {
  const output = 'A report of a few lines.\n'.repeat(20);
  for (let i = 0; i < SETTINGS.events; i++) {
    const runId = randomUUID();
    await store.enqueueManualRun(agentId, runId, Date.now());
    await store.claimQueuedRun('bench-exec', Date.now(), Date.now() + 60_000);
    await store.finishRun(runId, 'bench-exec', { ...ZERO_USAGE, status: i % 5 ? 'success' : 'error', output, costUsd: 0.01 }, Date.now());
  }
  const sender = newSender(store, cipher);
  const started = performance.now();
  sender.start();
  await receiver.until(SETTINGS.events);
  const seconds = (performance.now() - started) / 1000;
  await sender.stop();
  const ids = new Set(receiver.arrivals.map((a) => a.id));
  return {
    events: SETTINGS.events,
    seconds,
    perSecond: SETTINGS.events / seconds,
    once: ids.size === SETTINGS.events,
    verified: receiver.arrivals.every((a) => a.ok),
  };
}

async function latency(store, cipher, agentId, receiver, dir) {
  /** @type {import('#dist/engine/agent-runner.js').AgentRunner} */
  const runner = { run: async (request) => ({ ...ZERO_USAGE, status: 'success', output: `done ${request.runId}` }) };
  const executor = new RunExecutor({
    ...{ store, runner, clock: systemClock, logger: silentLogger, instanceId: 'bench-exec-2', maxConcurrentRuns: 1 },
    ...{ leaseMs: 30_000, heartbeatMs: 5_000, pollMs: 1_000, workspacesDir: dir, secrets: { forAgent: async () => ({}) } },
  });
  const sender = newSender(store, cipher);
  executor.start();
  sender.start();
  const before = receiver.arrivals.length;
  const samples = [];
  for (let i = 0; i < SETTINGS.latencyRuns; i++) {
    await store.enqueueManualRun(agentId, randomUUID(), Date.now());
    executor.wake();
    await receiver.until(before + i + 1);
    const arrival = receiver.arrivals[before + i];
    samples.push(arrival.at - Date.parse(arrival.completedAt));
    // The receiver is idle between events.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await sender.stop();
  await executor.stop(1_000);
  return { runs: samples.length, median: percentile(samples, 0.5), p99: percentile(samples, 0.99), max: Math.max(...samples) };
}

function section(t, l) {
  const fmt = (ms) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  return [
    `One instance (SQLite on a file), the sender's defaults (${DEFAULTS.webhookConcurrency} deliveries at once, keep-alive), a receiver in a child process that answers 204 and checks every signature:`,
    '',
    '| figure | value |',
    '|---|---|',
    `| throughput: ${t.events} run events already in the outbox, sent from the sender's start to the last arrival | ${t.perSecond.toFixed(0)} events/s (${t.seconds.toFixed(2)} s) |`,
    `| each event arrived once, every signature valid | ${t.once && t.verified ? 'yes' : '**no**'} |`,
    `| latency from a run's end to its event's arrival, idle receiver, ${l.runs} runs: median | ${fmt(l.median)} |`,
    `| the same, p99 | ${fmt(l.p99)} (target under ${TARGET_P99_MS} ms: ${l.p99 < TARGET_P99_MS ? 'met' : '**missed**'}) |`,
    `| the same, max | ${fmt(l.max)} |`,
    '',
    "Latency includes the run's end transaction (the event is written in it), waking the sender, the claim, signing, and the HTTP request; the sender is woken by the commit on its own instance, so it does not wait for its 1 s poll.",
  ];
}

function write(lines) {
  const block = [
    START,
    '',
    `## Webhooks: ${new Date().toISOString()}`,
    '',
    'Command: `npm run bench` (`node bench/webhooks.js`)',
    '',
    `- Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}); Node ${process.version}; 1-minute load average ${(os.loadavg()[0] ?? 0).toFixed(2)}.`,
    '',
    ...lines,
    '',
    END,
  ].join('\n');
  writeResultsSection(START, END, block);
  log(`results written to ${path.relative(process.cwd(), RESULTS)}`);
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-bench-webhooks-'));
  const receiver = await startReceiver();
  const store = openSqliteStore(path.join(dir, 'bench.sqlite'));
  try {
    await store.migrate();
    const cipher = new SecretCipher(randomBytes(32));
    const { fields, nextFireAt } = planNewAgent({ name: 'bench', schedule: '0 9 1 6 *', prompt: 'p', enabled: false }, Date.now());
    const agent = await store.createAgent(fields, null, nextFireAt, Date.now());
    const webhooks = new Webhooks({ store, clock: systemClock, cipher, webhookPolicy: { allowPrivate: true } });
    const { secret } = await webhooks.create({ name: 'bench', url: `${receiver.url}/hook`, events: ['run.succeeded', 'run.failed'] }, OPERATOR);
    receiver.setSecret(secret);
    log(`throughput: ${SETTINGS.events} events`);
    const t = await throughput(store, cipher, agent.id, receiver);
    log(`latency: ${SETTINGS.latencyRuns} runs`);
    const l = await latency(store, cipher, agent.id, receiver, dir);
    const lines = section(t, l);
    for (const line of lines) process.stdout.write(`${line}\n`);
    if (!QUICK) write(lines);
  } finally {
    receiver.stop();
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();

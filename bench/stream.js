// What recording and streaming a run's transcript costs. Run it with `npm run bench` (after the
// other benches) or alone with `npm run bench:stream` (`-- --quick`: a smoke run that leaves
// RESULTS.md alone). Two parts:
//
// 1. Recording. The real App, ClaudeRunner, Agent SDK and `claude` against the fake model (in a
//    child process of its own, so its CPU is nobody's), one run at a time of an agent whose run
//    makes 20 tool calls (Bash `echo`), the sandbox off. Runs alternate between transcript on (the
//    production path: SDK messages -> events -> writer -> store -> bus) and off (the runner's
//    onEvent removed), after a warm-up. Per run: this process's CPU (the service), the CPU of the
//    reaped `claude` tree, the events stored. Then the writer and store alone: many such
//    transcripts pushed through RunEventWriter into SQLite, for a steadier figure per event.
// 2. Streaming. bench/stream-server.js (a child) runs a run that reports a tool call every 50 ms;
//    100 SSE clients (10 users x 10 streams) follow it from start to end. Lag of each event at each
//    client = received - the event's `at` (the writer's stamp; it includes the writer's batching,
//    up to 200 ms); the server's memory before, at its peak and after; every client must get every
//    event exactly once, then `end`.
//
// Writes its section of bench/RESULTS.md between its own markers and prints the figures.
import { execFileSync, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { pino } from 'pino';
import { App } from '#dist/app.js';
import { ClaudeRunner } from '#dist/claude/claude-runner.js';
import { systemClock } from '#dist/clock.js';
import { loadConfig } from '#dist/config.js';
import { RunEventBus } from '#dist/engine/run-event-bus.js';
import { RunEventWriter } from '#dist/engine/run-event-writer.js';
import { silentLogger } from '#dist/logger.js';
import { writeSection } from './stream-results.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');
const SETTINGS = QUICK
  ? { runs: 2, warmup: 1, writerRuns: 50, clients: 100, streamMs: 4_000 }
  : { runs: 8, warmup: 1, writerRuns: 400, clients: 100, streamMs: 20_000 };
const TOOL_CALLS = 20;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const ADMIN = `bench-admin-${'y'.repeat(32)}`;

const log = (text) => process.stderr.write(`[bench:stream] ${text}\n`);
const median = (values) => percentile(values, 0.5);
function percentile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
const cpuMs = (since) => {
  const cpu = process.cpuUsage(since);
  return (cpu.user + cpu.system) / 1000;
};
/** CPU of the reaped children of this process (the `claude` trees of finished runs), in ms. */
function childrenCpuMs() {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
}

/** The fake model as a child process (compiled from test/ once): its CPU is neither the service's nor a run's. */
async function startFakeModel(dir) {
  const out = path.join(dir, 'fake');
  const tsc = path.join(ROOT, 'node_modules/typescript-native/bin/tsc');
  const flags = ['--ignoreConfig', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', '--skipLibCheck', '--outDir', out];
  execFileSync(process.execPath, [tsc, ...flags, path.join(ROOT, 'test/fake-anthropic/main.ts')], { stdio: 'inherit' });
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
  const child = spawn(process.execPath, [path.join(out, 'main.js')], {
    env: { ...process.env, FAKE_ANTHROPIC_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', () => reject(new Error('the fake model exited')));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** An API request to an in-process app, as the admin. */
async function api(app, method, url, body) {
  const response = await app.server.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` }, ...(body ? { payload: body } : {}) });
  if (response.statusCode !== 200) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** Part 1: per run, with the transcript recorded and without. */
async function recordingCost(dir) {
  const fake = await startFakeModel(dir);
  const dataDir = path.join(dir, 'data');
  let recording = true;
  const env = {
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-bench',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
  };
  const claude = new ClaudeRunner({ agentsDir: path.join(dataDir, 'agents'), env, sandbox: 'off', protectedPaths: [dataDir] });
  /** @type {import('#dist/engine/agent-runner.js').AgentRunner} */
  const runner = { run: (request) => claude.run(recording ? request : { ...request, onEvent: undefined }) };
  const config = loadConfig({}, { dataDir, port: 0, logLevel: 'silent', adminToken: ADMIN, sandbox: 'off', maxConcurrentRuns: 1, retentionMs: 0 });
  const app = await App.create(config, { runner, logger: pino({ level: 'silent' }), print: () => {} });
  await app.start();
  const executor = app.executor;
  if (!executor) throw new Error('the bench app executes runs');
  try {
    const steps = Array.from({ length: TOOL_CALLS }, (_, i) => ({ tool: 'Bash', input: { command: `echo step ${i + 1}`, description: 'Echo' } }));
    const directive = `steps=${Buffer.from(JSON.stringify(steps)).toString('base64')} text="All ${TOOL_CALLS} steps done."`;
    const prompt = `Bench. [[fake: ${directive}]]`;
    const agent = (await api(app, 'POST', '/api/agents', { name: 'bench', schedule: '0 9 1 6 *', prompt, maxTurns: 50, allowedTools: ['Bash'] })).data;
    const oneRun = async () => {
      const cpu0 = process.cpuUsage();
      const children0 = childrenCpuMs();
      const t0 = performance.now();
      const { runId } = await api(app, 'POST', `/api/agents/${agent.id}/run`);
      await new Promise((resolve) => {
        const off = executor.runEvents.subscribe(runId, (update) => update.kind === 'ended' && (off(), resolve(undefined)));
      });
      const wallMs = performance.now() - t0;
      const serviceCpuMs = cpuMs(cpu0);
      // The `claude` tree is reaped just after the run ends.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const run = (await api(app, 'GET', `/api/runs/${runId}`)).data;
      if (run.status !== 'success') throw new Error(`run ${runId} ended ${run.status}: ${run.output}`);
      const events = (await app.store.listRunEvents(runId, { after: 0, limit: 5_000 })).length;
      return { wallMs, serviceCpuMs, claudeCpuMs: childrenCpuMs() - children0, events };
    };
    const samples = { on: [], off: [] };
    for (let i = 0; i < SETTINGS.warmup; i++) {
      for (const mode of ['on', 'off']) {
        recording = mode === 'on';
        await oneRun();
      }
    }
    for (let i = 0; i < SETTINGS.runs; i++) {
      for (const mode of i % 2 ? ['off', 'on'] : ['on', 'off']) {
        recording = mode === 'on';
        samples[mode].push(await oneRun());
        log(`run ${mode}: ${JSON.stringify(samples[mode].at(-1))}`);
      }
    }
    const writer = await writerCost(app);
    return { samples, writer };
  } finally {
    await app.stop();
    fake.stop();
  }
}

/** The writer and the store alone: transcripts of a 20-tool-call run, flushed every 5 events (a batch per ~200 ms at a model's pace). */
async function writerCost(app) {
  /** @type {import('#dist/domain/run-events.js').RunEventInput[]} */
  const transcript = [{ type: 'init', model: 'claude-bench', tools: ['Bash', 'Read', 'Grep'], mcpServers: [] }];
  for (let i = 1; i <= TOOL_CALLS; i++) {
    transcript.push({ type: 'text', text: `Now step ${i}.` });
    transcript.push({ type: 'tool_use', id: `toolu_${i}`, name: 'Bash', input: { command: `echo step ${i}`, description: 'Echo' } });
    transcript.push({ type: 'tool_result', toolUseId: `toolu_${i}`, isError: false, content: `step ${i}\n`.repeat(20) });
  }
  const agent = (await api(app, 'POST', '/api/agents', { name: 'writer', schedule: '0 9 1 6 *', prompt: 'p', enabled: false })).data;
  const runIds = [];
  for (let i = 0; i < SETTINGS.writerRuns; i++) {
    const runId = `writer-${i}`;
    await app.store.enqueueManualRun(agent.id, runId, Date.now());
    await app.store.claimQueuedRun('bench-writer', Date.now(), Date.now() + 3_600_000);
    runIds.push(runId);
  }
  const bus = new RunEventBus();
  const cpu0 = process.cpuUsage();
  for (const runId of runIds) {
    const writer = new RunEventWriter({
      runId,
      executorId: 'bench-writer',
      store: app.store,
      bus,
      clock: systemClock,
      logger: silentLogger,
      secrets: { TOKEN: 'not-in-it' },
      limits: { flushEvents: 5 },
    });
    for (const event of transcript) writer.push(event);
    await writer.close([
      { type: 'result', status: 'success', costUsd: 0.1, inputTokens: 1, outputTokens: 1, cacheReadInputTokens: 0, cacheCreationInputTokens: 0, numTurns: 21 },
    ]);
  }
  const totalMs = cpuMs(cpu0);
  const events = SETTINGS.writerRuns * (transcript.length + 1);
  return { runs: SETTINGS.writerRuns, eventsPerRun: transcript.length + 1, cpuMsPerEvent: totalMs / events, cpuMsPerRun: totalMs / SETTINGS.writerRuns };
}

/** Part 2: 100 SSE clients on one running run, the server in a child process. */
async function streamFanOut(dir) {
  const child = fork(path.join(import.meta.dirname, 'stream-server.js'), [path.join(dir, 'stream')], {
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  /** @type {(type: string) => Promise<any>} */
  const next = (type) =>
    new Promise((resolve) => {
      const on = (/** @type {any} */ m) => {
        if (m?.type !== type) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
    });
  const memory = (gc = false) => (child.send({ type: 'memory', gc }), next('memory'));
  try {
    const ready = await next('ready');
    const request = async (method, url, body) => {
      const response = await fetch(ready.url + url, {
        method,
        headers: { authorization: `Bearer ${ready.admin}`, 'content-type': 'application/json' },
        body: body && JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${method} ${url}: ${response.status}`);
      return response.json();
    };
    const agent = (await request('POST', '/api/agents', { name: 'streamed', schedule: '0 9 1 6 *', prompt: 'p' })).data;
    /** One run followed by every client from its start to its end. */
    const round = async (durationMs) => {
      const { runId } = await request('POST', `/api/agents/${agent.id}/run`);
      while ((await request('GET', `/api/runs/${runId}`)).data.status !== 'running') await new Promise((resolve) => setTimeout(resolve, 20));
      const before = await memory(true);
      const clients = await Promise.all(
        Array.from({ length: SETTINGS.clients }, (_, i) => follow(`${ready.url}/api/runs/${runId}/stream`, ready.tokens[i % ready.tokens.length])),
      );
      const idle = await memory(true);
      child.send({ type: 'emit', durationMs, intervalMs: 50 });
      let peak = idle;
      const sampler = setInterval(() => void memory().then((m) => (peak = m.rss > peak.rss ? m : peak)), 500);
      await Promise.all(clients.map((c) => c.done));
      clearInterval(sampler);
      const during = await memory();
      // The clients' sockets close just after `end`: let them go before the last sample.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const after = await memory(true);
      const stored = (await request('GET', `/api/runs/${runId}/events?limit=5000`)).data.map((e) => e.seq);
      return { clients, stored, memory: { before, idle, peak, after }, cpuMsDuring: during.cpuMs - idle.cpuMs };
    };
    // A first, short round compiles and warms what streaming uses: the measured round's memory
    // before and after then tells what streaming holds, not what the process first loaded.
    await round(2_000);
    const { clients, stored, memory: measured, cpuMsDuring } = await round(SETTINGS.streamMs);
    const exact = clients.every((c) => c.seqs.length === stored.length && c.seqs.every((s, i) => s === stored[i]) && c.ended);
    const lags = clients.flatMap((c) => c.lags);
    return {
      clients: clients.length,
      events: stored.length,
      exact,
      lag: { median: median(lags), p99: percentile(lags, 0.99), max: Math.max(...lags) },
      memory: measured,
      cpuMsDuring,
    };
  } finally {
    child.send({ type: 'stop' });
    await next('stopped');
  }
}

/** One SSE client: the seq and lag of every event it receives, until `end`. */
function follow(url, token) {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (response) => {
        if (response.statusCode !== 200) return reject(new Error(`stream: ${response.statusCode}`));
        /** @type {{ seqs: number[], lags: number[], ended: boolean, done: Promise<void> }} */
        const client = { seqs: [], lags: [], ended: false, done: new Promise((done) => response.on('end', () => done())) };
        let buffer = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => {
          const now = Date.now();
          buffer += chunk;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, cut);
            buffer = buffer.slice(cut + 2);
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (!data) continue;
            if (/^event: end$/m.test(block)) client.ended = true;
            else {
              const event = JSON.parse(data);
              client.seqs.push(event.seq);
              client.lags.push(now - Date.parse(event.at));
            }
          }
        });
        resolve(client);
      })
      .on('error', reject);
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-stream-'));
try {
  const loadBefore = os.loadavg()[0] ?? 0;
  log(`recording: ${SETTINGS.runs} runs per mode of ${TOOL_CALLS} tool calls`);
  const recording = await recordingCost(dir);
  log(`streaming: ${SETTINGS.clients} clients for ${SETTINGS.streamMs / 1000} s`);
  const streaming = await streamFanOut(dir);
  const loadAfter = os.loadavg()[0] ?? 0;
  writeSection({ recording, streaming, settings: SETTINGS, toolCalls: TOOL_CALLS, loadBefore, loadAfter, write: !QUICK });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

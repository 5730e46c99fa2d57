// The server side of the stream benchmark (bench/stream.js), a child process so that the 100 SSE
// clients and the server under test do not share an event loop:
//
//   node bench/stream-server.js <dataDir>
//
// The real App (SQLite in <dataDir>, the real executor, event writer, bus and API) with a runner
// that, once the parent says `emit`, reports a steady transcript (a tool call, its result and now
// and then a text, every `intervalMs`) for `durationMs`, then ends the run. Ten viewer users with a
// token each (a user may hold 10 streams). Over IPC: {type: 'ready', url, admin, tokens}; on
// {type: 'memory', gc?} it answers {type: 'memory', rss, heapUsed, cpuMs} (after a full GC if asked; it
// runs with --expose-gc); on {type: 'stop'} it stops.
import { pino } from 'pino';
import { App } from '#dist/app.js';
import { loadConfig } from '#dist/config.js';
import { displayPrefix, generateToken, hashToken } from '#dist/domain/tokens.js';
import { ZERO_USAGE } from '#dist/domain/types.js';

const dataDir = process.argv[2];
if (!process.send || !dataDir) {
  console.error('usage: node bench/stream-server.js <dataDir> (started by bench/stream.js over IPC)');
  process.exit(2);
}
const send = (message) => process.send?.(message);
process.on('disconnect', () => process.exit(0));

const ADMIN = `bench-admin-${'x'.repeat(32)}`;
/** @type {null | ((plan: { durationMs: number, intervalMs: number }) => void)} */
let startEmitting = null;

/** @type {import('#dist/engine/agent-runner.js').AgentRunner} */
const pacedRunner = {
  async run(request) {
    const plan = await new Promise((resolve) => (startEmitting = resolve));
    const emit = request.onEvent ?? (() => {});
    const end = Date.now() + plan.durationMs;
    let i = 0;
    while (Date.now() < end && !request.signal.aborted) {
      i++;
      const id = `toolu_${i}`;
      emit({ type: 'tool_use', id, name: 'Bash', input: { command: `grep -rn "pattern ${i}" src | head -20`, description: 'Search' } });
      emit({ type: 'tool_result', toolUseId: id, isError: false, content: `src/file-${i}.ts:${i}: a matching line\n`.repeat(8) });
      if (i % 5 === 0) emit({ type: 'text', text: `Step ${i}: found what I was looking for; **next**, the tests.` });
      request.onProgress?.({ ...ZERO_USAGE, costUsd: i * 0.001, inputTokens: i * 900, outputTokens: i * 40, numTurns: i });
      await new Promise((resolve) => setTimeout(resolve, plan.intervalMs));
    }
    return { ...ZERO_USAGE, costUsd: i * 0.001, inputTokens: i * 900, outputTokens: i * 40, numTurns: i, status: 'success', output: 'done' };
  },
};

const config = loadConfig({}, { dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent', adminToken: ADMIN, retentionMs: 0 });
const app = await App.create(config, { runner: pacedRunner, logger: pino({ level: 'silent' }), print: () => {} });
await app.start();
const tokens = [];
for (let u = 0; u < 10; u++) {
  const user = await app.store.createUser({ name: `viewer-${u}`, role: 'viewer' }, Date.now());
  const token = generateToken();
  await app.store.createToken({ userId: user.id, label: 'bench', tokenHash: hashToken(token), prefix: displayPrefix(token) }, Date.now());
  tokens.push(token);
}
send({ type: 'ready', url: app.url, admin: ADMIN, tokens });

process.on('message', (/** @type {{ type?: string, durationMs?: number, intervalMs?: number, gc?: boolean }} */ message) => {
  if (message.type === 'emit') {
    startEmitting?.({ durationMs: message.durationMs ?? 10_000, intervalMs: message.intervalMs ?? 50 });
  } else if (message.type === 'memory') {
    if (message.gc) for (let i = 0; i < 3; i++) global.gc?.();
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    send({ type: 'memory', rss: memory.rss, heapUsed: memory.heapUsed, cpuMs: (cpu.user + cpu.system) / 1000 });
  } else if (message.type === 'stop') {
    void app.stop().then(() => {
      send({ type: 'stopped' });
      process.exit(0);
    });
  }
});

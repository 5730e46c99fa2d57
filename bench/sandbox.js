// What the run boundary costs: a trivial run (one text answer from the fake model) and a run with
// one Bash command, each with the sandbox on (CRON_AGENTS_SANDBOX=required) and off, through the
// real ClaudeRunner, the real Agent SDK and its `claude` binary. Run it with `npm run bench:sandbox`
// (builds, then `node bench/sandbox.js`). Options: --runs N (trivial runs per mode, default 15),
// --quick (5 runs, RESULTS.md left alone).
//
// Per run: wall time (from run() to its outcome), the CPU of this process (the service: the runner,
// its hooks and checks, the SDK's message handling) and the CPU of the `claude` process tree (user +
// sys of the reaped children, from /proc/self/stat). Modes alternate run by run after a warm-up, so
// load from other work on the machine falls on both alike. Writes its section of bench/RESULTS.md
// between its own markers and prints the figures.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ClaudeRunner } from '#dist/claude/claude-runner.js';
import { RESULTS, writeResultsSection } from './results-file.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const START = '<!-- bench:sandbox:start (written by bench/sandbox.js; edits inside are overwritten) -->';
const END = '<!-- bench:sandbox:end -->';
const args = process.argv.slice(2);
const QUICK = args.includes('--quick');
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : QUICK ? 5 : 15;
const BASH_RUNS = Math.max(3, Math.round(RUNS * 0.6));
const WARMUP = 2;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const log = (text) => process.stderr.write(`[bench:sandbox] ${text}\n`);

/** The fake model lives in test/ as TypeScript: compiled once into a temp dir. */
async function startFake(dir) {
  const out = path.join(dir, 'fake');
  execFileSync(
    process.execPath,
    [
      path.join(ROOT, 'node_modules/typescript-native/bin/tsc'),
      '--ignoreConfig',
      '--module',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      '--skipLibCheck',
      '--outDir',
      out,
      path.join(ROOT, 'test/fake-anthropic/fake-anthropic-server.ts'),
    ],
    { stdio: 'inherit' },
  );
  fs.writeFileSync(path.join(out, 'package.json'), '{"type":"module"}');
  const { startFakeAnthropic } = await import(pathToFileURL(path.join(out, 'fake-anthropic-server.js')).href);
  return startFakeAnthropic({ keepRequests: 100 });
}

/** CPU of the reaped children of this process (the `claude` trees of finished runs), in ms. */
function childrenCpuMs() {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state(0) ... cutime(13) cstime(14).
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLK_TCK;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

let seq = 0;

async function oneRun(runner, dir, directive) {
  const id = `bench-${process.pid}-${++seq}`;
  const cwd = path.join(dir, 'workspaces', id);
  fs.mkdirSync(cwd, { recursive: true });
  const request = {
    runId: id,
    agentId: id,
    prompt: `Bench ${id}. [[fake: ${directive}]]`,
    maxTurns: 5,
    maxBudgetUsd: null,
    model: null,
    allowedTools: ['Bash'],
    disallowedTools: [],
    allowedDomains: [],
    systemPrompt: null,
    effort: null,
    fallbackModel: null,
    mcpServers: {},
    secrets: {},
    workspace: null,
    cwd,
    signal: new AbortController().signal,
  };
  const cpu0 = process.cpuUsage();
  const children0 = childrenCpuMs();
  const t0 = performance.now();
  const outcome = await runner.run(request);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (outcome.status !== 'success') throw new Error(`run ${id} ended ${outcome.status}: ${outcome.output}`);
  return { wallMs, serviceCpuMs: (cpu.user + cpu.system) / 1000, claudeCpuMs: childrenCpuMs() - children0 };
}

/** Runs `count` runs of each mode, alternating, after a warm-up of each; returns the samples by mode. */
async function series(runners, dir, directive, count) {
  const samples = { required: [], off: [] };
  for (let i = 0; i < WARMUP; i++) for (const mode of ['required', 'off']) await oneRun(runners[mode], dir, directive);
  for (let i = 0; i < count; i++) {
    const order = i % 2 ? ['off', 'required'] : ['required', 'off'];
    for (const mode of order) samples[mode].push(await oneRun(runners[mode], dir, directive));
  }
  return samples;
}

function summarize(samples) {
  const figure = (mode, key) => median(samples[mode].map((s) => s[key]));
  const row = {};
  for (const key of ['wallMs', 'serviceCpuMs', 'claudeCpuMs']) {
    const on = figure('required', key);
    const off = figure('off', key);
    row[key] = { on, off, added: on - off, ratio: on / off };
  }
  return row;
}

function table(label, row, count) {
  const f = (x) => x.toFixed(0);
  const r = (x) => x.toFixed(2);
  return [
    `${label} (${count} runs per mode, medians):`,
    '',
    '| figure | sandbox off | sandbox on | added | on / off |',
    '|---|---|---|---|---|',
    `| wall time per run | ${f(row.wallMs.off)} ms | ${f(row.wallMs.on)} ms | ${f(row.wallMs.added)} ms | ${r(row.wallMs.ratio)} |`,
    `| service CPU per run (this process) | ${f(row.serviceCpuMs.off)} ms | ${f(row.serviceCpuMs.on)} ms | ${f(row.serviceCpuMs.added)} ms | ${r(row.serviceCpuMs.ratio)} |`,
    `| \`claude\` tree CPU per run | ${f(row.claudeCpuMs.off)} ms | ${f(row.claudeCpuMs.on)} ms | ${f(row.claudeCpuMs.added)} ms | ${r(row.claudeCpuMs.ratio)} |`,
  ];
}

function writeResults(trivial, bash, loadBefore, loadAfter) {
  const lines = [
    START,
    '',
    `## The sandbox's cost per run: ${new Date().toISOString()}`,
    '',
    `Command: \`npm run bench:sandbox\` (\`node bench/sandbox.js --runs ${RUNS}\`)`,
    '',
    `- Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}); Node ${process.version}; 1-minute load average ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after.`,
    '- The real ClaudeRunner, Agent SDK and `claude` binary against the fake model on 127.0.0.1, one run at a time, a fresh',
    '  workspace per run, modes alternating after a warm-up. "On" is the production boundary (CRON_AGENTS_SANDBOX=required:',
    '  bubblewrap, deny-by-default reads, the network proxy, the WebFetch hook); "off" keeps the environment allow-list and hook.',
    '',
    ...table('Trivial run (one text answer)', trivial, RUNS),
    '',
    ...table('One Bash command (`echo hi`), then the answer', bash, BASH_RUNS),
    '',
    END,
  ];
  writeResultsSection(START, END, lines.join('\n'));
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sandbox-'));
const fake = await startFake(dir);
try {
  const env = {
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-bench',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_AUTOUPDATER: '1',
  };
  const agentsDir = path.join(dir, 'agents');
  const runners = {
    required: new ClaudeRunner({ agentsDir, env, sandbox: 'required', protectedPaths: [dir] }),
    off: new ClaudeRunner({ agentsDir, env, sandbox: 'off', protectedPaths: [dir] }),
  };
  const loadBefore = os.loadavg()[0] ?? 0;
  log(`trivial runs: ${RUNS} per mode`);
  const trivial = summarize(await series(runners, dir, 'text="ok"', RUNS));
  log(`one-command runs: ${BASH_RUNS} per mode`);
  const bash = summarize(await series(runners, dir, 'tool_turns=1 command="echo hi" text="ok"', BASH_RUNS));
  const loadAfter = os.loadavg()[0] ?? 0;
  for (const line of [...table('Trivial run', trivial, RUNS), '', ...table('One Bash command', bash, BASH_RUNS)]) process.stdout.write(`${line}\n`);
  if (!QUICK) {
    writeResults(trivial, bash, loadBefore, loadAfter);
    log(`results written to ${path.relative(ROOT, RESULTS)}`);
  }
} finally {
  await fake.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The boundary of a run (src/claude/run-boundary.ts), tried with the real ClaudeRunner, the real
 * SDK and its `claude` binary against the fake model, which calls the tools a test scripts
 * (`steps=`). Each escape is tried twice with the same tool calls: with the sandbox on it fails,
 * with the sandbox off it succeeds, so these tests notice when the sandbox stops working.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import dns from 'node:dns/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaudeRunner, type ClaudeRunnerOptions } from '../../src/claude/claude-runner.js';
import type { RunOutcome } from '../../src/domain/types.js';
import type { AgentRunRequest } from '../../src/engine/agent-runner.js';
import { firstUserText, startFakeAnthropic, stepsDirective, type FakeAnthropic, type FakeToolStep } from '../fake-anthropic/fake-anthropic-server.js';
import { runRequest } from '../support/run-request.js';

const TEST_TIMEOUT = 60_000;
const MODEL_KEY = 'sk-ant-model-key-never-in-a-command';
const ADMIN_TOKEN = 'admin-token-of-the-service-0123456789abcdef';
const DB_CONTENT = 'SQLITE-DATABASE-CONTENT';
const OTHER_SECRET = 'OTHER-AGENT-SECRET-CONTENT';

let fake: FakeAnthropic;
let root: string;
let host: http.Server;
let hostPort: number;
const hostHits: string[] = [];

beforeAll(async () => {
  fake = await startFakeAnthropic();
  root = mkdtempSync(join(tmpdir(), 'run-boundary-'));
  host = http.createServer((req, res) => {
    hostHits.push(req.url ?? '');
    res.end('HELLO-FROM-HOST');
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  hostPort = (host.address() as AddressInfo).port;
});

afterAll(async () => {
  await fake?.close();
  await new Promise((resolve) => host?.close(resolve));
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A data dir laid out as the service lays it out: the database, two agents' workspaces, their homes. */
interface DataDir {
  data: string;
  db: string;
  agentsDir: string;
  /** The agent under test's workspace. */
  own: string;
  /** Another agent's workspace, with a file of its own. */
  other: string;
  /** A folder of this machine outside the data dir. */
  outside: string;
}

function dataDir(name: string): DataDir {
  const base = mkdtempSync(join(root, `${name}-`));
  const data = join(base, 'data');
  const d: DataDir = {
    data,
    db: join(data, 'cron-agents.sqlite'),
    agentsDir: join(data, 'agents'),
    own: join(data, 'workspaces', 'agent-own'),
    other: join(data, 'workspaces', 'agent-other'),
    outside: join(base, 'outside'),
  };
  for (const dir of [d.own, d.other, d.outside]) mkdirSync(dir, { recursive: true });
  writeFileSync(d.db, DB_CONTENT);
  writeFileSync(`${d.db}-wal`, DB_CONTENT);
  writeFileSync(join(d.other, 'secret.txt'), OTHER_SECRET);
  symlinkSync(join(d.other, 'secret.txt'), join(d.own, 'link-secret'));
  symlinkSync(d.other, join(d.own, 'link-other'));
  symlinkSync(d.db, join(d.own, 'link-db.txt'));
  return d;
}

/** The service's environment as the runner would find it: its settings and database beside the model's. */
function serviceEnv(d: DataDir): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    CRON_AGENTS_ADMIN_TOKEN: ADMIN_TOKEN,
    CRON_AGENTS_DATA_DIR: d.data,
    DATABASE_URL: 'postgres://service:pw@127.0.0.1:5432/cron',
    PGPASSWORD: 'pg-password',
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: MODEL_KEY,
  };
}

function runner(d: DataDir, options: Partial<ClaudeRunnerOptions> = {}): ClaudeRunner {
  return new ClaudeRunner({
    agentsDir: d.agentsDir,
    baseEnv: () => serviceEnv(d),
    protectedPaths: [d.data],
    ...options,
    env: { DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', DISABLE_AUTOUPDATER: '1', ...options.env },
  });
}

let seq = 0;

/** A request whose prompt makes the fake model call `steps` in order, then answer `text`. */
function request(d: DataDir, steps: FakeToolStep[], overrides: Partial<AgentRunRequest> = {}, text = 'done'): AgentRunRequest {
  const marker = `boundary${process.pid}x${++seq}`;
  return runRequest({
    runId: marker,
    agentId: 'agent-own',
    prompt: `Run ${marker}. [[fake: ${stepsDirective(steps)} text="${text}"]]`,
    maxTurns: steps.length + 2,
    allowedTools: ['Bash', 'Read', 'Write'],
    secrets: { AGENT_TOKEN: 'agent-token-value-42' },
    cwd: d.own,
    signal: new AbortController().signal,
    ...overrides,
  });
}

const bash = (command: string): FakeToolStep => ({ tool: 'Bash', input: { command, description: 'boundary test' } });

interface ToolResult {
  text: string;
  isError: boolean;
}

/** The tool results the model got in the run's last request, in call order. */
function toolResults(req: AgentRunRequest): ToolResult[] {
  const marker = req.runId;
  const last = fake
    .mainRequests()
    .filter((r) => firstUserText(r.body).includes(marker))
    .at(-1);
  const body: unknown = last?.body;
  const messages: unknown[] = typeof body === 'object' && body !== null && 'messages' in body && Array.isArray(body.messages) ? body.messages : [];
  const results: ToolResult[] = [];
  for (const message of messages) {
    const content: unknown = typeof message === 'object' && message !== null && 'content' in message ? message.content : null;
    if (!Array.isArray(content)) continue;
    const blocks: unknown[] = content;
    for (const block of blocks) {
      if (typeof block !== 'object' || block === null || !('type' in block) || block.type !== 'tool_result') continue;
      const inner: unknown = 'content' in block ? block.content : '';
      const text = typeof inner === 'string' ? inner : JSON.stringify(inner);
      results.push({ text, isError: 'is_error' in block && block.is_error === true });
    }
  }
  return results;
}

async function run(r: ClaudeRunner, req: AgentRunRequest): Promise<{ outcome: RunOutcome; results: ToolResult[]; marker: string }> {
  const outcome = await r.run(req);
  const results = toolResults(req);
  if (process.env.BOUNDARY_DEBUG) for (const [i, result] of results.entries()) console.log(i, result.isError, result.text.slice(0, 300));
  return { outcome, results, marker: req.runId };
}

/** A shell word that yields `path` without naming it, so only the sandbox (not the permission check) can stop the command. */
const hidden = (path: string): string => `"$(echo ${Buffer.from(path).toString('base64')} | base64 -d)"`;

/** One escape: the tool call, and how to tell that it worked. */
interface Attempt {
  step: FakeToolStep;
  worked: (toolResult: string) => boolean;
  /** The path is hidden from Claude Code's permission check: only the sandbox can stop it. */
  sandboxOnly?: boolean;
}

/** The escapes, the same in both modes. */
function escapes(d: DataDir): Attempt[] {
  const otherSecret = join(d.other, 'secret.txt');
  const has = (text: string) => (t: string) => t.includes(text);
  const exists = (file: string) => () => existsSync(file);
  return [
    // The environment: the model's key (the service's own settings never reach a run, see below).
    { step: bash('env'), worked: has(MODEL_KEY), sandboxOnly: true },
    // The database, by Bash and by Read. Read refuses a *.sqlite path as binary before any other
    // check, so it is tried on the database's journal (and below through a link with a text name).
    { step: bash(`cat ${d.db}`), worked: has(DB_CONTENT) },
    { step: bash('cat ../../cron-agents.sqlite'), worked: has(DB_CONTENT) },
    { step: bash(`cat ${hidden(d.db)}`), worked: has(DB_CONTENT), sandboxOnly: true },
    { step: { tool: 'Read', input: { file_path: `${d.db}-wal` } }, worked: has(DB_CONTENT) },
    { step: bash(`echo pwned >> ${d.db}`), worked: () => readFileSync(d.db, 'utf8').includes('pwned') },
    { step: bash(`echo pwned-hidden >> ${hidden(d.db)}; echo wrote`), worked: () => readFileSync(d.db, 'utf8').includes('pwned-hidden'), sandboxOnly: true },
    // Another agent's workspace: listed and read, by path, by Read, and through symlinks: planted
    // now, or by an earlier run (dataDir() made those).
    { step: bash('ls -la ..'), worked: has('agent-other') },
    { step: bash(`ls ${d.other}`), worked: has('secret.txt') },
    { step: bash(`ls ${hidden(d.other)}; cat ${hidden(otherSecret)}`), worked: has(OTHER_SECRET), sandboxOnly: true },
    { step: bash(`cat ${otherSecret}`), worked: has(OTHER_SECRET) },
    { step: { tool: 'Read', input: { file_path: otherSecret } }, worked: has(OTHER_SECRET) },
    { step: bash(`ln -s ${hidden(otherSecret)} planted; cat planted`), worked: has(OTHER_SECRET), sandboxOnly: true },
    { step: bash('cat link-secret; ls link-other/'), worked: has(OTHER_SECRET) },
    { step: bash(`cat ${hidden('link-secret')} ${hidden('link-db.txt')}`), worked: has(OTHER_SECRET), sandboxOnly: true },
    { step: { tool: 'Read', input: { file_path: join(d.own, 'link-secret') } }, worked: has(OTHER_SECRET) },
    { step: { tool: 'Read', input: { file_path: join(d.own, 'link-other', 'secret.txt') } }, worked: has(OTHER_SECRET) },
    { step: { tool: 'Read', input: { file_path: join(d.own, 'link-db.txt') } }, worked: has(DB_CONTENT) },
    // Writes outside the workspace and the temp dir: into the other agent's workspace, elsewhere.
    { step: bash(`echo x > ${d.other}/by-bash.txt`), worked: exists(join(d.other, 'by-bash.txt')), sandboxOnly: true },
    { step: { tool: 'Write', input: { file_path: join(d.other, 'by-write.txt'), content: 'x' } }, worked: exists(join(d.other, 'by-write.txt')) },
    { step: bash(`echo x > ${d.outside}/by-bash.txt`), worked: exists(join(d.outside, 'by-bash.txt')), sandboxOnly: true },
    { step: { tool: 'Write', input: { file_path: join(d.outside, 'by-write.txt'), content: 'x' } }, worked: exists(join(d.outside, 'by-write.txt')) },
    // A local TCP port not in allowedDomains: through the sandbox's proxy, and raw.
    { step: bash(`curl -sf --max-time 5 --noproxy '' http://127.0.0.1:${hostPort}/curl`), worked: has('HELLO-FROM-HOST'), sandboxOnly: true },
    { step: bash(`echo hi > /dev/tcp/127.0.0.1/${hostPort} && echo raw-connected`), worked: has('raw-connected'), sandboxOnly: true },
  ];
}

/** Held in both modes by Claude Code's own permission check (a write through a symlink out of the workspace): tried with the sandbox on only. */
function heldAnyway(d: DataDir): Attempt[] {
  return [
    { step: bash(`echo x > ${hidden('link-other/by-bash-link.txt')}`), worked: () => existsSync(join(d.other, 'by-bash-link.txt')), sandboxOnly: true },
    {
      step: { tool: 'Write', input: { file_path: join(d.own, 'link-other', 'by-write-link.txt'), content: 'x' } },
      worked: () => existsSync(join(d.other, 'by-write-link.txt')),
    },
  ];
}

const PERMISSION_DENIED = 'Permission to use Bash has been denied';

/** What a run may do in both modes: its workspace, its temp dir, its secrets, the system's programs. */
const ALLOWED_STEPS: FakeToolStep[] = [
  bash('echo in-workspace > ws.txt && cat ws.txt'),
  bash('echo in-tmp > "$TMPDIR/t.txt" && cat "$TMPDIR/t.txt"'),
  bash('echo "token=$AGENT_TOKEN"; git --version; head -1 /etc/os-release'),
  { tool: 'Read', input: { file_path: '/etc/os-release' } },
];

function expectAllowedWorked(results: ToolResult[]): void {
  expect(results[0]?.text).toContain('in-workspace');
  expect(results[1]?.text).toContain('in-tmp');
  expect(results[2]?.text).toContain('token=agent-token-value-42');
  expect(results[2]?.text).toContain('git version');
  expect(results[3]?.isError).toBe(false);
}

describe('the run boundary, sandbox on and off', () => {
  it(
    'with the sandbox on, every escape fails; the workspace, temp dir, secrets and system programs work',
    async () => {
      const d = dataDir('on');
      const attempts = [...escapes(d), ...heldAnyway(d)];
      const req = request(d, [...ALLOWED_STEPS, ...attempts.map((a) => a.step)]);
      const { outcome, results } = await run(runner(d), req);
      expect(outcome.status).toBe('success');
      expect(results).toHaveLength(ALLOWED_STEPS.length + attempts.length);
      expectAllowedWorked(results);
      const tried = results.slice(ALLOWED_STEPS.length);
      const escaped = attempts.flatMap((a, i) => (a.worked(tried[i]!.text) ? [`${JSON.stringify(a.step.input)} -> ${tried[i]!.text}`] : []));
      expect(escaped).toEqual([]);
      // The hidden-path commands got past the permission check: the sandbox is what stopped them.
      const notSandboxed = attempts.flatMap((a, i) => (a.sandboxOnly && tried[i]!.text.includes(PERMISSION_DENIED) ? [JSON.stringify(a.step.input)] : []));
      expect(notSandboxed).toEqual([]);
      expect(readFileSync(d.db, 'utf8')).toBe(DB_CONTENT);
      expect(readdirSync(d.other)).toEqual(['secret.txt']);
      expect(readdirSync(d.outside)).toEqual([]);
      expect(hostHits).not.toContain('/curl');
      // The environment: nothing of the service's, nor the model's key; the agent's secret is there.
      const env = tried[0]!.text;
      for (const name of ['CRON_AGENTS_', 'DATABASE_URL', 'PGPASSWORD', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL']) expect(env).not.toContain(name);
      expect(env).not.toContain(ADMIN_TOKEN);
      expect(env).toContain('AGENT_TOKEN=agent-token-value-42');
      expect(env).toContain('SANDBOX_RUNTIME=1');
      // The agent's own home and Claude Code config dir (not inside home), and a temp dir of the run, removed after it.
      expect(env).toContain(`HOME=${join(d.agentsDir, 'agent-own', 'home')}\n`);
      expect(readdirSync(join(d.agentsDir, 'agent-own', 'claude-config')).length).toBeGreaterThan(0);
      const runTmp = /^TMPDIR=(.*)$/m.exec(env)?.[1];
      expect(runTmp).toMatch(/cron-agents-run-/);
      expect(existsSync(runTmp!)).toBe(false);
    },
    TEST_TIMEOUT,
  );

  it(
    'with the sandbox off, the same escapes work (only the environment allow-list still holds)',
    async () => {
      const d = dataDir('off');
      const attempts = escapes(d);
      const req = request(d, [...ALLOWED_STEPS, ...attempts.map((a) => a.step)]);
      const { outcome, results } = await run(runner(d, { sandbox: 'off' }), req);
      expect(outcome.status).toBe('success');
      expectAllowedWorked(results);
      const tried = results.slice(ALLOWED_STEPS.length);
      const held = attempts.flatMap((a, i) => (a.worked(tried[i]!.text) ? [] : [`${JSON.stringify(a.step.input)} -> ${tried[i]!.text}`]));
      expect(held).toEqual([]);
      expect(hostHits).toContain('/curl');
      const env = tried[0]!.text;
      expect(env).not.toContain('SANDBOX_RUNTIME');
      for (const name of ['CRON_AGENTS_', 'DATABASE_URL', 'PGPASSWORD']) expect(env).not.toContain(name);
      expect(env).not.toContain(ADMIN_TOKEN);
    },
    TEST_TIMEOUT,
  );
});

describe('the network of a run', () => {
  const curl = (path: string): FakeToolStep => bash(`curl -sf --max-time 5 --noproxy '' http://127.0.0.1:${hostPort}${path}`);

  it(
    'reaches a local port listed in allowedDomains once the operator allows private addresses',
    async () => {
      const d = dataDir('net-allowed');
      const req = request(d, [curl('/allowed')], { allowedDomains: ['127.0.0.1'] });
      const { outcome, results } = await run(runner(d, { allowPrivateAddresses: true }), req);
      expect(outcome.status).toBe('success');
      expect(results[0]?.text).toContain('HELLO-FROM-HOST');
      expect(hostHits).toContain('/allowed');
    },
    TEST_TIMEOUT,
  );

  it(
    'leaves a private address out of allowedDomains otherwise, and says so in the output',
    async () => {
      const d = dataDir('net-private');
      const req = request(d, [curl('/private')], { allowedDomains: ['127.0.0.1', 'localhost'] });
      const { outcome, results } = await run(runner(d), req);
      expect(outcome.status).toBe('success');
      expect(results[0]?.text).not.toContain('HELLO-FROM-HOST');
      expect(hostHits).not.toContain('/private');
      expect(outcome.output).toContain('allowedDomains entry "127.0.0.1" was left out');
      expect(outcome.output).toContain('allowedDomains entry "localhost" was left out: localhost resolves to');
    },
    TEST_TIMEOUT,
  );

  it(
    'refuses WebFetch to loopback, a name resolving there, and the metadata address (PreToolUse hook)',
    async () => {
      const d = dataDir('webfetch');
      // A name of the test's own resolver that points at loopback; other names go to the system's.
      const lookup = async (name: string): Promise<string[]> =>
        name === 'internal.example.test' ? ['127.0.0.1'] : (await dns.lookup(name, { all: true })).map((a) => a.address);
      const urls = [
        `http://127.0.0.1:${hostPort}/fetch`,
        `http://localhost:${hostPort}/fetch`,
        `http://internal.example.test:${hostPort}/fetch`,
        'http://169.254.169.254/latest/meta-data/',
        `http://[::1]:${hostPort}/fetch`,
        `http://2130706433:${hostPort}/fetch`,
      ];
      const steps = urls.map((url): FakeToolStep => ({ tool: 'WebFetch', input: { url, prompt: 'what does it say' } }));
      const guarded = await run(runner(d, { lookup }), request(d, steps, { allowedTools: ['WebFetch'] }));
      expect(guarded.outcome.status).toBe('success');
      expect(guarded.results).toHaveLength(urls.length);
      for (const result of guarded.results) expect(result.text).toContain('Blocked by cron-agents');
      expect(hostHits).not.toContain('/fetch');
      // Allowed by the operator, the same calls get past the hook (WebFetch then fails on its
      // own: its safety check asks claude.ai, which this machine cannot reach).
      const open = await run(runner(d, { lookup, allowPrivateAddresses: true }), request(d, steps.slice(0, 1), { allowedTools: ['WebFetch'] }));
      expect(open.results[0]?.text).not.toContain('Blocked by cron-agents');
    },
    TEST_TIMEOUT,
  );
});

describe('what else a run is given', () => {
  it(
    'fails as error naming what to install when bubblewrap is missing (and runs with the sandbox off)',
    async () => {
      const d = dataDir('no-bwrap');
      // A PATH holding every program of /usr/bin and /usr/sbin but bwrap (nothing is uninstalled).
      const bin = join(d.outside, 'bin');
      mkdirSync(bin);
      for (const dir of ['/usr/bin', '/usr/sbin']) {
        for (const name of readdirSync(dir)) if (name !== 'bwrap' && !existsSync(join(bin, name))) symlinkSync(join(dir, name), join(bin, name));
      }
      const env = { PATH: bin };
      const missing = await runner(d, { env }).run(request(d, [bash('echo ran')]));
      expect(missing.status).toBe('error');
      expect(missing.output).toContain('bubblewrap');
      expect(missing.output).not.toContain('socat is');
      expect(missing.output).toContain('apt-get install -y bubblewrap socat');
      const off = await runner(d, { env, sandbox: 'off' }).run(request(d, [bash('echo ran')]));
      expect(off.status).toBe('success');
    },
    TEST_TIMEOUT,
  );

  it(
    'keeps a scoped Bash rule scoped, and a read-only workspace unwritable',
    async () => {
      const d = dataDir('scoped');
      // `echo` is granted; `touch` and a write redirect are not (Claude Code also lets its read-only
      // commands such as `ls` run in the workspace, scoped rule or not).
      const steps0 = [bash('echo scoped-ok'), bash('touch made.txt'), bash('echo x > f.txt')];
      const scoped = await run(runner(d), request(d, steps0, { allowedTools: ['Bash(echo:*)'] }));
      expect(scoped.results[0]?.text).toContain('scoped-ok');
      expect(scoped.results[1]?.text).toContain(PERMISSION_DENIED);
      expect(scoped.results[2]?.text).toContain(PERMISSION_DENIED);
      expect(readdirSync(d.own).filter((name) => name === 'made.txt' || name === 'f.txt')).toEqual([]);
      // A read-only folder: read where it is; the run works (and writes) in the agent's own folder.
      const readOnly = join(d.outside, 'read-only');
      mkdirSync(readOnly);
      writeFileSync(join(readOnly, 'kept.txt'), 'KEPT');
      const steps = [
        bash(`cat ${readOnly}/kept.txt; echo x > own.txt && echo wrote-own`),
        { tool: 'Read', input: { file_path: join(readOnly, 'kept.txt') } },
        bash(`echo x > ${hidden(join(readOnly, 'by-bash.txt'))}`),
        { tool: 'Write', input: { file_path: join(readOnly, 'by-write.txt'), content: 'x' } },
      ];
      const held = await run(runner(d), request(d, steps, { workspace: { hostPath: readOnly, readOnly: true } }));
      expect(held.outcome.status).toBe('success');
      expect(held.results[0]?.text).toContain('KEPT');
      expect(held.results[0]?.text).toContain('wrote-own');
      expect(held.results[1]?.text).toContain('KEPT');
      expect(held.results[2]?.isError).toBe(true);
      expect(held.results[3]?.isError).toBe(true);
      const system = JSON.stringify(fake.mainRequests().find((r) => firstUserText(r.body).includes(held.marker))?.body);
      expect(system).toContain(`workspace is the read-only folder ${readOnly}`);
      expect(readdirSync(readOnly)).toEqual(['kept.txt']);
    },
    TEST_TIMEOUT,
  );

  it(
    'sends the prompt verbatim, appends the system prompt, passes effort and disallowedTools, names MCP servers left out',
    async () => {
      const d = dataDir('options');
      const req = request(d, [], {
        prompt: `Summarize @/etc/hostname and @notes.txt. [[fake: text="done"]] marker-verbatim-${process.pid}`,
        runId: `verbatim${process.pid}`,
        systemPrompt: 'APPENDED-OPERATOR-INSTRUCTIONS',
        effort: 'low',
        disallowedTools: ['WebSearch'],
        mcpServers: {
          local: { type: 'http', url: `http://127.0.0.1:${hostPort}/mcp` },
          broken: { type: 'stdio', command: join(d.outside, 'no-such-server') },
        },
      });
      writeFileSync(join(d.own, 'notes.txt'), 'NOTES-CONTENT');
      const outcome = await runner(d).run(req);
      expect(outcome.status).toBe('success');
      const sent = fake.mainRequests().filter((r) => firstUserText(r.body).includes(`marker-verbatim-${process.pid}`));
      expect(sent).toHaveLength(1);
      const body = JSON.stringify(sent[0]?.body);
      expect(firstUserText(sent[0]?.body)).toContain('Summarize @/etc/hostname and @notes.txt.');
      expect(body).not.toContain('NOTES-CONTENT');
      // Not verbatim, Claude Code would have read both files into the prompt ("Called the Read tool ...").
      expect(body).not.toContain('Called the Read tool');
      expect(body).toContain('APPENDED-OPERATOR-INSTRUCTIONS');
      expect(body).toContain('"effort":"low"');
      expect(body).not.toContain('"name":"WebSearch"');
      expect(outcome.output).toContain('MCP server "local" was left out: 127.0.0.1 is a private or local address');
      expect(outcome.output).toContain('MCP server "broken" is not available (failed)');
      expect(hostHits).not.toContain('/mcp');
    },
    TEST_TIMEOUT,
  );

  it(
    "redacts the agent's secrets from the output and from what the runner logs",
    async () => {
      const d = dataDir('redact');
      const lines: string[] = [];
      const record = (obj: object, msg?: string): void => {
        lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
      };
      const logger = { info: record, warn: record, error: record, debug: record };
      const echoed = await runner(d, { logger }).run(request(d, [], {}, 'the token is agent-token-value-42'));
      expect(echoed).toMatchObject({ status: 'success', output: 'the token is [secret:AGENT_TOKEN]' });
      // A `claude` that fails with the secret on its stderr: the output and the log get the tail.
      const fakeClaude = join(d.outside, 'claude');
      writeFileSync(fakeClaude, '#!/bin/sh\necho "fatal: token $AGENT_TOKEN rejected" >&2\nexit 3\n', { mode: 0o755 });
      const failed = await runner(d, { logger, pathToClaudeCodeExecutable: fakeClaude }).run(request(d, []));
      expect(failed.status).toBe('error');
      expect(failed.output).toContain('fatal: token [secret:AGENT_TOKEN] rejected');
      expect(lines.join('\n')).toContain('[secret:AGENT_TOKEN]');
      expect(lines.join('\n')).not.toContain('agent-token-value-42');
    },
    TEST_TIMEOUT,
  );
});

/**
 * An agent's workspace and MCP servers on a real run: the real ClaudeRunner, the real SDK and its
 * `claude` binary against the fake model, which calls the tools a test scripts (`steps=`).
 * - a git workspace (a local bare repository made here) is cloned, then fetched on the next run;
 *   a bad URL ends the run as `error` with git's message;
 * - a stdio MCP server (test/fixtures/mcp-test-server.mjs) gets its secret, resolved from a
 *   `${secret:NAME}` in its env, and its tool runs; a tool or a server that allowedTools does not
 *   list is never called.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaudeRunner } from '../../src/claude/claude-runner.js';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import type { RunOutcome } from '../../src/domain/types.js';
import { agentRunOptions } from '../../src/engine/agent-run-options.js';
import type { AgentRunRequest } from '../../src/engine/agent-runner.js';
import { NO_HOST_PATHS } from '../../src/host-paths.js';
import { firstUserText, startFakeAnthropic, stepsDirective, type FakeAnthropic, type FakeToolStep } from '../fake-anthropic/fake-anthropic-server.js';
import { runRequest } from '../support/run-request.js';

const TEST_TIMEOUT = 90_000;
const SERVER = join(import.meta.dirname, '..', 'fixtures', 'mcp-test-server.mjs');
const SECRET = 'mcp-secret-value-7f3a9';

let fake: FakeAnthropic;
let root: string;
let origin: string;
let clone: string;

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', args, {
    cwd,
    stdio: 'ignore',
    env: {
      ...process.env,
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  });
}

/** Adds a file to the origin repository's default branch. */
function push(file: string, text: string): void {
  writeFileSync(join(clone, file), text);
  git(clone, 'add', file);
  git(clone, 'commit', '-q', '-m', file);
  git(clone, 'push', '-q', 'origin', 'main');
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
  root = realpathSync(mkdtempSync(join(tmpdir(), 'agent-options-')));
  origin = join(root, 'origin.git');
  clone = join(root, 'clone');
  git(root, 'init', '-q', '--bare', '--initial-branch=main', origin);
  git(root, 'clone', '-q', origin, clone);
  git(clone, 'checkout', '-q', '-b', 'main');
  push('README.md', 'FIRST-COMMIT-CONTENT');
});

afterAll(async () => {
  await fake?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function runner(): ClaudeRunner {
  return new ClaudeRunner({
    agentsDir: join(root, 'agents'),
    baseEnv: () => ({ PATH: process.env.PATH, LANG: 'C.UTF-8', ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-fake' }),
    protectedPaths: [join(root, 'agents')],
    env: { DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', DISABLE_AUTOUPDATER: '1' },
  });
}

let seq = 0;

/** A run of agent `agentId` whose prompt makes the fake model call `steps`, then answer "done". */
function request(agentId: string, steps: FakeToolStep[], overrides: Partial<AgentRunRequest> = {}): AgentRunRequest {
  const marker = `agentoptions${process.pid}x${++seq}`;
  const cwd = join(root, 'workspaces', agentId);
  mkdirSync(cwd, { recursive: true });
  return runRequest({
    runId: marker,
    agentId,
    prompt: `Run ${marker}. [[fake: ${stepsDirective(steps)} text="done"]]`,
    maxTurns: steps.length + 2,
    allowedTools: ['Bash'],
    cwd,
    signal: new AbortController().signal,
    ...overrides,
  });
}

interface ToolResult {
  text: string;
  isError: boolean;
}

/** The tool results the model got in the run's last request, in call order. */
function toolResults(req: AgentRunRequest): ToolResult[] {
  const last = fake
    .mainRequests()
    .filter((r) => firstUserText(r.body).includes(req.runId))
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
      results.push({ text: typeof inner === 'string' ? inner : JSON.stringify(inner), isError: 'is_error' in block && block.is_error === true });
    }
  }
  return results;
}

async function run(req: AgentRunRequest): Promise<{ outcome: RunOutcome; results: ToolResult[] }> {
  const outcome = await runner().run(req);
  return { outcome, results: toolResults(req) };
}

const bash = (command: string): FakeToolStep => ({ tool: 'Bash', input: { command, description: 'agent options test' } });

describe('a git workspace', () => {
  it(
    'is cloned on the first run and fetched on the next (a new commit appears)',
    async () => {
      const workspace = { git: { url: origin } };
      const first = await run(request('git-agent', [bash('cat README.md; ls')], { workspace }));
      expect(first.outcome.status, first.outcome.output).toBe('success');
      expect(first.results[0]?.text).toContain('FIRST-COMMIT-CONTENT');
      expect(first.results[0]?.text).not.toContain('SECOND');

      push('SECOND.md', 'SECOND-COMMIT-CONTENT');
      const second = await run(request('git-agent', [bash('cat SECOND.md')], { workspace }));
      expect(second.outcome.status, second.outcome.output).toBe('success');
      expect(second.results[0]?.text).toContain('SECOND-COMMIT-CONTENT');
    },
    TEST_TIMEOUT,
  );

  it(
    'with a bad URL ends the run as error with git’s message, before the model is asked',
    async () => {
      const req = request('bad-git-agent', [bash('echo should-not-run')], { workspace: { git: { url: join(root, 'no-such-repo.git') } } });
      const { outcome } = await run(req);
      expect(outcome.status).toBe('error');
      expect(outcome.output).toContain('Preparing the git workspace failed');
      expect(outcome.output).toContain('does not appear to be a git repository');
      expect(fake.mainRequests().some((r) => firstUserText(r.body).includes(req.runId))).toBe(false);
    },
    TEST_TIMEOUT,
  );
});

describe('a stdio MCP server', () => {
  it(
    'gets its secret (a ${secret:NAME} in its env, resolved) and its allowed tool runs; other tools and servers are never called',
    async () => {
      const marks = { allowed: join(root, 'marks-allowed'), unlisted: join(root, 'marks-unlisted') };
      for (const dir of Object.values(marks)) mkdirSync(dir, { recursive: true });
      // The agent as stored: references, not values; the executor's step resolves them for the run.
      const server = (markDir: string) => ({
        type: 'stdio' as const,
        command: process.execPath,
        args: [SERVER],
        env: { TEST_SECRET: '${secret:TEST_SECRET}', MARK_DIR: markDir },
      });
      const { fields } = planNewAgent(
        { name: 'mcp', schedule: '@daily', prompt: 'p', mcpServers: { lab: server(marks.allowed), unlisted: server(marks.unlisted) } },
        Date.now(),
      );
      const secrets = { TEST_SECRET: SECRET };
      const options = await agentRunOptions(fields, secrets, NO_HOST_PATHS);
      expect(options.mcpServers.lab).toMatchObject({ env: { TEST_SECRET: SECRET } });

      const steps: FakeToolStep[] = [
        { tool: 'mcp__lab__whoami', input: {} },
        { tool: 'mcp__lab__other', input: {} },
        { tool: 'mcp__unlisted__whoami', input: {} },
      ];
      const req = request('mcp-agent', steps, { ...options, secrets, allowedTools: ['mcp__lab__whoami'] });
      const { outcome, results } = await run(req);
      expect(outcome.status, outcome.output).toBe('success');
      expect(results).toHaveLength(3);
      expect(results[0]).toEqual({ text: expect.stringContaining(`TEST_SECRET=${SECRET}`) as unknown, isError: false });
      expect(existsSync(join(marks.allowed, 'whoami-called'))).toBe(true);
      // Not in allowedTools: refused, and the server never ran them.
      expect(results[1]).toEqual({ text: expect.stringContaining('Permission to use mcp__lab__other has been denied') as unknown, isError: true });
      expect(results[2]).toEqual({ text: expect.stringContaining('Permission to use mcp__unlisted__whoami has been denied') as unknown, isError: true });
      expect(existsSync(join(marks.allowed, 'other-called'))).toBe(false);
      expect(existsSync(join(marks.unlisted, 'whoami-called'))).toBe(false);
    },
    TEST_TIMEOUT,
  );
});

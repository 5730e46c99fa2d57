/**
 * Runs the real ClaudeRunner (real SDK, real bundled `claude` binary) against the fake
 * Anthropic server. Each run gets a unique marker in its cwd and prompt, so the processes of a
 * run can be found in /proc (cmdline or cwd containing the marker).
 */
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaudeRunner, type ClaudeRunnerOptions } from '../../src/claude/claude-runner.js';
import type { RunUsage } from '../../src/domain/types.js';
import type { AgentRunRequest } from '../../src/engine/agent-runner.js';
import { firstUserText, startFakeAnthropic, type FakeAnthropic, type LoggedRequest } from '../fake-anthropic/fake-anthropic-server.js';
import { runRequest } from '../support/run-request.js';

const TEST_TIMEOUT = 60_000;

let fake: FakeAnthropic;
let root: string;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  root = mkdtempSync(join(tmpdir(), 'sdk-runner-e2e-'));
});

afterAll(async () => {
  await fake?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function makeRunner(extra: Partial<ClaudeRunnerOptions> = {}): ClaudeRunner {
  return new ClaudeRunner({
    // Each agent's home and config dir (off ~/.claude) under the test's root.
    agentsDir: join(root, 'agents'),
    ...extra,
    env: {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: 'sk-ant-fake',
      // Keep the CLI off the network (telemetry, MCP registry, ...).
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
      ...extra.env,
    },
  });
}

let seq = 0;
interface Harness {
  marker: string;
  request: AgentRunRequest;
  controller: AbortController;
  progress: RunUsage[];
}

function harness(directive: string, overrides: Partial<AgentRunRequest> = {}): Harness {
  const marker = `e2emark${process.pid}x${++seq}x${Math.random().toString(36).slice(2, 8)}`;
  const cwd = mkdtempSync(join(root, `${marker}-`));
  const controller = new AbortController();
  const progress: RunUsage[] = [];
  return {
    marker,
    controller,
    progress,
    request: runRequest({
      runId: marker,
      agentId: marker,
      prompt: `Run ${marker}. [[fake: ${directive}]]`,
      maxTurns: 10,
      allowedTools: ['Bash'],
      cwd,
      signal: controller.signal,
      onProgress: (u) => progress.push({ ...u }),
      ...overrides,
    }),
  };
}

/** Live (non-zombie) processes whose command line or cwd contains the marker. */
function markedProcesses(marker: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      if (state === 'Z' || state === 'X') continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${name}/cwd`);
      } catch {
        // not ours to read
      }
      if (cmdline.includes(marker) || cwd.includes(marker)) found.push(`${name} [${cwd}] ${cmdline.slice(0, 120)}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** Polls `check` every `everyMs` until it holds; false if it still does not after `timeoutMs` (a bound, not an expectation). */
async function waitFor(check: () => boolean, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return check();
}

/** The `messages` of a logged request's body (the conversation so far). */
function messagesOf(request: LoggedRequest | undefined): unknown {
  const body: unknown = request?.body;
  return typeof body === 'object' && body !== null && 'messages' in body ? body.messages : undefined;
}

function requestsOf(marker: string): LoggedRequest[] {
  return fake.mainRequests().filter((r) => firstUserText(r.body).includes(marker));
}

describe('ClaudeRunner against the fake Anthropic API', () => {
  it(
    'succeeds with the final text, cost > 0 and exact token counts',
    async () => {
      const h = harness('text="all done" input_tokens=1000 output_tokens=200 cache_read=50 cache_creation=20');
      const outcome = await makeRunner().run(h.request);
      expect(outcome).toMatchObject({
        status: 'success',
        output: 'all done',
        inputTokens: 1070,
        outputTokens: 200,
        cacheReadInputTokens: 50,
        cacheCreationInputTokens: 20,
        numTurns: 1,
      });
      expect(outcome.costUsd).toBeGreaterThan(0);
      expect(requestsOf(h.marker)).toHaveLength(1);
      // The title is given up front, so the CLI makes no title-generation side request.
      expect(fake.requests.filter((r) => r.kind === 'side' && JSON.stringify(r.body).includes(h.marker))).toHaveLength(0);
      expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'runs tool turns (Bash under dontAsk + allowedTools) and accrues numTurns and usage',
    async () => {
      const h = harness('tool_turns=2 text="tools done" input_tokens=100 output_tokens=10');
      const outcome = await makeRunner().run(h.request);
      expect(outcome).toMatchObject({ status: 'success', output: 'tools done', numTurns: 3, inputTokens: 300, outputTokens: 30 });
      const reqs = requestsOf(h.marker);
      expect(reqs.map((r) => r.turn)).toEqual([0, 1, 2]);
      // The tool really ran: its output came back as a tool_result.
      const last = JSON.stringify(messagesOf(reqs[2]));
      expect(last).toContain('"tool_result"');
      expect(last).toContain('hi');
      expect(last).not.toContain('"is_error":true');
      // Progress accrued turn by turn and never went down.
      expect(h.progress.length).toBeGreaterThan(0);
      for (let i = 1; i < h.progress.length; i++) {
        expect(h.progress[i]!.inputTokens).toBeGreaterThanOrEqual(h.progress[i - 1]!.inputTokens);
      }
      expect(h.progress.at(-1)!.numTurns).toBeGreaterThanOrEqual(2);
      expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'leaves no process behind when a tool started a background orphan',
    async () => {
      const h = harness('tool_turns=1 command="nohup sleep 300 >/dev/null 2>&1 &" text="left one"');
      const outcome = await makeRunner().run(h.request);
      expect(outcome).toMatchObject({ status: 'success', output: 'left one' });
      expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'maps a tiny maxBudgetUsd to budget_exceeded',
    async () => {
      const h = harness('tool_turns=3 input_tokens=1000 output_tokens=200', { maxBudgetUsd: 0.0001 });
      const outcome = await makeRunner().run(h.request);
      expect(outcome.status).toBe('budget_exceeded');
      expect(outcome.output).toBe('Stopped after reaching the budget limit ($0.0001)');
      expect(outcome.costUsd).toBeGreaterThan(0);
      expect(outcome.inputTokens).toBeGreaterThanOrEqual(1000);
      expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'maps the turn limit to error',
    async () => {
      const h = harness('tool_turns=5 input_tokens=100 output_tokens=10', { maxTurns: 2 });
      const outcome = await makeRunner().run(h.request);
      expect(outcome.status).toBe('error');
      expect(outcome.output).toBe('Stopped after reaching the turn limit (2)');
      expect(outcome.costUsd).toBeGreaterThan(0);
      expect(requestsOf(h.marker)).toHaveLength(2);
      expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'maps an API 400 (is_error result with subtype success) to error with the API message',
    async () => {
      const h = harness('error=400 error_message="fake upstream says no"');
      const outcome = await makeRunner().run(h.request);
      expect(outcome.status).toBe('error');
      expect(outcome.output).toContain('fake upstream says no');
      expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'cancels a run whose Bash tool is sleeping: cancelled, usage kept, no process left',
    async () => {
      const h = harness('tool_turns=1 command="echo started; sleep 300" input_tokens=1000 output_tokens=200');
      const running = makeRunner().run(h.request);
      const sleeping = await waitFor(() => markedProcesses(h.marker).some((p) => / sleep 300/.test(p)), 30_000);
      expect(sleeping).toBe(true);
      expect(h.progress.at(-1)?.inputTokens ?? 0).toBeGreaterThanOrEqual(1000);

      h.controller.abort();
      const outcome = await running;
      // The cancel ended the tool (a 300 s sleep, beyond the test's timeout): the model never got
      // its result, so the only request of the run is the first turn.
      expect(requestsOf(h.marker).map((r) => r.turn)).toEqual([0]);
      expect(outcome.status).toBe('cancelled');
      expect(outcome.output).toBe('Cancelled');
      expect(outcome.inputTokens).toBe(1000);
      expect(outcome.outputTokens).toBe(200);
      expect(outcome.numTurns).toBeGreaterThanOrEqual(1);
      expect(outcome.costUsd).toBeGreaterThan(0);
      expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'kills the whole tree itself when it does not wait for the interrupt',
    async () => {
      const h = harness('tool_turns=1 command="echo started; sleep 300" input_tokens=500 output_tokens=50');
      const running = makeRunner({ interruptWaitMs: 0 }).run(h.request);
      expect(await waitFor(() => markedProcesses(h.marker).some((p) => / sleep 300/.test(p)), 30_000)).toBe(true);
      h.controller.abort();
      const outcome = await running;
      expect(outcome.status).toBe('cancelled');
      expect(outcome.inputTokens).toBeGreaterThanOrEqual(500);
      expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'cancels a run waiting on a slow API answer',
    async () => {
      const h = harness('delay_ms=30000');
      const running = makeRunner().run(h.request);
      expect(await waitFor(() => requestsOf(h.marker).length > 0, 30_000)).toBe(true);
      h.controller.abort();
      const outcome = await running;
      expect(outcome).toMatchObject({ status: 'cancelled', output: 'Cancelled', outputTokens: 0 });
      expect(markedProcesses(h.marker)).toEqual([]);
      // The fake saw the client go away and is not holding the answer.
      expect(await waitFor(() => fake.inFlight() === 0, 5_000)).toBe(true);
    },
    TEST_TIMEOUT,
  );

  it(
    'cancels a run that is still starting',
    async () => {
      const h = harness('text="too late"');
      const running = makeRunner().run(h.request);
      // Cancelled once `claude` exists but before it has sent the model anything (its start-up
      // takes ~1 s; the process shows up within ~50 ms).
      expect(await waitFor(() => markedProcesses(h.marker).length > 0, 30_000, 5)).toBe(true);
      const requestsBeforeCancel = requestsOf(h.marker).length;
      h.controller.abort();
      const outcome = await running;
      // It really was still starting: the model had not been asked, and no turn had been reported.
      expect(requestsBeforeCancel).toBe(0);
      expect(h.progress).toEqual([]);
      expect(outcome).toMatchObject({ status: 'cancelled', output: 'Cancelled', costUsd: 0, inputTokens: 0, outputTokens: 0 });
      expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'serves concurrent runs from one fake server, each with its own script',
    async () => {
      const runner = makeRunner();
      const hs = [
        harness('text="first" input_tokens=11 output_tokens=1'),
        harness('tool_turns=1 text="second" input_tokens=22 output_tokens=2'),
        harness('text="third" input_tokens=33 output_tokens=3 delay_ms=300'),
      ];
      const outcomes = await Promise.all(hs.map((h) => runner.run(h.request)));
      expect(outcomes.map((o) => [o.status, o.output, o.inputTokens, o.outputTokens])).toEqual([
        ['success', 'first', 11, 1],
        ['success', 'second', 44, 4],
        ['success', 'third', 33, 3],
      ]);
      for (const h of hs) expect(markedProcesses(h.marker)).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it('returns cancelled at once for an already aborted signal', async () => {
    const h = harness('text="never"');
    h.controller.abort();
    const outcome = await makeRunner().run(h.request);
    expect(outcome).toMatchObject({ status: 'cancelled', costUsd: 0, inputTokens: 0, numTurns: 0 });
    expect(requestsOf(h.marker)).toHaveLength(0);
  });

  it(
    'reports a missing executable as an error instead of throwing',
    async () => {
      const h = harness('text="never"');
      const outcome = await makeRunner({ pathToClaudeCodeExecutable: join(root, 'no-such-claude') }).run(h.request);
      expect(outcome.status).toBe('error');
      expect(outcome.output.length).toBeGreaterThan(0);
    },
    TEST_TIMEOUT,
  );
});

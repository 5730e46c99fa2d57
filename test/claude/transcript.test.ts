/**
 * A run's transcript end to end: the real ClaudeRunner (real SDK, real `claude`) against the fake
 * Anthropic server, executed by a RunExecutor on an SQLite store, as the service does it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClaudeRunner } from '../../src/claude/claude-runner.js';
import { systemClock } from '../../src/clock.js';
import { planNewAgent, type AgentInput } from '../../src/domain/agent-fields.js';
import { EVENT_TEXT_MAX_BYTES, type RunEvent } from '../../src/domain/run-events.js';
import type { Run } from '../../src/domain/types.js';
import { RunExecutor } from '../../src/engine/run-executor.js';
import { RUN_EVENT_LIMITS } from '../../src/engine/run-event-writer.js';
import { silentLogger } from '../../src/logger.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { startFakeAnthropic, stepsDirective, type FakeAnthropic } from '../fake-anthropic/fake-anthropic-server.js';

const TEST_TIMEOUT = 120_000;
const SCHEMA = { type: 'object', properties: { summary: { type: 'string' }, count: { type: 'integer' } }, required: ['summary', 'count'] };

let fake: FakeAnthropic;
let root: string;
let store: Store;
let executor: RunExecutor;

beforeAll(async () => {
  fake = await startFakeAnthropic();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'transcript-e2e-'));
  store = openSqliteStore(':memory:');
  await store.migrate();
  const runner = new ClaudeRunner({
    agentsDir: path.join(root, 'agents'),
    env: {
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: 'sk-ant-fake',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_TELEMETRY: '1',
      DISABLE_ERROR_REPORTING: '1',
      DISABLE_AUTOUPDATER: '1',
    },
  });
  executor = new RunExecutor({
    store,
    runner,
    clock: systemClock,
    logger: silentLogger,
    instanceId: 'transcript-test',
    maxConcurrentRuns: 2,
    leaseMs: 60_000,
    heartbeatMs: 5_000,
    pollMs: 200,
    workspacesDir: path.join(root, 'workspaces'),
    secrets: { forAgent: async () => ({}) },
  });
  executor.start();
});

afterAll(async () => {
  await executor?.stop(1_000);
  await store?.close();
  await fake?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

let count = 0;

/** Runs an agent with this directive once, to its end; its run and transcript. */
async function runAgent(directive: string, input: Partial<AgentInput> = {}): Promise<{ run: Run; events: RunEvent[] }> {
  const now = Date.now();
  const prompt = `Transcript test ${++count}. [[fake: ${directive}]]`;
  const { fields, nextFireAt } = planNewAgent({ name: `t${count}`, schedule: '0 0 1 1 *', prompt, enabled: false, allowedTools: ['Bash'], ...input }, now);
  const agent = await store.createAgent(fields, null, nextFireAt, now);
  const runId = `run-${count}-${now}`;
  await store.enqueueManualRun(agent.id, runId, now);
  executor.wake();
  const giveUpAt = Date.now() + TEST_TIMEOUT - 5_000;
  for (;;) {
    const run = await store.getRun(runId);
    if (run && run.completedAt !== null) return { run, events: await store.listRunEvents(runId, { after: 0, limit: 5_000 }) };
    if (Date.now() > giveUpAt) throw new Error(`run ${runId} did not end`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('transcripts with the real SDK', () => {
  it(
    'records init, each tool call and its result, the text, usage and the result, in order',
    async () => {
      const { run, events } = await runAgent('tool_turns=3 command="echo step-output" text="all **done**" input_tokens=100 output_tokens=10');
      expect(run).toMatchObject({ status: 'success', output: 'all **done**', numTurns: 4 });
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      const types = events.map((e) => e.type);
      expect(types[0]).toBe('init');
      expect(types.at(-1)).toBe('result');
      expect(types.filter((t) => t !== 'usage')).toEqual([
        'init',
        'tool_use',
        'tool_result',
        'tool_use',
        'tool_result',
        'tool_use',
        'tool_result',
        'text',
        'result',
      ]);
      expect(types).toContain('usage');
      const init = events[0];
      expect(init?.type === 'init' && init.tools).toContain('Bash');
      const uses = events.filter((e) => e.type === 'tool_use');
      const results = events.filter((e) => e.type === 'tool_result');
      for (const [i, use] of uses.entries()) {
        expect(use).toMatchObject({ name: 'Bash', input: { command: 'echo step-output' } });
        expect(results[i]).toMatchObject({ toolUseId: use.type === 'tool_use' ? use.id : '', isError: false, content: 'step-output' });
      }
      expect(events.find((e) => e.type === 'text')).toMatchObject({ text: 'all **done**' });
      expect(events.at(-1)).toMatchObject({
        type: 'result',
        status: 'success',
        costUsd: run.costUsd,
        inputTokens: run.inputTokens,
        outputTokens: run.outputTokens,
        numTurns: run.numTurns,
      });
      // Times never go back, and the last is when the run ended.
      for (let i = 1; i < events.length; i++) expect(events[i]!.at).toBeGreaterThanOrEqual(events[i - 1]!.at);
      expect(events.at(-1)!.at).toBe(run.completedAt);
    },
    TEST_TIMEOUT,
  );

  it(
    'stores at most 2 MiB of a run with very large tool calls and results, marks the cut, and ends with its true status and cost',
    async () => {
      // Each tool call: a 100 KB command (a comment; the sandbox takes up to 128 KiB) whose output,
      // 25,000 characters (the CLI gives that much back whole), is cut to 16 KiB: ~18 fill 2 MiB.
      const { run, events } = await runAgent(`tool_turns=22 pad=100000 command="head -c 25000 /dev/zero | tr '\\\\0' a" text="survived"`);
      expect(run).toMatchObject({ status: 'success', output: 'survived', numTurns: 23 });
      expect(run.costUsd).toBeGreaterThan(0);
      const bytes = events.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0);
      expect(bytes).toBeLessThanOrEqual(RUN_EVENT_LIMITS.maxBytes);
      expect(bytes).toBeGreaterThan(RUN_EVENT_LIMITS.maxBytes - 300 * 1024);
      expect(events.filter((e) => e.type === 'truncated')).toHaveLength(1);
      expect(events.at(-2)?.type).toBe('truncated');
      expect(events.at(-1)).toMatchObject({ type: 'result', status: 'success', costUsd: run.costUsd, numTurns: 23 });
      const results = events.filter((e) => e.type === 'tool_result');
      expect(results.length).toBeGreaterThan(5);
      for (const result of results) {
        expect(result).toMatchObject({ truncated: true });
        expect(result.type === 'tool_result' && Buffer.byteLength(result.content)).toBeLessThanOrEqual(EVENT_TEXT_MAX_BYTES);
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'fills structuredOutput with an answer that satisfies the outputSchema',
    async () => {
      const answer = { summary: 'all good', count: 3 };
      const { run, events } = await runAgent(stepsDirective([{ tool: 'StructuredOutput', input: answer }]), { outputSchema: SCHEMA });
      expect(run).toMatchObject({ status: 'success', structuredOutput: answer });
      expect(JSON.parse(run.output ?? '')).toEqual(answer);
      expect(events.find((e) => e.type === 'tool_use')).toMatchObject({ name: 'StructuredOutput', input: answer });
      // The model was told the schema.
      const request = fake.mainRequests().find((r) => JSON.stringify(r.body).includes(`Transcript test ${count}.`));
      expect(JSON.stringify(request?.body)).toContain('"StructuredOutput"');
    },
    TEST_TIMEOUT,
  );

  it(
    'ends as error, saying why, when the answer does not satisfy the outputSchema',
    async () => {
      const { run, events } = await runAgent(stepsDirective([{ tool: 'StructuredOutput', input: { summary: 'x', count: 'three' } }]), {
        outputSchema: SCHEMA,
      });
      expect(run.status).toBe('error');
      expect(run.structuredOutput).toBeNull();
      expect(run.output).toMatch(/structured output|outputSchema/i);
      expect(events.at(-2)).toMatchObject({ type: 'error', message: run.output });
      expect(events.at(-1)).toMatchObject({ type: 'result', status: 'error' });
    },
    TEST_TIMEOUT,
  );
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Migrator, sql, type Migration } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planAgentUpdate, planNewAgent } from '../../src/domain/agent-fields.js';
import { encodeRunEvent, type RunEvent } from '../../src/domain/run-events.js';
import { ZERO_USAGE, type Agent } from '../../src/domain/types.js';
import * as initial from '../../src/store/migrations/0001-initial.js';
import * as sessions from '../../src/store/migrations/0002-sessions.js';
import * as runTotals from '../../src/store/migrations/0003-run-totals.js';
import * as agentSecrets from '../../src/store/migrations/0004-agent-secrets.js';
import * as agentRunOptions from '../../src/store/migrations/0005-agent-run-options.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { dialectsUnderTest } from '../support/dialects.js';

const T0 = Date.parse('2026-01-05T08:00:00.000Z');
const SCHEMA = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };

function events(from: number, count: number, runPad = ''): RunEvent[] {
  return Array.from({ length: count }, (_, i): RunEvent => ({ seq: from + i, at: T0 + from + i, type: 'text', text: `event ${from + i}${runPad}` }));
}

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`run events and structured output (${dialect.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await dialect.open();
    });
    afterEach(async () => {
      await store.close();
    });

    async function agent(outputSchema: Record<string, unknown> | null = null): Promise<Agent> {
      const { fields, nextFireAt } = planNewAgent({ name: 'A', schedule: '0 * * * *', prompt: 'p', enabled: false, outputSchema }, T0);
      return store.createAgent(fields, null, nextFireAt, T0);
    }

    /** A run claimed by `executor`, running. */
    async function runningRun(agentId: string, runId: string, executor = 'exec-1'): Promise<string> {
      await store.enqueueManualRun(agentId, runId, T0);
      expect((await store.claimQueuedRun(executor, T0, T0 + 30_000))?.run.id).toBe(runId);
      return runId;
    }

    it('appends batches and lists them oldest first, after a seq, up to a limit', async () => {
      const a = await agent();
      const runId = await runningRun(a.id, 'run-1');
      expect(await store.appendRunEvents(runId, 'exec-1', events(1, 3).map(encodeRunEvent))).toBe(true);
      expect(await store.appendRunEvents(runId, 'exec-1', events(4, 4).map(encodeRunEvent))).toBe(true);
      expect(await store.listRunEvents(runId, { after: 0, limit: 500 })).toEqual(events(1, 7));
      expect(await store.listRunEvents(runId, { after: 2, limit: 3 })).toEqual(events(3, 3));
      expect(await store.listRunEvents(runId, { after: 7, limit: 10 })).toEqual([]);
      expect(await store.listRunEvents('no-such-run', { after: 0, limit: 10 })).toEqual([]);
    });

    it('keeps every field of every event type', async () => {
      const a = await agent();
      const runId = await runningRun(a.id, 'run-1');
      const all: RunEvent[] = [
        { seq: 1, at: T0, type: 'init', model: 'm', tools: ['Bash'], mcpServers: [{ name: 'gh', status: 'failed' }] },
        { seq: 2, at: T0, type: 'thinking', text: 'hm', truncated: true },
        { seq: 3, at: T0, type: 'tool_use', id: 't1', name: 'Task', input: { prompt: 'ünïcødé ✓', n: [1, null] } },
        { seq: 4, at: T0, type: 'tool_result', toolUseId: 't1', isError: true, content: 'no', parentToolUseId: 't0' },
        { seq: 5, at: T0, type: 'usage', ...ZERO_USAGE, costUsd: 0.25 },
        { seq: 6, at: T0, type: 'error', message: 'e' },
        { seq: 7, at: T0, type: 'truncated', message: 'cut' },
        { seq: 8, at: T0 + 1, type: 'result', status: 'success', ...ZERO_USAGE, costUsd: 0.5, numTurns: 3 },
      ];
      expect(await store.appendRunEvents(runId, 'exec-1', all.map(encodeRunEvent))).toBe(true);
      expect(await store.listRunEvents(runId, { after: 0, limit: 100 })).toEqual(all);
    });

    it('writes a batch of 500 events of 2 KB in one statement', async () => {
      const a = await agent();
      const runId = await runningRun(a.id, 'run-1');
      const big = events(1, 500, 'x'.repeat(2_000));
      expect(await store.appendRunEvents(runId, 'exec-1', big.map(encodeRunEvent))).toBe(true);
      expect((await store.listRunEvents(runId, { after: 0, limit: 5_000 })).map((e) => e.seq)).toEqual(big.map((e) => e.seq));
    });

    it('is fenced by the executor: nothing is written for a run it does not hold', async () => {
      const a = await agent();
      const runId = await runningRun(a.id, 'run-1', 'exec-1');
      expect(await store.appendRunEvents(runId, 'exec-2', events(1, 2).map(encodeRunEvent))).toBe(false);
      expect(await store.appendRunEvents('no-such-run', 'exec-1', events(1, 2).map(encodeRunEvent))).toBe(false);
      expect(await store.appendRunEvents(runId, 'exec-1', events(1, 2).map(encodeRunEvent))).toBe(true);
      expect(await store.finishRun(runId, 'exec-1', { ...ZERO_USAGE, status: 'success', output: 'ok' }, T0 + 10)).toBe(true);
      expect(await store.appendRunEvents(runId, 'exec-1', events(3, 1).map(encodeRunEvent))).toBe(false);
      expect((await store.listRunEvents(runId, { after: 0, limit: 10 })).map((e) => e.seq)).toEqual([1, 2]);
    });

    it('stores a batch sent again once (its first answer was lost)', async () => {
      const a = await agent();
      const runId = await runningRun(a.id, 'run-1');
      const batch = events(1, 3).map(encodeRunEvent);
      expect(await store.appendRunEvents(runId, 'exec-1', batch)).toBe(true);
      expect(await store.appendRunEvents(runId, 'exec-1', batch)).toBe(true);
      expect(await store.listRunEvents(runId, { after: 0, limit: 10 })).toHaveLength(3);
    });

    it("deletes a run's events with its agent", async () => {
      const a = await agent();
      const b = await agent();
      const runA = await runningRun(a.id, 'run-a');
      await store.appendRunEvents(runA, 'exec-1', events(1, 5).map(encodeRunEvent));
      await store.finishRun(runA, 'exec-1', { ...ZERO_USAGE, status: 'success', output: 'ok' }, T0 + 1);
      const runB = await runningRun(b.id, 'run-b');
      await store.appendRunEvents(runB, 'exec-1', events(1, 2).map(encodeRunEvent));
      expect(await store.deleteAgent(a.id)).toMatchObject({ id: a.id });
      expect(await store.listRunEvents(runA, { after: 0, limit: 10 })).toEqual([]);
      expect(await store.listRunEvents(runB, { after: 0, limit: 10 })).toHaveLength(2);
    });

    it("keeps a run's structured output and an agent's output schema", async () => {
      const a = await agent(SCHEMA);
      expect((await store.getAgent(a.id))?.outputSchema).toEqual(SCHEMA);
      const runId = await runningRun(a.id, 'run-1');
      expect((await store.getRun(runId))?.structuredOutput).toBeNull();
      const answer = { summary: 'all good', nested: { list: [1, 'two', null, true] } };
      await store.finishRun(runId, 'exec-1', { ...ZERO_USAGE, status: 'success', output: JSON.stringify(answer), structuredOutput: answer }, T0 + 5);
      expect((await store.getRun(runId))?.structuredOutput).toEqual(answer);
      expect((await store.listRuns(a.id, { limit: 5, since: null }))[0]?.structuredOutput).toEqual(answer);

      const updated = await store.updateAgent(a.id, (current) => planAgentUpdate(current, { outputSchema: null }, T0 + 10), T0 + 10);
      expect(updated?.outputSchema).toBeNull();
      const other = await runningRun(a.id, 'run-2');
      await store.finishRun(other, 'exec-1', { ...ZERO_USAGE, status: 'success', output: 'text' }, T0 + 20);
      expect((await store.getRun(other))?.structuredOutput).toBeNull();
    });
  });
}

describe('migration 0006-run-events', () => {
  it('sqlite: existing agents and runs read as without schema and structured output, with no events', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-0006-'));
    const store = openSqliteStore(path.join(dir, 'db.sqlite'));
    try {
      const before: Record<string, Migration> = {
        '0001-initial': initial,
        '0002-sessions': sessions,
        '0003-run-totals': runTotals,
        '0004-agent-secrets': agentSecrets,
        '0005-agent-run-options': agentRunOptions,
      };
      const { error } = await new Migrator({ db: store.db, provider: { getMigrations: async () => before } }).migrateToLatest();
      expect(error).toBeUndefined();
      await sql`
        insert into agents (id, name, description, schedule, timezone, prompt, enabled, max_turns, max_budget_usd, model, allowed_tools, next_fire_at, creator_id, created_at, updated_at)
        values ('old-agent', 'Old', null, '0 * * * *', 'UTC', 'p', 1, 50, null, null, '[]', null, null, 1000, 1000)
      `.execute(store.db);
      await sql`insert into runs (id, agent_id, status, trigger, queued_at, completed_at, output) values ('old-run', 'old-agent', 'success', 'manual', 1000, 2000, 'ok')`.execute(
        store.db,
      );
      await store.migrate();
      expect((await store.getAgent('old-agent'))?.outputSchema).toBeNull();
      expect(await store.getRun('old-run')).toMatchObject({ output: 'ok', structuredOutput: null });
      expect(await store.listRunEvents('old-run', { after: 0, limit: 10 })).toEqual([]);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

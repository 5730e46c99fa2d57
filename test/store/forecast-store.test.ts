import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import type { RunStatus } from '../../src/domain/types.js';
import { SqlStore } from '../../src/store/sql/sql-store.js';
import type { Store } from '../../src/store/store.js';
import { dialectsUnderTest } from '../support/dialects.js';

/**
 * The forecast's read on both dialects: each agent's latest run costs, only runs that started and
 * ended (not skipped, queued or running ones, nor runs cancelled before they started), newest first,
 * at most `limit` per agent, for many agents at once.
 */

const NOW = Date.parse('2026-06-01T12:00:00.000Z');
const MINUTE = 60_000;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`recentRunCosts (${dialect.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await dialect.open();
    });
    afterEach(async () => {
      await store.close();
    });

    async function agent(name: string): Promise<string> {
      const { fields, nextFireAt } = planNewAgent({ name, schedule: '0 9 * * *', prompt: 'p' }, NOW);
      return (await store.createAgent(fields, null, nextFireAt, NOW)).id;
    }

    /** A run row as the engine leaves it; `started` false: it never started. */
    async function run(agentId: string, status: RunStatus, costUsd: number, queuedAt: number, started = true): Promise<void> {
      if (!(store instanceof SqlStore)) throw new Error('a SqlStore was expected');
      const ended = status !== 'queued' && status !== 'running';
      await store.db
        .insertInto('runs')
        .values({
          id: randomUUID(),
          agent_id: agentId,
          status,
          trigger: 'manual',
          scheduled_for: null,
          output: null,
          cost_usd: costUsd,
          queued_at: queuedAt,
          started_at: started ? queuedAt + 1000 : null,
          completed_at: ended ? queuedAt + 2000 : null,
          duration_ms: ended ? 2000 : null,
          executor_id: null,
          lease_expires_at: null,
        })
        .execute();
    }

    it('lists the latest runs that started and ended, newest first, at most `limit`', async () => {
      const a = await agent('a');
      for (let i = 1; i <= 60; i++) await run(a, 'success', i / 100, NOW - (61 - i) * MINUTE);
      const costs = await store.recentRunCosts([a], 50);
      // The 50 newest: queued last are the costliest, 0.60 down to 0.11.
      expect(costs.get(a)).toEqual(Array.from({ length: 50 }, (_, i) => (60 - i) / 100));
    });

    it('leaves out skipped, queued and running runs and runs that never started', async () => {
      const a = await agent('a');
      await run(a, 'success', 0.1, NOW - 9 * MINUTE);
      await run(a, 'error', 0.2, NOW - 8 * MINUTE);
      await run(a, 'budget_exceeded', 0.3, NOW - 7 * MINUTE);
      await run(a, 'cancelled', 0.4, NOW - 6 * MINUTE);
      await run(a, 'cancelled', 0, NOW - 5 * MINUTE, false);
      await run(a, 'error', 0, NOW - 4 * MINUTE, false);
      await run(a, 'skipped', 0, NOW - 3 * MINUTE, false);
      await run(a, 'running', 0.05, NOW - 2 * MINUTE);
      await run(a, 'queued', 0, NOW - MINUTE, false);
      expect(await store.recentRunCosts([a], 50)).toEqual(new Map([[a, [0.4, 0.3, 0.2, 0.1]]]));
    });

    it('answers for many agents at once, an agent without runs with none', async () => {
      const ids: string[] = [];
      // More agents than one statement takes (100), so the read is split.
      for (let i = 0; i < 130; i++) ids.push(await agent(`agent ${i}`));
      for (const [i, id] of ids.entries()) {
        if (i % 2 === 0) await run(id, 'success', i / 1000, NOW - 2 * MINUTE);
        if (i % 4 === 0) await run(id, 'error', i / 1000 + 0.5, NOW - MINUTE);
      }
      const costs = await store.recentRunCosts([...ids, 'no-such-agent'], 1);
      expect(costs.size).toBe(131);
      expect(costs.get('no-such-agent')).toEqual([]);
      for (const [i, id] of ids.entries()) {
        expect(costs.get(id), `agent ${i}`).toEqual(i % 4 === 0 ? [i / 1000 + 0.5] : i % 2 === 0 ? [i / 1000] : []);
      }
      expect(await store.recentRunCosts([], 50)).toEqual(new Map());
    });
  });
}

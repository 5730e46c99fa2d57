import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { ZERO_USAGE } from '../../src/domain/types.js';
import type { Store } from '../../src/store/store.js';
import { dialectsUnderTest } from '../support/dialects.js';

/** The deployment-wide gauges of /metrics, on both dialects: enabled agents, and runs waiting in the queue. */

const NOW = Date.parse('2026-06-01T12:00:00.000Z');

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`deployment counts (${dialect.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await dialect.open();
    });
    afterEach(async () => {
      await store.close();
    });

    async function agent(name: string, enabled = true): Promise<string> {
      const { fields, nextFireAt } = planNewAgent({ name, schedule: '0 9 1 6 *', prompt: 'p', enabled }, NOW);
      return (await store.createAgent(fields, null, nextFireAt, NOW)).id;
    }

    /** The two counts alone. */
    const counts = async () => {
      const { agentsEnabled, runsQueued } = await store.deploymentCounts(NOW);
      return { agentsEnabled, runsQueued };
    };

    it('counts enabled agents and queued runs only', async () => {
      expect(await counts()).toEqual({ agentsEnabled: 0, runsQueued: 0 });
      const a = await agent('a');
      const b = await agent('b');
      await agent('off', false);
      for (const id of [a, a, b]) expect(await store.enqueueManualRun(id, randomUUID(), NOW)).not.toBeNull();
      expect(await counts()).toEqual({ agentsEnabled: 2, runsQueued: 3 });
      // One claimed (running), one of those ended: neither is queued any more.
      const claimed = await store.claimQueuedRun('x', NOW, NOW + 60_000);
      expect(await counts()).toEqual({ agentsEnabled: 2, runsQueued: 2 });
      await store.finishRun(claimed!.run.id, 'x', { ...ZERO_USAGE, status: 'success', output: 'ok' }, NOW + 1_000);
      await store.claimQueuedRun('x', NOW, NOW + 60_000);
      expect(await counts()).toEqual({ agentsEnabled: 2, runsQueued: 1 });
    });

    it("gives the deployment's spend as the global stats do", async () => {
      const a = await agent('a');
      const runId = randomUUID();
      await store.enqueueManualRun(a, runId, NOW);
      await store.claimQueuedRun('x', NOW, NOW + 60_000);
      await store.finishRun(runId, 'x', { ...ZERO_USAGE, status: 'success', output: 'ok', costUsd: 0.75 }, NOW + 1_000);
      const { spend } = await store.deploymentCounts(NOW + 2_000);
      expect(spend).toEqual((await store.globalStats(NOW - 86_400_000, NOW + 2_000)).spend);
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/domain/errors.js';
import { silentLogger } from '../../src/logger.js';
import type { Actor } from '../../src/services/actor.js';
import { Agents, type ExecutorSignal, type SchedulerSignal } from '../../src/services/agents.js';
import type { Store } from '../../src/store/store.js';
import { dialectsUnderTest } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * What an agent request means beyond its rows: which engine part is woken, and that a cancel
 * reaches this instance's executor and the other instances. The engine parts are recorders; the
 * store is real.
 */

/** Records, in order, what the services asked of the engine and of the other instances. */
class Signals implements SchedulerSignal {
  readonly events: string[] = [];
  readonly executor: ExecutorSignal = {
    wake: () => void this.events.push('executor.wake'),
    cancelLocal: (runIds) => void this.events.push(`executor.cancelLocal ${runIds.join(',')}`),
    cancelAgentLocal: (agentId) => void this.events.push(`executor.cancelAgentLocal ${agentId}`),
  };
  wake(): void {
    this.events.push('scheduler.wake');
  }
}

const input = { name: 'Digest', schedule: '0 9 * * *', prompt: 'Summarize.' };

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`agents (${dialect.name})`, () => {
    let store: Store;
    let clock: FakeClock;
    let signals: Signals;
    let agents: Agents;
    let warnings: string[];
    let actor: Actor;
    beforeEach(async () => {
      store = await dialect.open();
      clock = new FakeClock();
      signals = new Signals();
      agents = new Agents({ store, clock, scheduler: signals, executor: signals.executor });
      warnings = [];
      actor = { user: null, log: { ...silentLogger, warn: (_obj, msg) => void warnings.push(msg ?? '') } };
      store.notifyCancel = async (runIds) => void signals.events.push(`notify ${runIds.join(',')}`);
    });
    afterEach(async () => {
      await store.close();
    });

    /** A manual run of the agent, claimed by another executor: it is running. */
    async function runningRun(agentId: string): Promise<string> {
      const run = await agents.run(agentId, actor);
      const claimed = await store.claimQueuedRun('elsewhere', clock.now(), clock.now() + 60_000);
      expect(claimed?.run.id).toBe(run.id);
      return run.id;
    }

    it('wakes the scheduler on create, update and delete, and the executor on a manual run', async () => {
      const agent = await agents.create(input, actor);
      await agents.update(agent.id, { schedule: '0 10 * * *' }, actor);
      const run = await agents.run(agent.id, actor);
      expect(run).toMatchObject({ agentId: agent.id, status: 'queued', trigger: 'manual' });
      await agents.delete(agent.id, actor);
      expect(signals.events.filter((e) => e.endsWith('wake'))).toEqual(['scheduler.wake', 'scheduler.wake', 'executor.wake', 'scheduler.wake']);
      await expect(agents.get(agent.id)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('cancels queued runs at once and stops running ones here and on the other instances', async () => {
      const agent = await agents.create(input, actor);
      const running = await runningRun(agent.id);
      const queued = await agents.run(agent.id, actor);
      signals.events.length = 0;
      expect(await agents.cancel(agent.id, actor)).toBe(2);
      expect(signals.events).toEqual([`executor.cancelLocal ${running}`, `notify ${running}`]);
      expect((await store.getRun(queued.id))?.status).toBe('cancelled');
      const idle = await agents.create({ ...input, name: 'Idle' }, actor);
      await expect(agents.cancel(idle.id, actor)).rejects.toThrow(`agent ${idle.id} has no running executions`);
    });

    it('stops the runs of an agent before deleting it', async () => {
      const agent = await agents.create(input, actor);
      const running = await runningRun(agent.id);
      signals.events.length = 0;
      const deleteAgent = store.deleteAgent.bind(store);
      store.deleteAgent = async (id) => {
        signals.events.push('deleteAgent');
        return deleteAgent(id);
      };
      expect(await agents.delete(agent.id, actor)).toEqual({ id: agent.id, name: 'Digest' });
      expect(signals.events).toEqual([`executor.cancelAgentLocal ${agent.id}`, `notify ${running}`, 'deleteAgent', 'scheduler.wake']);
    });

    it('a cancel the other instances could not hear of still succeeds, with a warning', async () => {
      const agent = await agents.create(input, actor);
      await runningRun(agent.id);
      store.notifyCancel = () => Promise.reject(new Error('connection lost'));
      expect(await agents.cancel(agent.id, actor)).toBe(1);
      expect(warnings).toEqual(['could not notify other instances of a cancel; their heartbeat will']);
    });

    it('refuses unknown agents without waking anything', async () => {
      for (const attempt of [
        () => agents.update('nope', { prompt: 'x' }, actor),
        () => agents.delete('nope', actor),
        () => agents.run('nope', actor),
        () => agents.cancel('nope', actor),
        () => agents.runs('nope', {}),
        () => agents.stats('nope'),
      ]) {
        await expect(attempt()).rejects.toBeInstanceOf(NotFoundError);
      }
      expect(signals.events).toEqual([]);
    });
  });
}

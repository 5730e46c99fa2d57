import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { Scheduler } from '../../src/engine/scheduler.js';
import type { Logger } from '../../src/logger.js';
import type { Store } from '../../src/store/store.js';
import { advanceClockTo, dialectsUnderTest, trackStore } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * Skipped ticks are logged as a periodic summary per agent (issue 13), not a line per slot: a
 * seconds schedule whose run never ends (the runner is off) writes one line a minute, not sixty.
 */

interface Line {
  obj: Record<string, unknown>;
  msg: string | undefined;
}

function recordingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const keep = (obj: object, msg?: string) => void lines.push({ obj: { ...obj }, msg });
  return { lines, info: keep, warn: keep, error: keep, debug: () => {} };
}

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`skipped ticks in the log (${dialect.name})`, () => {
    let clock: FakeClock;
    let store: Store;
    let idle: () => Promise<void>;
    let logger: ReturnType<typeof recordingLogger>;
    let scheduler: Scheduler;

    beforeEach(async () => {
      clock = new FakeClock('2026-01-05T08:00:00.000Z');
      ({ store, idle } = trackStore(await dialect.open()));
      logger = recordingLogger();
      scheduler = new Scheduler({ store, clock, logger, catchupWindowMs: 3600_000, pollMs: 1_000, skipLogIntervalMs: 60_000 });
    });

    afterEach(async () => {
      await scheduler.stop();
      await store.close();
    });

    it('logs one summary per agent per interval, with how many slots were skipped and why, and the rest when it stops', async () => {
      for (const name of ['a', 'b']) {
        const { fields, nextFireAt } = planNewAgent({ name, schedule: '* * * * * *', prompt: 'p' }, clock.now());
        await store.createAgent(fields, null, nextFireAt, clock.now());
      }
      scheduler.start();
      // Nobody executes runs: after the first slot queues a run, every later slot is skipped.
      await advanceClockTo(clock, clock.now() + 150_000, idle);

      const skipLines = logger.lines.filter((line) => line.msg?.includes('skipped'));
      expect(skipLines.every((line) => line.msg === 'ticks skipped')).toBe(true);
      // Two agents, two full minutes each: four summaries, not 2 x 149 lines.
      expect(skipLines).toHaveLength(4);
      const first = skipLines[0]!.obj;
      expect(first).toMatchObject({ inProgress: first.skipped, missed: 0 });
      expect(Number(first.skipped)).toBeGreaterThanOrEqual(59);

      await scheduler.stop();
      const all = logger.lines.filter((line) => line.msg === 'ticks skipped');
      expect(all).toHaveLength(6);
      for (const agentLines of [all.filter((l) => l.obj.agentId === all[0]!.obj.agentId), all.filter((l) => l.obj.agentId !== all[0]!.obj.agentId)]) {
        // Every slot after the first (which fired) is counted once, in some summary.
        expect(agentLines.reduce((sum, line) => sum + Number(line.obj.skipped), 0)).toBe(149);
      }
      expect(logger.lines.filter((line) => line.msg === 'tick fired')).toHaveLength(2);
    });
  });
}

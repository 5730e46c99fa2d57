import { describe, expect, it } from 'vitest';
import { BackgroundLoop, type BackgroundLoopOptions } from '../../src/engine/background-loop.js';
import type { Logger } from '../../src/logger.js';
import { deferred, type Deferred } from '../support/deferred.js';
import { FakeClock, settle } from '../support/fake-clock.js';

const INTERVAL_MS = 1_000;

function recordingLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  return { errors, info: () => {}, warn: () => {}, debug: () => {}, error: (_obj, msg) => errors.push(msg ?? '') };
}

/** A loop whose rounds are counted, and held open while `gate` is set. */
function newLoop(clock: FakeClock, options: Partial<BackgroundLoopOptions> = {}) {
  const logger = recordingLogger();
  const state: { rounds: number; gate: Deferred<void> | null } = { rounds: 0, gate: null };
  const loop = new BackgroundLoop({
    clock,
    logger,
    name: 'test round',
    round: async () => {
      state.rounds++;
      await state.gate?.promise;
    },
    intervalMs: INTERVAL_MS,
    roundAtStart: true,
    ...options,
  });
  return { loop, logger, state };
}

describe('BackgroundLoop', () => {
  it('runs a round at start, then one per interval; start() twice is still one loop with one timer', async () => {
    const clock = new FakeClock();
    const { loop, state } = newLoop(clock);
    loop.start();
    loop.start();
    await settle();
    expect(state.rounds).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(3 * INTERVAL_MS);
    expect(state.rounds).toBe(4);
    expect(clock.pendingTimers).toBe(1);
    await loop.stop();
  });

  it('with roundAtStart false, waits the interval before the first round', async () => {
    const clock = new FakeClock();
    const { loop, state } = newLoop(clock, { roundAtStart: false });
    loop.start();
    await settle();
    expect(state.rounds).toBe(0);
    await clock.advance(INTERVAL_MS);
    expect(state.rounds).toBe(1);
    await loop.stop();
  });

  it('wake-ups during a round coalesce into one more round right after it', async () => {
    const clock = new FakeClock();
    const { loop, state } = newLoop(clock);
    state.gate = deferred<void>();
    loop.start();
    await settle();
    expect(state.rounds).toBe(1);
    loop.wake();
    loop.wake();
    loop.wake();
    await settle();
    expect(state.rounds).toBe(1);
    expect(clock.pendingTimers).toBe(0);
    const gate = state.gate;
    state.gate = null;
    gate.resolve();
    await settle();
    // One more round for the three wakes, not three; then the timer is armed again.
    expect(state.rounds).toBe(2);
    expect(clock.pendingTimers).toBe(1);
    await loop.stop();
  });

  it('a wake between rounds runs a round at once and re-arms the one timer', async () => {
    const clock = new FakeClock();
    const { loop, state } = newLoop(clock);
    loop.start();
    await clock.advance(INTERVAL_MS / 2);
    loop.wake();
    await settle();
    expect(state.rounds).toBe(2);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt).toBe(clock.now() + INTERVAL_MS);
    await loop.stop();
  });

  it('logs a failed round and goes on after the interval', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const { loop, logger } = newLoop(clock, {
      round: async () => {
        calls++;
        if (calls === 1) throw new Error('database is locked');
      },
    });
    loop.start();
    await settle();
    expect(logger.errors).toEqual([`test round failed; trying again in ${INTERVAL_MS} ms`]);
    await clock.advance(INTERVAL_MS - 1);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    expect(logger.errors).toHaveLength(1);
    await loop.stop();
  });

  it('waits what delayAfterRound says after a round, and the interval after a failed one', async () => {
    const clock = new FakeClock();
    let fail = false;
    let asked = 0;
    const { loop } = newLoop(clock, {
      round: async () => {
        if (fail) throw new Error('down');
      },
      delayAfterRound: async () => {
        asked++;
        return 250;
      },
    });
    loop.start();
    await settle();
    expect(clock.nextTimerAt).toBe(clock.now() + 250);
    fail = true;
    await clock.advance(250);
    expect(asked).toBe(1);
    expect(clock.nextTimerAt).toBe(clock.now() + INTERVAL_MS);
    await loop.stop();
  });

  it('stop() waits for the round in flight, leaves no timer, is safe twice; a stopped loop ignores wakes', async () => {
    const clock = new FakeClock();
    const { loop, state } = newLoop(clock);
    state.gate = deferred<void>();
    loop.start();
    await settle();
    let stopped = false;
    const stopping = loop.stop().then(() => {
      stopped = true;
    });
    const second = loop.stop();
    await settle();
    expect(stopped).toBe(false);
    state.gate.resolve();
    await Promise.all([stopping, second]);
    expect(stopped).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    expect(loop.running).toBe(false);
    loop.wake();
    await clock.advance(10 * INTERVAL_MS);
    expect(state.rounds).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('can start again after stop', async () => {
    const clock = new FakeClock();
    const { loop, state } = newLoop(clock);
    loop.start();
    await loop.stop();
    loop.start();
    await settle();
    expect(state.rounds).toBe(2);
    expect(clock.pendingTimers).toBe(1);
    await loop.stop();
    expect(clock.pendingTimers).toBe(0);
  });
});

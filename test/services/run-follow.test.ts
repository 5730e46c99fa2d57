import { describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/domain/run-events.js';
import type { Run, RunStatus } from '../../src/domain/types.js';
import { RunEventBus } from '../../src/engine/run-event-bus.js';
import { RunFollow, type RunEventFeed, type RunFollowSink } from '../../src/services/run-follow.js';
import type { RunEventQuery } from '../../src/store/store.js';
import { deferred, type Deferred } from '../support/deferred.js';
import { FakeClock, settle } from '../support/fake-clock.js';

/**
 * RunFollow against a store and a bus driven by hand: each interleaving of replay, live events,
 * polls and the end is set up with deferred reads, never with timing.
 */

const RUN_ID = 'run-1';
const POLL_MS = 500;
const LOCAL_POLL_MS = 5_000;

const text = (seq: number): RunEvent => ({ seq, at: 1_000 + seq, type: 'text', text: `t${seq}` });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => text(from + i));

/** The store's events and run; a read answers what was stored when it was made, once `gate` (if any) opens. */
class FakeRunStore {
  events: RunEvent[] = [];
  status: RunStatus = 'running';
  deleted = false;
  gate: Deferred<void> | null = null;
  failWith: Error | null = null;
  reads = 0;

  async listRunEvents(runId: string, query: RunEventQuery): Promise<RunEvent[]> {
    this.reads++;
    const page = this.events.filter((e) => e.seq > query.after).slice(0, query.limit);
    if (this.gate) await this.gate.promise;
    if (this.failWith) throw this.failWith;
    return page;
  }

  async getRun(runId: string): Promise<Run | null> {
    if (this.deleted) return null;
    return { id: runId, status: this.status } as Run;
  }
}

class RecordingSink implements RunFollowSink {
  sent: number[] = [];
  ended: Run | null = null;
  failed: unknown = null;
  hold: Deferred<void> | null = null;

  send(events: readonly RunEvent[]): void | Promise<void> {
    this.sent.push(...events.map((e) => e.seq));
    return this.hold?.promise;
  }
  end(run: Run): void {
    this.ended = run;
  }
  fail(reason: unknown): void {
    this.failed = reason;
  }
}

function setUp(after = 0) {
  const store = new FakeRunStore();
  const bus = new RunEventBus();
  const feed: RunEventFeed = bus;
  const clock = new FakeClock();
  const sink = new RecordingSink();
  const follow = new RunFollow({ store, clock, feed, pollMs: POLL_MS, localPollMs: LOCAL_POLL_MS }, RUN_ID, after, sink);
  return { store, bus, clock, sink, follow };
}

describe('RunFollow', () => {
  it('replays, then sends live events, each once, when they were published while the replay read', async () => {
    const { store, bus, sink, follow } = setUp();
    store.events = range(1, 3);
    store.gate = deferred();
    follow.start();
    // Stored and published after the replay's read was made: not in it, heard live.
    store.events.push(...range(4, 5));
    bus.publish(RUN_ID, range(4, 5));
    store.gate.resolve();
    await follow.idle();
    expect(sink.sent).toEqual([1, 2, 3, 4, 5]);
  });

  it('drops live events the replay already had', async () => {
    const { store, bus, sink, follow } = setUp();
    store.events = range(1, 5);
    store.gate = deferred();
    follow.start();
    // Published after the replay read them: the same events come twice, and go out once.
    bus.publish(RUN_ID, range(4, 5));
    store.gate.resolve();
    await follow.idle();
    bus.publish(RUN_ID, range(6, 6));
    store.events.push(text(6));
    await follow.idle();
    expect(sink.sent).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads a gap in the live events from the store', async () => {
    const { store, bus, sink, follow } = setUp();
    store.events = range(1, 2);
    follow.start();
    await follow.idle();
    store.events.push(...range(3, 7));
    const readsBefore = store.reads;
    bus.publish(RUN_ID, range(6, 7));
    await follow.idle();
    expect(sink.sent).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(store.reads).toBe(readsBefore + 1);
    // Contiguous live events need no read.
    store.events.push(text(8));
    bus.publish(RUN_ID, [text(8)]);
    await follow.idle();
    expect(store.reads).toBe(readsBefore + 1);
    expect(sink.sent.at(-1)).toBe(8);
  });

  it('starts after `after` (Last-Event-ID)', async () => {
    const { store, sink, follow } = setUp(3);
    store.events = range(1, 5);
    follow.start();
    await follow.idle();
    expect(sink.sent).toEqual([4, 5]);
  });

  it('polls a run executing elsewhere every pollMs, and one executing here only as a safety net', async () => {
    const remote = setUp();
    remote.follow.start();
    await remote.follow.idle();
    expect(remote.clock.nextTimerAt).toBe(remote.clock.now() + POLL_MS);
    remote.store.events.push(...range(1, 2));
    await remote.clock.advance(POLL_MS);
    await remote.follow.idle();
    expect(remote.sink.sent).toEqual([1, 2]);

    const local = setUp();
    local.bus.started(RUN_ID);
    local.follow.start();
    await local.follow.idle();
    expect(local.clock.nextTimerAt).toBe(local.clock.now() + LOCAL_POLL_MS);
  });

  it('ends after the end is heard and the store agrees, with a last read of the events', async () => {
    const { store, bus, clock, sink, follow } = setUp();
    bus.started(RUN_ID);
    follow.start();
    await follow.idle();
    // The bus says ended, but the store still says running (the outcome's write is not visible yet): poll soon.
    bus.ended(RUN_ID);
    await follow.idle();
    expect(sink.ended).toBeNull();
    expect(clock.nextTimerAt).toBe(clock.now() + POLL_MS);
    store.events.push(...range(1, 2));
    store.status = 'success';
    await clock.advance(POLL_MS);
    await follow.idle();
    expect(sink.sent).toEqual([1, 2]);
    expect(sink.ended?.status).toBe('success');
    expect(clock.pendingTimers).toBe(0);
    expect(bus.listenerCount()).toBe(0);
  });

  it('stopped during a read, it sends nothing more and leaves no timer or listener', async () => {
    const { store, bus, clock, sink, follow } = setUp();
    store.events = range(1, 3);
    store.gate = deferred();
    follow.start();
    expect(bus.listenerCount(RUN_ID)).toBe(1);
    follow.stop();
    store.gate.resolve();
    await follow.idle();
    bus.publish(RUN_ID, range(4, 4));
    await settle();
    expect(sink.sent).toEqual([]);
    expect(bus.listenerCount()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
    follow.stop();
  });

  it('fails when the run is deleted or the store fails, and stops', async () => {
    const deleted = setUp();
    deleted.store.deleted = true;
    deleted.follow.start();
    await deleted.follow.idle();
    expect(String(deleted.sink.failed)).toContain('deleted');
    expect(deleted.clock.pendingTimers).toBe(0);

    const broken = setUp();
    broken.store.failWith = new Error('connection lost');
    broken.follow.start();
    await broken.follow.idle();
    expect(broken.sink.failed).toBe(broken.store.failWith);
    expect(broken.bus.listenerCount()).toBe(0);
  });

  it('reads the next page of a long replay only once the client has taken the last', async () => {
    const { store, sink, follow } = setUp();
    store.events = range(1, 1_200);
    sink.hold = deferred();
    follow.start();
    await settle();
    expect(sink.sent).toHaveLength(500);
    expect(store.reads).toBe(1);
    const hold = sink.hold;
    sink.hold = null;
    hold.resolve();
    await follow.idle();
    expect(sink.sent).toEqual(range(1, 1_200).map((e) => e.seq));
    expect(store.reads).toBe(3);
  });
});

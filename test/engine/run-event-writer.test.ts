import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRunEvent, EVENT_TEXT_MAX_BYTES, type EncodedRunEvent, type RunEvent } from '../../src/domain/run-events.js';
import { ZERO_USAGE } from '../../src/domain/types.js';
import { RunEventBus, type RunEventUpdate } from '../../src/engine/run-event-bus.js';
import { closingEvents, RunEventWriter, type RunEventLimits } from '../../src/engine/run-event-writer.js';
import type { Logger } from '../../src/logger.js';
import { FakeClock, settle } from '../support/fake-clock.js';

/** The store side of the writer: each append is one statement; `refuse` answers "no longer held", `fail` throws. */
class FakeEventStore {
  readonly appends: EncodedRunEvent[][] = [];
  refuse = false;
  failures = 0;
  async appendRunEvents(_runId: string, _executorId: string, events: readonly EncodedRunEvent[]): Promise<boolean> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('database is locked');
    }
    if (this.refuse) return false;
    this.appends.push([...events]);
    return true;
  }
  get stored(): RunEvent[] {
    return this.appends.flat().map((e) => decodeRunEvent(e.json)!);
  }
  get bytes(): number {
    return this.appends.flat().reduce((sum, e) => sum + Buffer.byteLength(e.json), 0);
  }
}

describe('RunEventWriter', () => {
  let clock: FakeClock;
  let store: FakeEventStore;
  let bus: RunEventBus;
  let published: RunEvent[];
  let warnings: unknown[];
  let unsubscribe: () => void;

  beforeEach(() => {
    clock = new FakeClock('2026-01-05T08:00:00.000Z');
    store = new FakeEventStore();
    bus = new RunEventBus();
    published = [];
    warnings = [];
    unsubscribe = bus.subscribe('run-1', (update: RunEventUpdate) => {
      if (update.kind === 'events') published.push(...update.events);
    });
  });

  afterEach(() => {
    unsubscribe();
    expect(clock.pendingTimers).toBe(0);
  });

  const logger: Logger = { info: () => {}, debug: () => {}, error: (obj) => warnings.push(obj), warn: (obj) => warnings.push(obj) };

  function writer(secrets: Record<string, string> = {}, limits: Partial<RunEventLimits> = {}): RunEventWriter {
    return new RunEventWriter({ runId: 'run-1', executorId: 'exec-1', store, bus, clock, logger, secrets, limits });
  }

  it('numbers and stamps events, and writes them in one statement per flush', async () => {
    const w = writer();
    w.push({ type: 'text', text: 'one' });
    await clock.advance(50);
    w.push({ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } });
    w.push({ type: 'tool_result', toolUseId: 't1', isError: false, content: 'a.txt' });
    expect(store.appends).toHaveLength(0);
    await clock.advance(150);
    expect(store.appends).toHaveLength(1);
    expect(store.stored).toEqual([
      { seq: 1, at: clock.now() - 200, type: 'text', text: 'one' },
      { seq: 2, at: clock.now() - 150, type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'ls' } },
      { seq: 3, at: clock.now() - 150, type: 'tool_result', toolUseId: 't1', isError: false, content: 'a.txt' },
    ]);
    // What the bus carries is what was stored, once stored.
    expect(published).toEqual(store.stored);
    await w.close(closingEvents({ ...ZERO_USAGE, status: 'success', output: 'done', costUsd: 0.5 }, clock.now()));
    expect(store.appends).toHaveLength(2);
    expect(store.stored.at(-1)).toEqual({ seq: 4, at: clock.now(), type: 'result', status: 'success', ...ZERO_USAGE, costUsd: 0.5 });
  });

  it('writes at once when a batch is full, never one statement per event', async () => {
    const w = writer({}, { flushEvents: 100 });
    for (let i = 0; i < 99; i++) w.push({ type: 'text', text: `t${i}` });
    await settle();
    expect(store.appends).toHaveLength(0);
    // The 100th event sets the write going; what arrives before it starts joins it.
    for (let i = 99; i < 250; i++) w.push({ type: 'text', text: `t${i}` });
    await settle();
    expect(store.appends.map((a) => a.length)).toEqual([250]);
    w.push({ type: 'text', text: 'last' });
    await clock.advance(200);
    expect(store.appends.map((a) => a.length)).toEqual([250, 1]);
    expect(store.stored.map((e) => e.seq)).toEqual(Array.from({ length: 251 }, (_, i) => i + 1));
    await w.close([]);
  });

  it('keeps usage to one event a second, writing the latest one when it is due', async () => {
    const w = writer();
    const usage = (costUsd: number) => ({ type: 'usage' as const, ...ZERO_USAGE, costUsd });
    w.push(usage(0.1));
    await clock.advance(300);
    w.push(usage(0.2));
    await clock.advance(300);
    w.push(usage(0.3));
    await clock.advance(2_000);
    const usages = store.stored.filter((e) => e.type === 'usage');
    expect(usages.map((e) => [e.type === 'usage' && e.costUsd, e.at - Date.parse('2026-01-05T08:00:00.000Z')])).toEqual([
      [0.1, 0],
      [0.3, 1_000],
    ]);
    await w.close([]);
  });

  it('redacts secrets everywhere, and before a long text is cut', async () => {
    const secret = 'sk-live-0123456789';
    const w = writer({ API_KEY: secret });
    w.push({ type: 'tool_use', id: 't1', name: 'Bash', input: { command: `curl -H "Authorization: ${secret}"`, env: { [secret]: 1 } } });
    // The secret straddles the 16 KiB cut: cut first, its first half would be left in clear.
    const content = `${'x'.repeat(EVENT_TEXT_MAX_BYTES - 5)}${secret}${'y'.repeat(100)}`;
    w.push({ type: 'tool_result', toolUseId: 't1', isError: false, content });
    w.push({ type: 'text', text: `the key is ${JSON.stringify(secret)} and ${encodeURIComponent(secret)}` });
    await w.close(closingEvents({ ...ZERO_USAGE, status: 'error', output: `failed with ${secret}` }, clock.now()));
    const json = store.appends
      .flat()
      .map((e) => e.json)
      .join('\n');
    expect(json).not.toContain('sk-live');
    expect(json).not.toContain('sk-li');
    const [use, result, text, error] = store.stored;
    expect(use).toMatchObject({ type: 'tool_use', input: { command: 'curl -H "Authorization: [secret:API_KEY]"', env: { '[secret:API_KEY]': 1 } } });
    expect(result).toMatchObject({ type: 'tool_result', truncated: true, content: `${'x'.repeat(EVENT_TEXT_MAX_BYTES - 5)}[secr` });
    expect(text).toMatchObject({ text: 'the key is "[secret:API_KEY]" and [secret:API_KEY]' });
    expect(error).toMatchObject({ type: 'error', message: 'failed with [secret:API_KEY]' });
    expect(published).toEqual(store.stored);
  });

  it('redacts a secret that is also a key, and leaves out an event that redaction would break', async () => {
    const w = writer({ NAME: 'toolUseId' });
    w.push({ type: 'tool_result', toolUseId: 't1', isError: false, content: 'ok' });
    await w.close([]);
    expect(store.appends[0]![0]!.json).not.toContain('toolUseId');
    expect(store.stored).toEqual([{ seq: 1, at: clock.now(), type: 'tool_result', '[secret:NAME]': 't1', isError: false, content: 'ok' }]);

    const broken = new RunEventWriter({ runId: 'run-2', executorId: 'exec-1', store, bus, clock, logger, secrets: { NAME: 'seq' } });
    broken.push({ type: 'text', text: 'hello' });
    await broken.close([]);
    expect(store.stored.at(-1)).toEqual({ seq: 1, at: clock.now(), type: 'error', message: 'A text event was left out: it could not be redacted.' });
  });

  it('stops at the byte limit with one truncated event, and still writes the closing events', async () => {
    const maxBytes = 64 * 1024;
    const w = writer({}, { maxBytes });
    for (let i = 0; i < 40; i++) w.push({ type: 'tool_result', toolUseId: `t${i}`, isError: false, content: 'z'.repeat(4_000) });
    await clock.advance(200);
    w.push({ type: 'text', text: 'after the cap' });
    await w.close(closingEvents({ ...ZERO_USAGE, status: 'error', output: 'e'.repeat(10_000), costUsd: 1.25 }, clock.now()));
    const stored = store.stored;
    expect(store.bytes).toBeLessThanOrEqual(maxBytes);
    const truncated = stored.findIndex((e) => e.type === 'truncated');
    expect(truncated).toBeGreaterThan(10);
    expect(stored.filter((e) => e.type === 'truncated')).toHaveLength(1);
    expect(stored[truncated]).toMatchObject({ message: 'The transcript reached its limit of 64 KiB: later events of this run were not recorded.' });
    // Nothing ordinary after the marker; the error (cut to fit) and the result close it.
    expect(stored.slice(truncated + 1).map((e) => e.type)).toEqual(['error', 'result']);
    expect(stored.at(-1)).toMatchObject({ type: 'result', status: 'error', costUsd: 1.25 });
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
  });

  it('stops writing once the store says the run is no longer held', async () => {
    const w = writer();
    w.push({ type: 'text', text: 'one' });
    store.refuse = true;
    await clock.advance(200);
    w.push({ type: 'text', text: 'two' });
    await w.close(closingEvents({ ...ZERO_USAGE, status: 'cancelled', output: 'x' }, clock.now()));
    expect(store.appends).toHaveLength(0);
    expect(published).toEqual([]);
    expect(warnings).toHaveLength(1);
  });

  it('after a failed write tries again, keeping the order of the batches', async () => {
    const w = writer();
    w.push({ type: 'text', text: 'one' });
    store.failures = 1;
    await clock.advance(200);
    expect(store.appends).toHaveLength(0);
    w.push({ type: 'text', text: 'two' });
    await clock.advance(1_000);
    expect(store.appends).toHaveLength(1);
    expect(store.stored.map((e) => e.seq)).toEqual([1, 2]);
    expect(published.map((e) => e.seq)).toEqual([1, 2]);
    await w.close([]);
  });

  it('ignores events pushed after close, and a runner event that cannot be encoded', async () => {
    const w = writer();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    w.push({ type: 'tool_use', id: 't', name: 'X', input: cyclic });
    w.push({ type: 'text', text: 'fine' });
    await w.close([]);
    w.push({ type: 'text', text: 'late' });
    await clock.advance(1_000);
    expect(store.stored).toEqual([{ seq: 1, at: clock.now() - 1_000, type: 'text', text: 'fine' }]);
  });
});

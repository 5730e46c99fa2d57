import type { Clock, TimerHandle } from '../../src/clock.js';

interface PendingTimer {
  id: number;
  at: number;
  callback: () => void;
}

/** Lets pending promise chains (store calls, awaits) run to completion. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A clock that only moves when told. Timers fire in time order as `advance` passes them, with
 * pending promise work settled between timers, so tests never sleep for real.
 */
export class FakeClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  constructor(start: number | string | Date = '2026-01-05T08:00:00.000Z') {
    this.current = new Date(start).getTime();
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, delayMs), callback };
    this.timers.push(timer);
    return { id: timer.id };
  }

  clearTimer(handle: TimerHandle): void {
    const id = (handle as { id: number }).id;
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  /** Number of timers waiting. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** The time of the earliest pending timer. */
  get nextTimerAt(): number | null {
    return this.timers.length === 0 ? null : Math.min(...this.timers.map((t) => t.at));
  }

  /** Moves time forward by `ms`, firing every timer that comes due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.current + ms);
  }

  async advanceTo(target: number | string | Date): Promise<void> {
    const end = new Date(target).getTime();
    await settle();
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
      await settle();
    }
    this.current = Math.max(this.current, end);
    await settle();
  }

  /** Sets the time without firing timers (a clock jump, e.g. backwards). */
  jumpTo(target: number | string | Date): void {
    this.current = new Date(target).getTime();
  }
}

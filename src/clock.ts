/** A timer handle as returned by a Clock. */
export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

/**
 * Time and timers, injected so the scheduler and executor can be tested with a fake clock that
 * moves instantly, without real sleeps.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
}

/** The real clock. Timers are unref'd: pending timers never keep the process alive by themselves. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    handle.unref();
    return handle;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import type { EngineMetrics } from './engine-metrics.js';

export interface BackgroundLoopOptions {
  clock: Clock;
  logger: Logger;
  /** What one round does, for the log line of a failed round (e.g. "scheduler pass"). */
  name: string;
  /** One round of work. A throw is logged and the loop goes on after `intervalMs`. */
  round: () => Promise<void>;
  /** The wait between rounds, and after a failed round. */
  intervalMs: number;
  /**
   * How long to wait after a successful round, if not `intervalMs` (the scheduler aims at the
   * next fire time). A throw counts as a failed round.
   */
  delayAfterRound?: () => Promise<number>;
  /** Whether start() runs a round at once, or waits `intervalMs` first. */
  roundAtStart: boolean;
  /** Counts failed rounds (nearly always a store call) as database errors, by the loop's name. */
  metrics?: Pick<EngineMetrics, 'loopFailed'>;
}

/**
 * The one start/stop/timer loop of the engine (scheduler passes, executor claims and heartbeats,
 * lease sweeps). Invariants: at most one round runs at a time; at most one timer is pending; a
 * wake() during a round runs one more round right after it (wake-ups coalesce); a failed round
 * is logged and the loop goes on; start() and stop() are safe twice, and stop() returns once the
 * round in flight has ended, leaving no timer.
 */
export class BackgroundLoop {
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;
  private active = false;

  constructor(private readonly options: BackgroundLoopOptions) {}

  get running(): boolean {
    return this.active;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    if (this.options.roundAtStart) this.wake();
    else this.arm(this.options.intervalMs);
  }

  /** Runs a round now, or once more after the round in flight. Ignored while stopped. */
  wake(): void {
    if (!this.active) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.clearTimer();
    this.inFlight = this.rounds().finally(() => {
      this.inFlight = null;
    });
  }

  async stop(): Promise<void> {
    this.active = false;
    this.again = false;
    this.clearTimer();
    await this.inFlight;
  }

  private async rounds(): Promise<void> {
    const { logger, name, intervalMs, round, delayAfterRound } = this.options;
    for (;;) {
      this.again = false;
      let delay = intervalMs;
      try {
        await round();
        if (delayAfterRound && !this.again) delay = await delayAfterRound();
      } catch (error) {
        logger.error({ err: error }, `${name} failed; trying again in ${intervalMs} ms`);
        this.options.metrics?.loopFailed(name);
      }
      if (!this.active) return;
      if (this.again) continue;
      this.arm(delay);
      return;
    }
  }

  private arm(delayMs: number): void {
    this.clearTimer();
    this.timer = this.options.clock.setTimer(() => {
      this.timer = null;
      this.wake();
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer) this.options.clock.clearTimer(this.timer);
    this.timer = null;
  }
}

import type { Clock, TimerHandle } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { AgentRunner } from './agent-runner.js';

export interface LeaseReaperOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /** Stops processes an ended run left on this machine, if this instance executes runs. */
  runner: Pick<AgentRunner, 'stopAbandoned'> | null;
}

/**
 * Ends as error the runs whose executor stopped renewing its lease (an instance that died), so
 * no run stays "running" forever. Every instance runs one, executor or not; ending a run is one
 * conditional UPDATE, so two reapers never end the same run twice.
 */
export class LeaseReaper {
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private running = false;

  constructor(private readonly options: LeaseReaperOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.options.clock.clearTimer(this.timer);
    this.timer = null;
    await this.inFlight;
  }

  /** One sweep; public for tests. Returns the ids of the runs it ended. */
  async sweep(): Promise<string[]> {
    const { store, clock, logger, runner } = this.options;
    const ended = await store.endAbandonedRuns(clock.now(), { everything: false });
    if (ended.length > 0) {
      logger.warn({ runIds: ended }, 'ended runs whose executor stopped renewing its lease (it lost its executor)');
      await runner?.stopAbandoned?.(ended);
    }
    return ended;
  }

  private schedule(): void {
    const { clock, intervalMs, logger } = this.options;
    this.timer = clock.setTimer(() => {
      this.timer = null;
      this.inFlight = this.sweep()
        .then(() => {})
        .catch((error: unknown) => logger.error({ err: error }, 'lease sweep failed; retrying'))
        .finally(() => {
          this.inFlight = null;
          if (this.running) this.schedule();
        });
    }, intervalMs);
  }
}

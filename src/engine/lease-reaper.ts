import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { AgentRunner } from './agent-runner.js';
import { BackgroundLoop } from './background-loop.js';
import type { EngineMetrics } from './engine-metrics.js';

export interface LeaseReaperOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  /** Stops processes an ended run left on this machine, if this instance executes runs. */
  runner: Pick<AgentRunner, 'stopAbandoned'> | null;
  /** Lease expiries (/metrics); default: none. */
  metrics?: EngineMetrics;
}

/**
 * Ends as error the runs whose executor stopped renewing its lease (an instance that died), so
 * no run stays "running" forever. Every instance runs one, executor or not; ending a run is one
 * conditional UPDATE, so two reapers never end the same run twice.
 */
export class LeaseReaper {
  private readonly loop: BackgroundLoop;

  constructor(private readonly options: LeaseReaperOptions) {
    this.loop = new BackgroundLoop({
      clock: options.clock,
      logger: options.logger,
      name: 'lease sweep',
      round: async () => {
        await this.sweep();
      },
      intervalMs: options.intervalMs,
      roundAtStart: false,
      metrics: options.metrics,
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One sweep; public for tests. Returns the ids of the runs it ended. */
  async sweep(): Promise<string[]> {
    const { store, clock, logger, runner } = this.options;
    const ended = await store.endAbandonedRuns(clock.now(), { everything: false });
    this.options.metrics?.leasesExpired(ended.length);
    if (ended.length > 0) {
      logger.warn({ runIds: ended }, 'ended runs whose executor stopped renewing its lease (it lost its executor)');
      await runner?.stopAbandoned?.(ended);
    }
    return ended;
  }
}

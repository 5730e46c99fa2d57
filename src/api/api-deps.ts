import type { Clock } from '../clock.js';
import type { RunExecutor } from '../runner/run-executor.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Store } from '../store/store.js';

/** What the routes use. `executor` is null on an instance that does not execute runs. */
export interface ApiDeps {
  store: Store;
  clock: Clock;
  scheduler: Pick<Scheduler, 'wake'>;
  executor: Pick<RunExecutor, 'wake' | 'cancelLocal' | 'cancelAgentLocal'> | null;
}

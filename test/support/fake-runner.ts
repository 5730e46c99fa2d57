import type { AgentRunRequest, AgentRunner } from '../../src/runner/agent-runner.js';
import { ZERO_USAGE, type RunOutcome } from '../../src/domain/types.js';
import { deferred, type Deferred } from './deferred.js';

/** A run the fake runner has been asked to do, finished by the test. */
export interface PendingFakeRun {
  request: AgentRunRequest;
  finish(outcome?: Partial<RunOutcome>): void;
  result: Deferred<RunOutcome>;
}

/**
 * An AgentRunner for unit and API tests: each run waits until the test finishes it (or it is
 * aborted, which ends it as cancelled). The real SDK is used in the end-to-end tests.
 */
export class FakeRunner implements AgentRunner {
  readonly runs: PendingFakeRun[] = [];
  /** Finish every run at once with this outcome instead of waiting for the test. */
  autoFinish: Partial<RunOutcome> | null = null;

  async run(request: AgentRunRequest): Promise<RunOutcome> {
    const result = deferred<RunOutcome>();
    const pending: PendingFakeRun = {
      request,
      result,
      finish: (outcome = {}) => result.resolve({ ...ZERO_USAGE, status: 'success', output: 'done', ...outcome }),
    };
    this.runs.push(pending);
    const onAbort = () => result.resolve({ ...ZERO_USAGE, status: 'cancelled', output: 'Cancelled' });
    if (request.signal.aborted) onAbort();
    else request.signal.addEventListener('abort', onAbort, { once: true });
    if (this.autoFinish) pending.finish(this.autoFinish);
    try {
      return await result.promise;
    } finally {
      request.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Runs not finished yet. */
  get open(): PendingFakeRun[] {
    return this.runs.filter((r) => !r.request.signal.aborted);
  }
}

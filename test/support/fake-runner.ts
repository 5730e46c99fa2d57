import type { RunEventInput } from '../../src/domain/run-events.js';
import { ZERO_USAGE, type RunOutcome, type RunUsage } from '../../src/domain/types.js';
import type { AgentRunRequest, AgentRunner } from '../../src/engine/agent-runner.js';
import { deferred, type Deferred } from './deferred.js';

/** A run the fake runner has been asked to do, finished by the test. */
export interface PendingFakeRun {
  request: AgentRunRequest;
  /** Usage accrued so far (cumulative, as the real runner reports it). */
  readonly usage: RunUsage;
  /**
   * Adds usage as a model turn would and reports the new total through `request.onProgress`,
   * the callback the real runner uses. Ignored once the run has ended.
   */
  accrue(usage: Partial<RunUsage>): void;
  /** Reports transcript events through `request.onEvent`, as the real runner does. Ignored once the run has ended. */
  emit(...events: RunEventInput[]): void;
  /** Ends the run; its usage is what accrued unless `outcome` says otherwise. */
  finish(outcome?: Partial<RunOutcome>): void;
  result: Deferred<RunOutcome>;
}

/**
 * An AgentRunner for unit and API tests: each run waits until the test finishes it, or until it
 * is aborted, which ends it as cancelled with the usage accrued so far (as the real runner keeps
 * what an interrupted run cost). The real SDK is used in test/claude.
 */
export class FakeRunner implements AgentRunner {
  readonly runs: PendingFakeRun[] = [];
  /** Finish every run at once with this outcome instead of waiting for the test. */
  autoFinish: Partial<RunOutcome> | null = null;

  async run(request: AgentRunRequest): Promise<RunOutcome> {
    const result = deferred<RunOutcome>();
    let usage: RunUsage = { ...ZERO_USAGE };
    let ended = false;
    const end = (outcome: RunOutcome): void => {
      if (ended) return;
      ended = true;
      result.resolve(outcome);
    };
    const pending: PendingFakeRun = {
      request,
      result,
      get usage() {
        return usage;
      },
      accrue(more) {
        if (ended) return;
        usage = addUsage(usage, more);
        request.onProgress?.({ ...usage });
      },
      emit(...events) {
        if (ended) return;
        for (const event of events) request.onEvent?.(event);
      },
      finish: (outcome = {}) => end({ ...usage, status: 'success', output: 'done', ...outcome }),
    };
    this.runs.push(pending);
    const onAbort = () => end({ ...usage, status: 'cancelled', output: 'Cancelled' });
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

function addUsage(a: RunUsage, b: Partial<RunUsage>): RunUsage {
  return {
    costUsd: a.costUsd + (b.costUsd ?? 0),
    inputTokens: a.inputTokens + (b.inputTokens ?? 0),
    outputTokens: a.outputTokens + (b.outputTokens ?? 0),
    cacheReadInputTokens: a.cacheReadInputTokens + (b.cacheReadInputTokens ?? 0),
    cacheCreationInputTokens: a.cacheCreationInputTokens + (b.cacheCreationInputTokens ?? 0),
    numTurns: a.numTurns + (b.numTurns ?? 0),
  };
}

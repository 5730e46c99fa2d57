import type { Clock } from '../clock.js';
import { DEFAULTS, LIMITS } from '../defaults.js';
import { NotFoundError } from '../domain/errors.js';
import type { RunEvent } from '../domain/run-events.js';
import type { Run } from '../domain/types.js';
import type { Store } from '../store/store.js';
import { RunFollow, type RunEventFeed, type RunFollowSink } from './run-follow.js';

export interface RunsDeps {
  store: Store;
  clock: Clock;
  /** This instance's live run events (the engine's bus); none: streams read the store only. */
  runEvents?: RunEventFeed | null;
  /** How often a stream polls the store for a run executing elsewhere; default DEFAULTS.streamPollMs. */
  streamPollMs?: number;
}

/** Events per read when a whole transcript is downloaded. */
const TRANSCRIPT_PAGE = 1_000;

/** The safety poll of a run this instance executes, as a multiple of the poll of others' runs. */
const LOCAL_POLL_FACTOR = 10;

/** One run and its transcript: read it, page through its events, download it, follow it live. */
export class Runs {
  constructor(private readonly deps: RunsDeps) {}

  /** The run, or a NotFoundError. */
  async get(runId: string): Promise<Run> {
    const run = await this.deps.store.getRun(runId);
    if (!run) throw new NotFoundError(`run ${runId} not found`);
    return run;
  }

  /** The run's events after seq `after`, oldest first, at most `limit`; a NotFoundError for an unknown run. */
  async events(runId: string, query: { after?: number; limit?: number }): Promise<RunEvent[]> {
    const limit = Math.min(query.limit ?? LIMITS.runEventsLimitDefault, LIMITS.runEventsLimitMax);
    const events = await this.deps.store.listRunEvents(runId, { after: query.after ?? 0, limit });
    // A page with events proves the run exists; only an empty one needs the second read.
    if (events.length === 0) await this.get(runId);
    return events;
  }

  /** The whole transcript, page by page, as it is when each page is read; a NotFoundError first for an unknown run. */
  async transcript(runId: string): Promise<AsyncIterable<readonly RunEvent[]>> {
    await this.get(runId);
    const store = this.deps.store;
    return {
      async *[Symbol.asyncIterator]() {
        let after = 0;
        for (;;) {
          const page = await store.listRunEvents(runId, { after, limit: TRANSCRIPT_PAGE });
          const last = page.at(-1);
          if (last) yield page;
          if (!last || page.length < TRANSCRIPT_PAGE) return;
          after = last.seq;
        }
      },
    };
  }

  /**
   * Follows the run for one client from seq `after` (see RunFollow; a run deleted meanwhile ends
   * it through `sink.fail`). Check the run exists first (get). The caller stops it when the
   * client goes away.
   */
  follow(runId: string, after: number, sink: RunFollowSink): RunFollow {
    const pollMs = this.deps.streamPollMs ?? DEFAULTS.streamPollMs;
    const follow = new RunFollow(
      {
        store: this.deps.store,
        clock: this.deps.clock,
        feed: this.deps.runEvents ?? null,
        pollMs,
        localPollMs: pollMs * LOCAL_POLL_FACTOR,
      },
      runId,
      after,
      sink,
    );
    follow.start();
    return follow;
  }
}

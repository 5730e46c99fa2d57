import type { Clock, TimerHandle } from '../clock.js';
import type { RunEvent } from '../domain/run-events.js';
import { ACTIVE_RUN_STATUSES, type Run, type RunStatus } from '../domain/types.js';
import type { Store } from '../store/store.js';

/**
 * The engine's live events of the runs this instance executes, as services see them (declared
 * here, not imported, so services do not depend on the engine's classes).
 */
export interface RunEventFeed {
  /** Hears each batch of the run's events once stored, and its end; returns the unsubscribe. */
  subscribe(runId: string, listener: (update: RunEventUpdate) => void): () => void;
  /** Whether this instance executes the run now (its events come through the feed). */
  executing(runId: string): boolean;
}

/** A stored batch of a run's events, or its end here (its last events stored and its outcome recorded). */
export type RunEventUpdate = { kind: 'events'; events: readonly RunEvent[] } | { kind: 'ended' };

/** Where a follow sends what it reads. */
export interface RunFollowSink {
  /** Sends events, oldest first; a promise holds the follow until the client takes more. */
  send(events: readonly RunEvent[]): void | Promise<void>;
  /** The run has ended and all its events were sent. */
  end(run: Run): void;
  /** The follow stopped without an end: the run was deleted, or the database failed. */
  fail(reason: unknown): void;
}

export interface RunFollowOptions {
  store: Pick<Store, 'listRunEvents' | 'getRun'>;
  clock: Clock;
  /** This instance's live events; null: every run is read from the store. */
  feed: RunEventFeed | null;
  /** The poll of a run this instance does not execute (another instance's, or one still queued). */
  pollMs: number;
  /** The safety poll of a run this instance executes, in case its feed missed the end. */
  localPollMs: number;
}

/** Events per store read: the replay of a long transcript goes page by page, at the client's pace. */
const PAGE = 500;

const ACTIVE: ReadonlySet<RunStatus> = new Set(ACTIVE_RUN_STATUSES);

/**
 * Follows one run for one client: replays its events after `after` from the store, then sends
 * new ones as they come, and ends once the run has ended and every event was sent.
 *
 * Invariants: events go out in seq order, each once (`lastSent` only grows; whatever is not the
 * next seq is read from the store, which holds every event the feed published). The feed is
 * subscribed before the replay reads, so an event stored meanwhile is either in the replay or
 * heard live. One pump runs at a time; a trigger during it runs one more. After stop() nothing
 * is sent, and no listener or timer is left.
 */
export class RunFollow {
  private lastSent: number;
  private live: RunEvent[] = [];
  private readStore = true;
  private checkRun = true;
  private pumping: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /** The feed said the run ended here: until the store agrees, poll at the short interval. */
  private endHeard = false;
  private timer: TimerHandle | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly options: RunFollowOptions,
    readonly runId: string,
    after: number,
    private readonly sink: RunFollowSink,
  ) {
    this.lastSent = after;
  }

  start(): void {
    this.unsubscribe =
      this.options.feed?.subscribe(this.runId, (update) => {
        if (update.kind === 'events') {
          this.live.push(...update.events);
        } else {
          this.endHeard = true;
          this.checkRun = true;
        }
        this.kick();
      }) ?? null;
    this.kick();
  }

  /** Stops following (the client went away, or the run ended); safe twice. */
  stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) this.options.clock.clearTimer(this.timer);
    this.timer = null;
    this.live = [];
  }

  /** Settles once the pump in flight (if any) has returned: for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private kick(): void {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pumpWhileAsked().finally(() => {
      this.pumping = null;
    });
  }

  private async pumpWhileAsked(): Promise<void> {
    try {
      do {
        this.again = false;
        await this.pump();
      } while (this.again && !this.closed);
    } catch (error) {
      if (this.closed) return;
      this.stop();
      this.sink.fail(error);
    }
  }

  private async pump(): Promise<void> {
    const live = this.live.splice(0).filter((event) => event.seq > this.lastSent);
    if (live.length > 0) {
      if (follows(live, this.lastSent)) await this.deliver(live);
      // A gap (events published before the replay caught up): the store has them all.
      else this.readStore = true;
    }
    if (this.readStore && !this.closed) {
      this.readStore = false;
      await this.catchUp();
    }
    if (this.checkRun && !this.closed) {
      this.checkRun = false;
      await this.checkStatus();
    }
  }

  /** Sends every stored event after the last one sent, a page at a time. */
  private async catchUp(): Promise<void> {
    for (;;) {
      const page = await this.options.store.listRunEvents(this.runId, { after: this.lastSent, limit: PAGE });
      if (this.closed) return;
      await this.deliver(page);
      if (page.length < PAGE || this.closed) return;
    }
  }

  private async deliver(events: readonly RunEvent[]): Promise<void> {
    const last = events.at(-1);
    if (!last || this.closed) return;
    this.lastSent = last.seq;
    await this.sink.send(events);
  }

  /** Ends the follow once the run has ended (after a last read of its events), else polls again. */
  private async checkStatus(): Promise<void> {
    const run = await this.options.store.getRun(this.runId);
    if (this.closed) return;
    if (!run) {
      this.stop();
      this.sink.fail(new Error(`run ${this.runId} was deleted`));
      return;
    }
    if (!ACTIVE.has(run.status)) {
      // The executor stores its last events before it ends the run: this read has them all.
      await this.catchUp();
      if (this.closed) return;
      this.stop();
      this.sink.end(run);
      return;
    }
    const { feed, pollMs, localPollMs } = this.options;
    const local = feed !== null && !this.endHeard && feed.executing(this.runId);
    this.arm(local ? localPollMs : pollMs);
  }

  private arm(delayMs: number): void {
    if (this.timer) this.options.clock.clearTimer(this.timer);
    this.timer = this.options.clock.setTimer(() => {
      this.timer = null;
      this.readStore = true;
      this.checkRun = true;
      this.kick();
    }, delayMs);
  }
}

/** Whether `events` continue right after `lastSent`, one seq after another. */
function follows(events: readonly RunEvent[], lastSent: number): boolean {
  return events.every((event, i) => event.seq === lastSent + 1 + i);
}

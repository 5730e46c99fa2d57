/**
 * The in-process bus of run events: the executor publishes each batch of a run's events once it
 * is stored, and says when the run has ended (its outcome recorded); a live stream of a run
 * executing on this instance subscribes instead of polling the store.
 *
 *   subscribe(runId, listener): () => void   the listener gets every later update; call the result to stop
 *   publish(runId, events)                    a stored batch, in seq order
 *   ended(runId)                              the run's last events are stored and its outcome recorded
 *   executing(runId)                          whether this instance executes the run (its events come here)
 *
 * Only what was stored is published, so a subscriber that also reads the store (replay first,
 * then live) sees each event at least once, and may drop a live event whose seq it has sent.
 */
import type { RunEvent } from '../domain/run-events.js';

export type RunEventUpdate = { kind: 'events'; events: readonly RunEvent[] } | { kind: 'ended' };
export type RunEventListener = (update: RunEventUpdate) => void;

export class RunEventBus {
  private readonly listeners = new Map<string, Set<RunEventListener>>();
  private readonly running = new Set<string>();

  /** The executor claimed the run: its events will be published here until `ended`. */
  started(runId: string): void {
    this.running.add(runId);
  }

  /** Whether this instance executes the run now (else its events come from another instance, through the store). */
  executing(runId: string): boolean {
    return this.running.has(runId);
  }

  subscribe(runId: string, listener: RunEventListener): () => void {
    let set = this.listeners.get(runId);
    if (!set) {
      set = new Set();
      this.listeners.set(runId, set);
    }
    set.add(listener);
    return () => {
      const current = this.listeners.get(runId);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) this.listeners.delete(runId);
    };
  }

  publish(runId: string, events: readonly RunEvent[]): void {
    if (events.length > 0) this.deliver(runId, { kind: 'events', events });
  }

  ended(runId: string): void {
    this.running.delete(runId);
    this.deliver(runId, { kind: 'ended' });
  }

  /** Subscribers of a run (for tests and the bench: none may be left once streams close). */
  listenerCount(runId?: string): number {
    if (runId !== undefined) return this.listeners.get(runId)?.size ?? 0;
    let count = 0;
    for (const set of this.listeners.values()) count += set.size;
    return count;
  }

  /** A listener that throws does not keep the others from their update. */
  private deliver(runId: string, update: RunEventUpdate): void {
    const set = this.listeners.get(runId);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(update);
      } catch {
        // The listener's own failure (a closed socket); the stream that owns it cleans up.
      }
    }
  }
}

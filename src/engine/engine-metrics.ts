import type { RunOutcome, RunTrigger } from '../domain/types.js';
import type { DeliveryAttempt, TickResult } from '../store/store.js';

/**
 * What the engine reports as it works, for /metrics (metrics.ts implements it over prom-client).
 * Every engine part takes it as an optional option: without one it reports nothing, so engine
 * tests need none. Each hook is called synchronously and must not throw.
 */
export interface EngineMetrics {
  /** The executor started a run it claimed; `scheduledFor` is the slot of a scheduled run (fire lateness = startedAt − slot). */
  runStarted(run: { trigger: RunTrigger; scheduledFor: number | null; startedAt: number }): void;
  /** A run this instance executed ended (its runner returned), whether or not the result could be recorded. */
  runEnded(run: { trigger: RunTrigger; outcome: RunOutcome; durationMs: number }): void;
  /** The result of a tick this instance's scheduler tried to claim ('lost': another claimer moved the agent first). */
  tickClaimed(result: TickResult): void;
  /** One webhook delivery attempt, by its result ('error': it could not be sent or recorded). */
  deliveryAttempted(result: DeliveryAttempt['outcome'] | 'error'): void;
  /** Runs the lease reaper ended because their executor stopped renewing its lease. */
  leasesExpired(count: number): void;
  /** A round of a background loop failed: nearly always a store call (the database busy, unreachable, or refusing). */
  loopFailed(loop: string): void;
}

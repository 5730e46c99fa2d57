import { iso } from '../domain/run-json.js';
import type { Logger } from '../logger.js';

/** Why a tick was claimed without a run: a run still in progress, or a slot missed by more than the catch-up window. */
export type SkipReason = 'in_progress' | 'missed';

interface AgentSkips {
  inProgress: number;
  missed: number;
  firstSlot: number;
  lastSlot: number;
  /** When the first skip of this summary happened. */
  since: number;
}

/**
 * Skipped ticks, logged as one summary line per agent at most every `intervalMs` rather than a
 * line per slot: 3,000 agents on a seconds schedule with the runner off would otherwise write
 * 3,000 lines a second. Summaries are logged when due (flush) and when the scheduler stops.
 */
export class SkippedTicksLog {
  private readonly pending = new Map<string, AgentSkips>();

  constructor(private readonly options: { logger: Logger; intervalMs: number }) {}

  record(agentId: string, reason: SkipReason, slot: number, now: number): void {
    let skips = this.pending.get(agentId);
    if (!skips) {
      skips = { inProgress: 0, missed: 0, firstSlot: slot, lastSlot: slot, since: now };
      this.pending.set(agentId, skips);
    }
    if (reason === 'in_progress') skips.inProgress++;
    else skips.missed++;
    skips.firstSlot = Math.min(skips.firstSlot, slot);
    skips.lastSlot = Math.max(skips.lastSlot, slot);
  }

  /** Logs the summaries whose interval has passed (all of them with `everything`). */
  flush(now: number, everything = false): void {
    for (const [agentId, skips] of this.pending) {
      if (!everything && now - skips.since < this.options.intervalMs) continue;
      this.pending.delete(agentId);
      this.options.logger.info(
        {
          agentId,
          skipped: skips.inProgress + skips.missed,
          // in progress: the agent still had a run queued or running; missed: by more than the catch-up window.
          inProgress: skips.inProgress,
          missed: skips.missed,
          firstSlot: iso(skips.firstSlot),
          lastSlot: iso(skips.lastSlot),
        },
        'ticks skipped',
      );
    }
  }
}

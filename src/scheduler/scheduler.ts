import type { Clock, TimerHandle } from '../clock.js';
import { parseSchedule, type CronSchedule } from '../domain/cron.js';
import type { Logger } from '../logger.js';
import type { DueAgent, Store, TickClaim, TickResult } from '../store/store.js';
import { newId } from '../domain/ids.js';

export interface SchedulerOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** A slot missed by more than this is not run after downtime. */
  catchupWindowMs: number;
  /** Safety poll: edits made by other instances are seen within this time. */
  pollMs: number;
  /** Called after a tick queued a run, so the executor can start it at once. */
  onRunQueued?: () => void;
}

/** What one pass did, for logs and tests. */
export interface PassReport {
  fired: number;
  skipped: number;
  lost: number;
}

/** Slots late by up to this much are on time, whatever the catch-up window says (timer jitter, a busy loop). */
export const ON_TIME_TOLERANCE_MS = 60_000;

/** Ticks claimed per transaction (two statements whatever the size). */
const BATCH = 200;

/**
 * Decides WHEN agents run. One timer aims at the earliest `next_fire_at` of all agents (never
 * further away than the safety poll); each pass claims the due ticks through the store's
 * compare-and-set, so a slot fires at most once however many passes or instances see it.
 */
export class Scheduler {
  private timer: TimerHandle | null = null;
  private running = false;
  private passInFlight: Promise<void> | null = null;
  private passAgain = false;
  private readonly schedules = new Map<string, CronSchedule>();

  constructor(private readonly options: SchedulerOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.options.clock.clearTimer(this.timer);
    this.timer = null;
    await this.passInFlight;
  }

  /** Looks at the schedule again now (after an agent was created or changed). */
  wake(): void {
    if (!this.running) return;
    if (this.passInFlight) {
      this.passAgain = true;
      return;
    }
    this.passInFlight = this.loop().finally(() => {
      this.passInFlight = null;
    });
  }

  private async loop(): Promise<void> {
    let failed: boolean;
    do {
      this.passAgain = false;
      failed = false;
      try {
        await this.pass();
      } catch (error) {
        failed = true;
        this.options.logger.error({ err: error }, 'scheduler pass failed; retrying at the next poll');
      }
    } while (this.passAgain && this.running);
    await this.arm(failed);
  }

  /** After a failed pass the overdue agents are still due: wait a full poll, not 1 ms, before retrying. */
  private async arm(afterFailure = false): Promise<void> {
    if (!this.running) return;
    const { clock, store, pollMs, logger } = this.options;
    let delay = pollMs;
    try {
      const earliest = afterFailure ? null : await store.earliestFireAt();
      if (earliest !== null) delay = Math.min(pollMs, Math.max(1, earliest - clock.now()));
    } catch (error) {
      logger.error({ err: error }, 'scheduler could not read the next fire time');
    }
    if (!this.running) return;
    if (this.timer) clock.clearTimer(this.timer);
    this.timer = clock.setTimer(() => {
      this.timer = null;
      this.wake();
    }, delay);
  }

  /** Claims every tick due now. Public so tests can drive passes directly. */
  async pass(): Promise<PassReport> {
    const report: PassReport = { fired: 0, skipped: 0, lost: 0 };
    const { store, clock } = this.options;
    for (;;) {
      const due = await store.findDueAgents(clock.now(), BATCH);
      // The batch is claimed in one transaction (one commit). Each claim is planned with the
      // clock read just before the batch is written; its run becomes visible at the commit.
      const planned = due.map((agent) => this.plan(agent, clock.now()));
      const results = await store.claimTicks(planned.map((p) => p.claim));
      results.forEach((result, i) => {
        this.logResult(planned[i]!, result);
        if (result === 'fired') report.fired++;
        else if (result === 'lost') report.lost++;
        else report.skipped++;
      });
      if (due.length < BATCH) break;
    }
    if (report.fired > 0) this.options.onRunQueued?.();
    return report;
  }

  private scheduleOf(agent: DueAgent): CronSchedule {
    const key = `${agent.timezone}\u0000${agent.schedule}`;
    let schedule = this.schedules.get(key);
    if (!schedule) {
      schedule = parseSchedule(agent.schedule, agent.timezone);
      if (this.schedules.size > 10_000) this.schedules.clear();
      this.schedules.set(key, schedule);
    }
    return schedule;
  }

  /** Works out what claiming this agent's due tick means: the slot to run (if any) and the next one. */
  private plan(agent: DueAgent, now: number): PlannedTick {
    let schedule: CronSchedule;
    try {
      schedule = this.scheduleOf(agent);
    } catch (error) {
      // Only reachable if a stored schedule became invalid (e.g. a timezone removed from ICU).
      this.options.logger.error({ err: error, agentId: agent.id }, 'stored schedule is invalid; agent unscheduled');
      return { claim: { agentId: agent.id, due: agent.nextFireAt, next: null, slot: null, runId: newId(), now }, latest: agent.nextFireAt };
    }
    // The next slot follows the slot that fired, never "now": an early timer cannot fire a slot twice.
    let latest = agent.nextFireAt;
    let next = schedule.nextAfter(latest);
    if (next !== null && next <= now) {
      // After downtime several slots may have passed: only the latest may run, and only if recent.
      latest = Math.max(latest, schedule.latestAtOrBefore(now) ?? latest);
      next = schedule.nextAfter(latest);
    }
    const lateness = now - latest;
    const slot = lateness <= Math.max(this.options.catchupWindowMs, ON_TIME_TOLERANCE_MS) ? latest : null;
    return { claim: { agentId: agent.id, due: agent.nextFireAt, next, slot, runId: newId(), now }, latest };
  }

  private logResult({ claim, latest }: PlannedTick, result: TickResult): void {
    const { logger } = this.options;
    const lateness = claim.now - latest;
    if (result === 'fired') {
      logger.info({ agentId: claim.agentId, scheduledFor: new Date(latest).toISOString(), latenessMs: lateness }, 'tick fired');
    } else if (result === 'skipped_overlap') {
      logger.info({ agentId: claim.agentId, scheduledFor: new Date(latest).toISOString() }, 'tick skipped: the agent still has a run in progress');
    } else if (result === 'skipped_stale') {
      logger.info(
        { agentId: claim.agentId, missedSlot: new Date(latest).toISOString(), latenessMs: lateness },
        'tick skipped: missed by more than the catch-up window',
      );
    }
  }
}

interface PlannedTick {
  claim: TickClaim;
  /** The latest slot at or before the claim's time. */
  latest: number;
}

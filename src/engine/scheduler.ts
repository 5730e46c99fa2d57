import type { Clock } from '../clock.js';
import { DEFAULTS } from '../defaults.js';
import { parseSchedule, type CronSchedule } from '../domain/cron.js';
import { newId } from '../domain/ids.js';
import { iso } from '../domain/run-json.js';
import type { Logger } from '../logger.js';
import type { DueAgent, Store, TickClaim, TickResult } from '../store/store.js';
import { BackgroundLoop } from './background-loop.js';
import { SkippedTicksLog } from './skipped-ticks-log.js';

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
  /** Skipped ticks are logged as one summary per agent at most this often. Default: DEFAULTS.skipLogIntervalMs. */
  skipLogIntervalMs?: number;
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
  private readonly loop: BackgroundLoop;
  private readonly schedules = new Map<string, CronSchedule>();
  private readonly skips: SkippedTicksLog;

  constructor(private readonly options: SchedulerOptions) {
    this.skips = new SkippedTicksLog({ logger: options.logger, intervalMs: options.skipLogIntervalMs ?? DEFAULTS.skipLogIntervalMs });
    this.loop = new BackgroundLoop({
      clock: options.clock,
      logger: options.logger,
      name: 'scheduler pass',
      round: async () => {
        await this.pass();
      },
      // After a failed pass the overdue agents are still due: the loop waits a full poll, not 1 ms.
      intervalMs: options.pollMs,
      delayAfterRound: () => this.delayUntilNextFire(),
      roundAtStart: true,
    });
  }

  start(): void {
    this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    this.skips.flush(this.options.clock.now(), true);
  }

  /** Looks at the schedule again now (after an agent was created or changed). */
  wake(): void {
    this.loop.wake();
  }

  /** Until the earliest `next_fire_at` of all agents, never longer than the safety poll. */
  private async delayUntilNextFire(): Promise<number> {
    const { clock, store, pollMs, logger } = this.options;
    try {
      const earliest = await store.earliestFireAt();
      return earliest === null ? pollMs : Math.min(pollMs, Math.max(1, earliest - clock.now()));
    } catch (error) {
      logger.error({ err: error }, 'scheduler could not read the next fire time');
      return pollMs;
    }
  }

  /** Claims every tick due now. Public so tests can drive passes directly. */
  async pass(): Promise<PassReport> {
    const report: PassReport = { fired: 0, skipped: 0, lost: 0 };
    const { store, clock } = this.options;
    for (;;) {
      const due = await store.findDueAgents(clock.now(), BATCH);
      // The batch is claimed in one transaction (one commit). Each claim is planned with the
      // clock read before the batch is written; its runs are stamped queued at the last
      // statement before the commit, when they come to exist.
      const planned = due.map((agent) => this.plan(agent, clock.now()));
      const results = await store.claimTicks(
        planned.map((p) => p.claim),
        () => clock.now(),
      );
      results.forEach((result, i) => {
        this.logResult(planned[i]!, result);
        if (result === 'fired') report.fired++;
        else if (result === 'lost') report.lost++;
        else report.skipped++;
      });
      if (due.length < BATCH) break;
    }
    this.skips.flush(clock.now());
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
      logger.info({ agentId: claim.agentId, scheduledFor: iso(latest), latenessMs: lateness }, 'tick fired');
    } else if (result === 'skipped_overlap') {
      this.skips.record(claim.agentId, 'in_progress', latest, claim.now);
    } else if (result === 'skipped_stale') {
      this.skips.record(claim.agentId, 'missed', latest, claim.now);
    }
  }
}

interface PlannedTick {
  claim: TickClaim;
  /** The latest slot at or before the claim's time. */
  latest: number;
}

import type { Clock } from '../clock.js';
import { DEFAULTS } from '../defaults.js';
import { parseSchedule, type CronSchedule } from '../domain/cron.js';
import { newId } from '../domain/ids.js';
import { iso } from '../domain/run-json.js';
import type { Logger } from '../logger.js';
import { countSlots } from '../domain/skip-reasons.js';
import type { DueAgent, MissedTickSlots, Store, TickClaim, TickResult } from '../store/store.js';
import { BackgroundLoop } from './background-loop.js';
import type { EngineMetrics } from './engine-metrics.js';
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
  /**
   * Called with the running runs a tick asked to stop (overlapPolicy replace), so this
   * instance's executor stops them at once; other instances hear of them through store.notifyCancel.
   */
  onCancelRequested?: (runIds: string[]) => void;
  /** Skipped ticks are logged as one summary per agent at most this often. Default: DEFAULTS.skipLogIntervalMs. */
  skipLogIntervalMs?: number;
  /** Ticks claimed and skipped (/metrics); default: none. */
  metrics?: EngineMetrics;
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
 * compare-and-set, so a slot fires at most once however many passes or instances see it. What a
 * slot does while a run of its agent is active is the agent's overlap policy, applied by the
 * store's claim (ticks.ts); slots that do not run, overlapped or missed, become skipped runs.
 */
export class Scheduler {
  private readonly loop: BackgroundLoop;
  private readonly schedules = new Map<string, CronSchedule>();
  private readonly skips: SkippedTicksLog;
  /** Keys the skipped row of the slots missed before this scheduler started (one row per agent and outage). */
  private startedAt: number;

  constructor(private readonly options: SchedulerOptions) {
    this.skips = new SkippedTicksLog({ logger: options.logger, intervalMs: options.skipLogIntervalMs ?? DEFAULTS.skipLogIntervalMs });
    this.startedAt = options.clock.now();
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
      metrics: options.metrics,
    });
  }

  /**
   * Starts passing. `startedAt` keys the skipped rows of the slots missed during the outage that
   * ends now (default: the clock's now); the start-up recovery of queued runs passes the same.
   */
  start(startedAt?: number): void {
    if (this.loop.running) return;
    this.startedAt = startedAt ?? this.options.clock.now();
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
      const stopped: string[] = [];
      const results = await store.claimTicks(
        planned.map((p) => p.claim),
        () => clock.now(),
        (runIds) => stopped.push(...runIds),
      );
      if (stopped.length > 0) await this.stopReplaced(stopped);
      results.forEach((result, i) => {
        this.logResult(planned[i]!, result);
        this.options.metrics?.tickClaimed(result);
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

  /** Asks the executors of the runs overlapPolicy replace stopped to stop them (the heartbeat is the fallback). */
  private async stopReplaced(runIds: string[]): Promise<void> {
    const { store, logger } = this.options;
    logger.info({ runIds }, 'asked running runs to stop: a slot of their agent replaces them (overlapPolicy replace)');
    this.options.onCancelRequested?.(runIds);
    try {
      await store.notifyCancel(runIds);
    } catch (error) {
      logger.warn({ err: error, runIds }, 'could not notify the executors of replaced runs; they stop at their next heartbeat');
    }
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
    const missed = this.missedSlots(schedule, agent.nextFireAt, latest, slot);
    return { claim: { agentId: agent.id, due: agent.nextFireAt, next, slot, runId: newId(), now, missed }, latest };
  }

  /**
   * The slots from `due` to `latest` that will not run (all but `slot`, the one caught up, if
   * any): no silent skips, they become one skipped row per agent and outage.
   */
  private missedSlots(schedule: CronSchedule, due: number, latest: number, slot: number | null): MissedTickSlots | null {
    const last = slot === null ? latest : latest > due ? schedule.latestAtOrBefore(latest - 1) : null;
    if (last === null || last < due) return null;
    const { count, approximate } = countSlots((instant) => schedule.nextAfter(instant), due, last);
    return { count, approximate, first: due, last, since: this.startedAt, skipId: newId(), catchupWindowMs: this.options.catchupWindowMs };
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

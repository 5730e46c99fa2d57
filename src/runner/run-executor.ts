import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock, TimerHandle } from '../clock.js';
import { ZERO_USAGE, type RunOutcome, type RunUsage } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { ClaimedRun, Store } from '../store/store.js';
import type { AgentRunner } from './agent-runner.js';

export interface RunExecutorOptions {
  store: Store;
  runner: AgentRunner;
  clock: Clock;
  logger: Logger;
  /** Names this instance as the executor of the runs it claims. */
  instanceId: string;
  maxConcurrentRuns: number;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  /** Each agent works in `<workspacesDir>/<agentId>`. */
  workspacesDir: string;
}

/** Why a run this executor holds is being stopped. */
type StopReason = 'cancel' | 'shutdown' | 'lease_lost';

interface ActiveRun {
  runId: string;
  agentId: string;
  controller: AbortController;
  stopReason: StopReason | null;
  usage: RunUsage;
  usageDirty: boolean;
  done: Promise<void>;
}

/**
 * Waits before each new attempt to record a run's result when the database refused the write
 * (busy, a dropped connection): ~15 s in all, well within a lease, which the heartbeat keeps
 * renewing meanwhile. A result that costs money is worth a few tries before recovery ends the
 * run as lost.
 */
export const FINISH_RETRY_DELAYS_MS: readonly number[] = [1_000, 2_000, 4_000, 8_000];

const STOP_MESSAGES: Record<StopReason, string> = {
  cancel: 'Cancelled',
  shutdown: 'Cancelled: the service shut down before the run finished',
  lease_lost: 'Stopped: this instance lost its claim on the run',
};

/**
 * Decides HOW runs execute on this instance: claims queued runs (oldest first) while it has
 * room, runs each through the AgentRunner, renews their leases, honours cancel requests, and
 * writes each outcome once, fenced by its executor id. It holds only the handles of its own runs;
 * everything else lives in the store.
 */
export class RunExecutor {
  private readonly active = new Map<string, ActiveRun>();
  private started = false;
  private accepting = false;
  private filling: Promise<void> | null = null;
  private fillAgain = false;
  private heartbeatTimer: TimerHandle | null = null;
  private pollTimer: TimerHandle | null = null;
  private heartbeatInFlight: Promise<void> | null = null;
  private unsubscribeCancels: Promise<() => Promise<void>> | null = null;

  constructor(private readonly options: RunExecutorOptions) {}

  get activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.accepting = true;
    // Cancels asked on other instances arrive at once; the heartbeat catches any that do not.
    this.unsubscribeCancels = this.options.store.onCancel((runIds) => this.cancelLocal(runIds)).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'cancel notifications unavailable; cancels arrive with the heartbeat');
      return async () => {};
    });
    this.scheduleHeartbeat();
    this.schedulePoll();
    this.wake();
  }

  /** Claims queued runs now (after a tick or a manual trigger queued one). */
  wake(): void {
    if (!this.accepting) return;
    if (this.filling) {
      this.fillAgain = true;
      return;
    }
    this.filling = this.fill().finally(() => {
      this.filling = null;
    });
  }

  /** Stops the runs this instance executes, if any; returns how many it stopped. */
  cancelLocal(runIds: readonly string[], reason: StopReason = 'cancel'): number {
    let count = 0;
    for (const id of runIds) {
      const run = this.active.get(id);
      if (!run) continue;
      if (!run.stopReason) run.stopReason = reason;
      run.controller.abort(reason);
      count++;
    }
    return count;
  }

  /** Stops the runs of one agent this instance executes (delete). */
  cancelAgentLocal(agentId: string): number {
    return this.cancelLocal([...this.active.values()].filter((r) => r.agentId === agentId).map((r) => r.runId));
  }

  /**
   * Stops claiming, lets running runs finish for `graceMs`, then cancels the rest and waits
   * until each is recorded. Safe to call twice.
   */
  async stop(graceMs: number): Promise<void> {
    this.accepting = false;
    const { clock } = this.options;
    if (this.pollTimer) clock.clearTimer(this.pollTimer);
    this.pollTimer = null;
    await this.filling;
    const all = () => Promise.all([...this.active.values()].map((r) => r.done));
    if (this.active.size > 0) {
      this.options.logger.info({ runs: this.active.size, graceMs }, 'waiting for running runs to finish');
      let graceTimer: TimerHandle | null = null;
      const graceOver = new Promise<void>((resolve) => {
        graceTimer = clock.setTimer(resolve, graceMs);
      });
      await Promise.race([all(), graceOver]);
      if (graceTimer) clock.clearTimer(graceTimer);
      this.cancelLocal([...this.active.keys()], 'shutdown');
      await all();
    }
    if (this.heartbeatTimer) clock.clearTimer(this.heartbeatTimer);
    this.heartbeatTimer = null;
    await this.heartbeatInFlight;
    const unsubscribe = await this.unsubscribeCancels;
    this.unsubscribeCancels = null;
    await unsubscribe?.();
    this.started = false;
  }

  private async fill(): Promise<void> {
    const { store, clock, logger, instanceId, maxConcurrentRuns, leaseMs } = this.options;
    do {
      this.fillAgain = false;
      while (this.accepting && this.active.size < maxConcurrentRuns) {
        let claimed: ClaimedRun | null;
        try {
          const now = clock.now();
          claimed = await store.claimQueuedRun(instanceId, now, now + leaseMs);
        } catch (error) {
          logger.error({ err: error }, 'could not claim a queued run; retrying at the next poll');
          return;
        }
        if (!claimed) break;
        this.execute(claimed);
      }
    } while (this.fillAgain && this.accepting);
  }

  private execute({ run, agent }: ClaimedRun): void {
    const { runner, clock, logger, workspacesDir } = this.options;
    const controller = new AbortController();
    const entry: ActiveRun = {
      runId: run.id,
      agentId: agent.id,
      controller,
      stopReason: null,
      usage: { ...ZERO_USAGE },
      usageDirty: false,
      done: Promise.resolve(),
    };
    this.active.set(run.id, entry);
    logger.info({ runId: run.id, agentId: agent.id, trigger: run.trigger }, 'run started');
    entry.done = (async () => {
      let outcome: RunOutcome;
      try {
        const cwd = path.join(workspacesDir, agent.id);
        await fs.mkdir(cwd, { recursive: true });
        outcome = await runner.run({
          runId: run.id,
          prompt: agent.prompt,
          maxTurns: agent.maxTurns,
          maxBudgetUsd: agent.maxBudgetUsd,
          model: agent.model,
          allowedTools: agent.allowedTools,
          cwd,
          signal: controller.signal,
          onProgress: (usage) => {
            entry.usage = usage;
            entry.usageDirty = true;
          },
        });
      } catch (error) {
        // The runner promises not to throw; this keeps the row honest if it ever does.
        outcome = { ...entry.usage, status: 'error', output: `The run failed: ${error instanceof Error ? error.message : String(error)}` };
      }
      if (entry.stopReason && outcome.status === 'cancelled') outcome = { ...outcome, output: STOP_MESSAGES[entry.stopReason] };
      try {
        const written = await this.recordOutcome(run.id, outcome, clock.now());
        if (written) logger.info({ runId: run.id, agentId: agent.id, status: outcome.status, costUsd: outcome.costUsd }, 'run finished');
        else if (written === false) logger.warn({ runId: run.id, agentId: agent.id, status: outcome.status }, 'run result refused: the run was deleted or taken over');
      } finally {
        this.active.delete(run.id);
        this.wake();
      }
    })();
  }

  /**
   * Writes a run's outcome, fenced by this executor's id, trying again after FINISH_RETRY_DELAYS_MS
   * when the write fails. True: written; false: refused (deleted or taken over); null: every
   * attempt failed, and recovery or the lease reaper will end the run.
   */
  private async recordOutcome(runId: string, outcome: RunOutcome, completedAt: number): Promise<boolean | null> {
    const { store, clock, logger, instanceId } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        return await store.finishRun(runId, instanceId, outcome, completedAt);
      } catch (error) {
        const delayMs = FINISH_RETRY_DELAYS_MS[attempt];
        if (delayMs === undefined) {
          logger.error({ err: error, runId, attempts: attempt + 1 }, 'could not record the run result; recovery will end it');
          return null;
        }
        logger.warn({ err: error, runId, attempt: attempt + 1 }, `could not record the run result; trying again in ${delayMs} ms`);
        await new Promise<void>((resolve) => clock.setTimer(resolve, delayMs));
      }
    }
  }

  private scheduleHeartbeat(): void {
    const { clock, heartbeatMs } = this.options;
    this.heartbeatTimer = clock.setTimer(() => {
      this.heartbeatInFlight = this.heartbeat().finally(() => {
        this.heartbeatInFlight = null;
        if (this.started && (this.accepting || this.active.size > 0)) this.scheduleHeartbeat();
      });
    }, heartbeatMs);
  }

  private schedulePoll(): void {
    const { clock, pollMs } = this.options;
    this.pollTimer = clock.setTimer(() => {
      this.wake();
      if (this.accepting) this.schedulePoll();
    }, pollMs);
  }

  /** Renews leases, picks up cancel requests made elsewhere (the fallback to notifications), and saves usage. */
  private async heartbeat(): Promise<void> {
    const { store, clock, logger, instanceId, leaseMs } = this.options;
    try {
      const ids = [...this.active.keys()];
      const now = clock.now();
      const { held, cancelRequested } = await store.renewLeases(instanceId, ids, now + leaseMs);
      const heldSet = new Set(held);
      const lost = ids.filter((id) => !heldSet.has(id) && this.active.has(id));
      if (lost.length > 0) {
        logger.warn({ runIds: lost }, 'runs no longer held by this instance (deleted or taken over); stopping them');
        this.cancelLocal(lost, 'lease_lost');
      }
      this.cancelLocal(cancelRequested, 'cancel');
      for (const run of this.active.values()) {
        if (!run.usageDirty) continue;
        run.usageDirty = false;
        await store.recordUsage(run.runId, instanceId, run.usage);
      }
    } catch (error) {
      logger.error({ err: error }, 'heartbeat failed; retrying');
    }
  }
}

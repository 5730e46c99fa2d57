/**
 * engine/: WHEN runs happen and WHO executes them; HOW one executes is claude/'s, behind the
 * AgentRunner interface (agent-runner.ts), so nothing here imports claude/.
 *   scheduler.ts       when agents fire: claims due ticks (store.claimTicks), queues their runs;
 *                      skipped-ticks-log.ts sums up the ticks it skips, per agent, in the log
 *   run-executor.ts    who runs them: claims queued runs, renews their leases, honours cancels,
 *                      records each outcome once (fenced by the executor id)
 *   agent-run-options.ts  what a run is given from its agent's run options (secrets resolved)
 *   lease-reaper.ts    ends the runs of an instance that stopped renewing its leases
 *   retention.ts       hourly, once per deployment (a lease): deletes runs past the retention
 *   background-loop.ts the one start/stop/timer loop they all use
 *   run-secrets.ts     where the executor gets an agent's decrypted secrets (services implement it);
 *                      the executor redacts their values from what a run leaves
 *   run-event-writer.ts  each run's transcript: numbered, redacted, capped, written in batches
 *   run-event-bus.ts   the stored events of runs executing here, for live streams
 *   outbox-sender.ts   sends webhook deliveries from the outbox (claims, retries, bounded);
 *                      webhook-request.ts is one outbound request (address checks, no redirects)
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../clock.js';
import { redactJsonValue, secretRedactor } from '../domain/secret-refs.js';
import { ZERO_USAGE, type RunOutcome, type RunUsage } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { ClaimedRun, Store } from '../store/store.js';
import { NO_HOST_PATHS, type HostPathPolicy } from '../host-paths.js';
import { agentRunOptions } from './agent-run-options.js';
import type { AgentRunner } from './agent-runner.js';
import { BackgroundLoop } from './background-loop.js';
import type { EngineMetrics } from './engine-metrics.js';
import { RunEventBus } from './run-event-bus.js';
import { closingEvents, RunEventWriter, type RunEventLimits } from './run-event-writer.js';
import type { RunSecrets } from './run-secrets.js';

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
  /** The agents' secrets, decrypted for each run. */
  secrets: RunSecrets;
  /** Host folders a workspace may use, checked again before each run; default: none. */
  hostPaths?: HostPathPolicy;
  /** Where the stored events of the runs executing here are published; default: a bus of its own. */
  runEvents?: RunEventBus;
  /** The transcripts' batching and size limits; default: RUN_EVENT_LIMITS. */
  eventLimits?: Partial<RunEventLimits>;
  /** Runs started and ended, their cost, tokens, duration and fire lateness (/metrics); default: none. */
  metrics?: EngineMetrics;
}

/** Why a run this executor holds is being stopped. */
type StopReason = 'cancel' | 'shutdown' | 'lease_lost';

/** A run this executor holds: the handle to stop it, and the usage it reported so far. */
interface HeldRun {
  runId: string;
  agentId: string;
  controller: AbortController;
  stopReason: StopReason | null;
  usage: RunUsage;
  /** Reported since the last heartbeat saved it. */
  usageDirty: boolean;
  /** The run's transcript, from the moment its secrets are known. */
  events: RunEventWriter | null;
  /** Settles once the run's outcome is recorded (or given up on) and the run is let go. */
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
 * Decides WHO executes runs on this instance: claims queued runs (oldest first) while it has
 * room, hands each to the AgentRunner, renews their leases, honours cancel requests, and writes
 * each outcome once, fenced by its executor id. It holds only the handles of its own runs;
 * everything else lives in the store.
 */
export class RunExecutor {
  /** The stored events of the runs this instance executes, as they are written (live streams). */
  readonly runEvents: RunEventBus;
  private readonly held = new Map<string, HeldRun>();
  private readonly claims: BackgroundLoop;
  private readonly heartbeats: BackgroundLoop;
  private started = false;
  private unsubscribeCancels: Promise<() => Promise<void>> | null = null;

  constructor(private readonly options: RunExecutorOptions) {
    const { clock, logger } = options;
    this.runEvents = options.runEvents ?? new RunEventBus();
    this.claims = new BackgroundLoop({
      clock,
      logger,
      name: 'claiming queued runs',
      round: () => this.claimWhileRoom(),
      // The poll finds runs queued by other instances (their wake() does not reach this one).
      intervalMs: options.pollMs,
      roundAtStart: true,
      metrics: options.metrics,
    });
    this.heartbeats = new BackgroundLoop({
      clock,
      logger,
      name: 'heartbeat',
      round: () => this.heartbeat(),
      intervalMs: options.heartbeatMs,
      roundAtStart: false,
      metrics: options.metrics,
    });
  }

  get activeRunIds(): string[] {
    return [...this.held.keys()];
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    // Cancels asked on other instances arrive at once; the heartbeat catches any that do not.
    this.unsubscribeCancels = this.options.store
      .onCancel((runIds) => this.cancelLocal(runIds))
      .catch((error: unknown) => {
        this.options.logger.warn({ err: error }, 'cancel notifications unavailable; cancels arrive with the heartbeat');
        return async () => {};
      });
    this.heartbeats.start();
    this.claims.start();
  }

  /** Claims queued runs now (after a tick or a manual trigger queued one). */
  wake(): void {
    this.claims.wake();
  }

  /** Stops the runs this instance executes, if any; returns how many it stopped. */
  cancelLocal(runIds: readonly string[], reason: StopReason = 'cancel'): number {
    let count = 0;
    for (const id of runIds) {
      const run = this.held.get(id);
      if (!run) continue;
      if (!run.stopReason) run.stopReason = reason;
      run.controller.abort(reason);
      count++;
    }
    return count;
  }

  /** Stops the runs of one agent this instance executes (delete). */
  cancelAgentLocal(agentId: string): number {
    return this.cancelLocal([...this.held.values()].filter((r) => r.agentId === agentId).map((r) => r.runId));
  }

  /**
   * Stops claiming, lets running runs finish for `graceMs`, then cancels the rest and waits
   * until each is recorded. The heartbeat goes on meanwhile: the runs still need their leases.
   * Safe to call twice.
   */
  async stop(graceMs: number): Promise<void> {
    await this.claims.stop();
    await this.drain(graceMs);
    await this.heartbeats.stop();
    const unsubscribe = await this.unsubscribeCancels;
    this.unsubscribeCancels = null;
    await unsubscribe?.();
    this.started = false;
  }

  private async drain(graceMs: number): Promise<void> {
    if (this.held.size === 0) return;
    const { clock, logger } = this.options;
    const allDone = () => Promise.all([...this.held.values()].map((r) => r.done));
    logger.info({ runs: this.held.size, graceMs }, 'waiting for running runs to finish');
    let resolveGrace = (): void => {};
    const graceOver = new Promise<void>((resolve) => (resolveGrace = resolve));
    const graceTimer = clock.setTimer(resolveGrace, graceMs);
    await Promise.race([allDone(), graceOver]);
    clock.clearTimer(graceTimer);
    this.cancelLocal([...this.held.keys()], 'shutdown');
    await allDone();
  }

  /** One round of the claim loop: claims queued runs until the slots are full or the queue is empty. */
  private async claimWhileRoom(): Promise<void> {
    const { store, clock, instanceId, maxConcurrentRuns, leaseMs } = this.options;
    while (this.claims.running && this.held.size < maxConcurrentRuns) {
      const now = clock.now();
      const claimed = await store.claimQueuedRun(instanceId, now, now + leaseMs);
      if (!claimed) return;
      this.startRun(claimed);
    }
  }

  /** Holds a claimed run and sets it going; its `done` settles once it is recorded and let go. */
  private startRun(claimed: ClaimedRun): void {
    const { run, agent } = claimed;
    const held: HeldRun = {
      runId: run.id,
      agentId: agent.id,
      controller: new AbortController(),
      stopReason: null,
      usage: { ...ZERO_USAGE },
      usageDirty: false,
      events: null,
      done: Promise.resolve(),
    };
    this.held.set(run.id, held);
    this.runEvents.started(run.id);
    this.options.logger.info({ runId: run.id, agentId: agent.id, trigger: run.trigger }, 'run started');
    this.options.metrics?.runStarted({ trigger: run.trigger, scheduledFor: run.scheduledFor, startedAt: run.startedAt ?? this.options.clock.now() });
    held.done = this.runToEnd(held, claimed);
  }

  private async runToEnd(held: HeldRun, claimed: ClaimedRun): Promise<void> {
    const { clock, logger, metrics } = this.options;
    const { runId, agentId } = held;
    let outcome = await this.callRunner(held, claimed);
    if (held.stopReason && outcome.status === 'cancelled') outcome = { ...outcome, output: STOP_MESSAGES[held.stopReason] };
    const completedAt = clock.now();
    try {
      // The transcript is whole before the run ends: a stream that sees the run ended has every event.
      await held.events?.close(closingEvents(outcome, completedAt));
      const written = await this.recordOutcome(runId, outcome, completedAt);
      if (written) logger.info({ runId, agentId, status: outcome.status, costUsd: outcome.costUsd }, 'run finished');
      else if (written === false) logger.warn({ runId, agentId, status: outcome.status }, 'run result refused: the run was deleted or taken over');
    } finally {
      this.held.delete(runId);
      this.runEvents.ended(runId);
      metrics?.runEnded({ trigger: claimed.run.trigger, outcome, durationMs: completedAt - (claimed.run.startedAt ?? completedAt) });
      this.wake();
    }
  }

  /**
   * The runner's outcome, read from the agent as it is now (edits made while queued count), with
   * each of the agent's secret values replaced by `[secret:NAME]` before it is stored. The run's
   * events go to its transcript writer, made once the secrets to redact are known.
   */
  private async callRunner(held: HeldRun, { run, agent, maxBudgetUsd }: ClaimedRun): Promise<RunOutcome> {
    let secrets: Record<string, string> = {};
    try {
      secrets = await this.options.secrets.forAgent(agent.id);
      held.events = this.eventWriter(run.id, secrets);
      const cwd = path.join(this.options.workspacesDir, agent.id);
      await fs.mkdir(cwd, { recursive: true });
      const runOptions = await agentRunOptions(agent, secrets, this.options.hostPaths ?? NO_HOST_PATHS);
      const outcome = await this.options.runner.run({
        runId: run.id,
        agentId: agent.id,
        prompt: agent.prompt,
        maxTurns: agent.maxTurns,
        maxBudgetUsd,
        model: agent.model,
        allowedTools: agent.allowedTools,
        ...runOptions,
        secrets,
        cwd,
        signal: held.controller.signal,
        onProgress: (usage) => {
          held.usage = usage;
          held.usageDirty = true;
          held.events?.push({ type: 'usage', ...usage });
        },
        onEvent: (event) => held.events?.push(event),
      });
      return redactOutcome(outcome, secrets);
    } catch (error) {
      // A secret that cannot be decrypted (another instance's key), a ${secret:NAME} the agent
      // lacks, or a host folder no longer allowed lands here, named in the message.
      // The runner promises not to throw; this keeps the row honest (and its usage) if it ever does.
      const output = `The run failed: ${error instanceof Error ? error.message : String(error)}`;
      held.events ??= this.eventWriter(run.id, secrets);
      return redactOutcome({ ...held.usage, status: 'error', output }, secrets);
    }
  }

  private eventWriter(runId: string, secrets: Record<string, string>): RunEventWriter {
    const { store, clock, logger, instanceId, eventLimits } = this.options;
    return new RunEventWriter({ runId, executorId: instanceId, store, bus: this.runEvents, clock, logger, secrets, limits: eventLimits });
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
        this.options.metrics?.loopFailed('recording run results');
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

  /** Renews leases, picks up cancel requests made elsewhere (the fallback to notifications), and saves usage. */
  private async heartbeat(): Promise<void> {
    const { store, clock, logger, instanceId, leaseMs } = this.options;
    const ids = [...this.held.keys()];
    const { held, cancelRequested } = await store.renewLeases(instanceId, ids, clock.now() + leaseMs);
    const heldSet = new Set(held);
    const lost = ids.filter((id) => !heldSet.has(id) && this.held.has(id));
    if (lost.length > 0) {
      logger.warn({ runIds: lost }, 'runs no longer held by this instance (deleted or taken over); stopping them');
      this.cancelLocal(lost, 'lease_lost');
    }
    this.cancelLocal(cancelRequested, 'cancel');
    for (const run of this.held.values()) {
      if (!run.usageDirty) continue;
      run.usageDirty = false;
      await store.recordUsage(run.runId, instanceId, run.usage);
    }
  }
}

/** The outcome with the agent's secret values replaced by `[secret:NAME]` in its output and its structured output. */
function redactOutcome(outcome: RunOutcome, secrets: Record<string, string>): RunOutcome {
  const redact = secretRedactor(secrets);
  const redacted: RunOutcome = { ...outcome, output: redact(outcome.output) };
  if (outcome.structuredOutput !== undefined) redacted.structuredOutput = redactJsonValue(outcome.structuredOutput, redact);
  return redacted;
}

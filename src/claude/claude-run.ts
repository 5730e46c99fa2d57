import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { inspect } from 'node:util';
import {
  query,
  type Options,
  type Query,
  type SDKMessage,
  type SDKResultMessage,
  type SpawnOptions,
  type SpawnedProcess,
} from '@anthropic-ai/claude-agent-sdk';
import { redactSecrets } from '../domain/secret-refs.js';
import { ZERO_USAGE, type RunOutcome, type RunUsage } from '../domain/types.js';
import type { AgentRunRequest } from '../engine/agent-runner.js';
import type { Logger } from '../logger.js';
import { mcpStatusNotes } from './mcp-servers.js';
import { messageEvents } from './message-events.js';
import { mapResult, type MapResultInput } from './outcome.js';
import { ProcessTree } from './process-tree.js';
import { prepareRun, runOptions, type BoundarySettings, type PreparedRun } from './run-boundary.js';
import { removeRunTmp } from './run-dirs.js';
import { UsageAccumulator, usageEquals, usageFromModelUsage } from './usage.js';

/** How every run of one ClaudeRunner behaves; claude-runner.ts fills in the defaults. */
export interface ClaudeRunSettings extends BoundarySettings {
  pathToClaudeCodeExecutable: string | null;
  interruptWaitMs: number;
  killGraceMs: number;
  settleTimeoutMs: number;
  treeSampleMs: number;
}

type ClaudeProcess = ChildProcessByStdio<Writable, Readable, Readable>;

const STDERR_TAIL = 4000;
/** How long a usage snapshot may take before it counts as unavailable. */
const SNAPSHOT_TIMEOUT_MS = 5000;

/**
 * One run of `claude` through the SDK's `query()`, from spawn to outcome. Its state lives in
 * the fields below; the methods are its phases: start, handle a message, cancel, settle, clean
 * up, and map the outcome. Used once: `complete()` runs it and never throws for a run that
 * started (a failure is an outcome).
 */
export class ClaudeRun {
  private readonly log: Logger;
  /** Aborting it makes the SDK close the query and the process. */
  private readonly abortController = new AbortController();
  private readonly tag: string;
  private readonly tree: ProcessTree;
  private readonly usage = new UsageAccumulator();
  private readonly resultSeen = latch<void>();
  private readonly cancelStarted = latch<Promise<void>>();
  private readonly snapshotTimers = new Set<NodeJS.Timeout>();
  private query: Query | null = null;
  private consumed: Promise<void> = Promise.resolve();
  private child: ClaudeProcess | null = null;
  private sampler: NodeJS.Timeout | null = null;
  private stderrTail = '';
  private result: SDKResultMessage | null = null;
  /** The result arrived before any cancel: the run ended on its own, the cancel came too late. */
  private resultBeforeCancel = false;
  private thrown: unknown = undefined;
  private cancelRequested = false;
  private cancelTask: Promise<void> | null = null;
  /** Set once clean-up begins: no more progress reports, snapshots or cancels. */
  private finished = false;
  private lastReported: RunUsage = { ...ZERO_USAGE };
  private snapshotsWork = false;
  private snapshotInFlight = false;
  private snapshotAgain = false;
  /** What the run's output is told besides the model's answer (MCP servers and domains left out). */
  private readonly notes: string[] = [];

  constructor(
    private readonly request: AgentRunRequest,
    private readonly settings: ClaudeRunSettings,
  ) {
    this.log = settings.logger;
    this.tag = `${request.runId}.${randomBytes(6).toString('hex')}`;
    this.tree = new ProcessTree(this.tag);
  }

  /** Prepares the run's boundary, runs it, and removes its temp dir. */
  async complete(): Promise<RunOutcome> {
    if (this.request.signal.aborted) return this.mapped({ result: null, cancelled: true });
    let prepared: PreparedRun | { error: string };
    try {
      prepared = await prepareRun(this.request, this.settings, this.tag);
    } catch (error) {
      // A workspace that could not be made ready (git's message), or a cancel while it was.
      return this.mapped({ result: null, thrown: error, cancelled: this.request.signal.aborted });
    }
    if ('error' in prepared) return this.mapped({ result: null, thrown: new Error(prepared.error) });
    this.notes.push(...prepared.notes);
    try {
      return await this.runPrepared(prepared);
    } finally {
      await removeRunTmp(prepared.dirs);
    }
  }

  /** Runs the query to its end (its result, a failure, or a cancel), cleans up, and maps how it ended. */
  private async runPrepared(prepared: PreparedRun): Promise<RunOutcome> {
    const { signal } = this.request;
    if (signal.aborted) return this.mapped({ result: null, cancelled: true });
    // Spawning in a missing cwd fails with a misleading "binary failed to launch" message.
    if (!isDirectory(prepared.cwd)) return this.mapped({ result: null, thrown: new Error(`Working directory does not exist: ${prepared.cwd}`) });
    try {
      this.start(prepared);
    } catch (error) {
      return this.mapped({ result: null, thrown: error });
    }
    signal.addEventListener('abort', this.onAbort, { once: true });
    if (signal.aborted) this.onAbort();
    try {
      await this.settle();
      if (this.cancelTask) await this.cancelTask;
    } finally {
      await this.cleanUp();
    }
    return this.outcome();
  }

  /** Starts the query and consumes its messages in the background. */
  private start(prepared: PreparedRun): void {
    const options: Options = { ...runOptions(this.request, prepared), abortController: this.abortController, spawnClaudeCodeProcess: this.spawnClaude };
    if (this.settings.pathToClaudeCodeExecutable) options.pathToClaudeCodeExecutable = this.settings.pathToClaudeCodeExecutable;
    const q = query({ prompt: this.request.prompt, options });
    this.query = q;
    // Live cost: an experimental control request answers with the session's cost and per-model
    // usage so far. Used opportunistically; the assistant messages' usage is the fallback.
    this.snapshotsWork = typeof q.usage_EXPERIMENTAL_MAY_CHANGE_DO_NOT_RELY_ON_THIS_API_YET === 'function';
    this.consumed = (async () => {
      try {
        for await (const message of q) this.handleMessage(message);
      } catch (error) {
        // After an error result the SDK also throws ("Claude Code returned an error result");
        // the result is what counts then.
        this.thrown = error;
      }
    })();
    this.sampler = setInterval(() => this.tree.sample(), this.settings.treeSampleMs);
    this.sampler.unref();
  }

  /** Spawns `claude` in its own session and process group: its tree can be killed without touching this service. */
  private readonly spawnClaude = (o: SpawnOptions): SpawnedProcess => {
    const proc = spawn(o.command, o.args, { cwd: o.cwd, env: o.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true, windowsHide: true });
    this.child = proc;
    if (proc.pid !== undefined) this.tree.setRoot(proc.pid);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d: string) => {
      this.stderrTail = (this.stderrTail + d).slice(-STDERR_TAIL);
    });
    proc.on('error', (err) => this.log.warn({ runId: this.request.runId, err }, 'claude process error'));
    // The SDK aborts this signal after its own graceful close; make sure the whole tree goes too.
    o.signal?.addEventListener('abort', () => void this.tree.terminate(this.settings.killGraceMs), { once: true });
    return proc;
  };

  private handleMessage(m: SDKMessage): void {
    this.reportEvents(m);
    switch (m.type) {
      case 'assistant':
        this.usage.onAssistant(m);
        this.reportProgress();
        this.snapshotUsage();
        break;
      case 'user':
        this.snapshotUsage();
        break;
      case 'system':
        if (m.subtype === 'init') this.notes.push(...mcpStatusNotes(m.mcp_servers));
        break;
      case 'result':
        this.result = m;
        if (!this.cancelRequested) this.resultBeforeCancel = true;
        this.resultSeen.resolve();
        break;
      default:
        break;
    }
  }

  /** Tells the request's onEvent what the message stands for in the transcript (message-events.ts). */
  private reportEvents(m: SDKMessage): void {
    const { onEvent } = this.request;
    if (!onEvent || this.finished) return;
    try {
      for (const event of messageEvents(m)) onEvent(event);
    } catch (error) {
      this.log.warn({ runId: this.request.runId, err: error }, 'onEvent threw');
    }
  }

  /** Tells the request's onProgress about usage that changed, so a cancelled run keeps it. */
  private reportProgress(): void {
    const current = this.usage.current();
    if (this.finished || usageEquals(current, this.lastReported)) return;
    this.lastReported = current;
    try {
      this.request.onProgress?.(current);
    } catch (error) {
      this.log.warn({ runId: this.request.runId, err: error }, 'onProgress threw');
    }
  }

  /** Asks for a usage snapshot; coalesced (at most one in flight, one more after it), never awaited by the run. */
  private snapshotUsage(): void {
    const q = this.query;
    if (!q || !this.snapshotsWork || this.finished || this.cancelRequested) return;
    if (this.snapshotInFlight) {
      this.snapshotAgain = true;
      return;
    }
    this.snapshotInFlight = true;
    const asked = Promise.resolve().then(() => q.usage_EXPERIMENTAL_MAY_CHANGE_DO_NOT_RELY_ON_THIS_API_YET({ skipBehaviors: true }));
    withTimeout(asked, SNAPSHOT_TIMEOUT_MS, this.snapshotTimers)
      .then((report) => {
        const session = report?.session;
        if (!session || typeof session.total_cost_usd !== 'number') return;
        this.usage.onSnapshot(usageFromModelUsage(session.model_usage ?? {}, session.total_cost_usd, 0));
        this.reportProgress();
      })
      .catch((error: unknown) => {
        if (this.finished || this.cancelRequested || this.result !== null) return;
        this.snapshotsWork = false;
        this.log.info({ runId: this.request.runId, err: error }, 'usage snapshots unavailable; using message usage');
      })
      .finally(() => {
        this.snapshotInFlight = false;
        if (!this.snapshotAgain) return;
        this.snapshotAgain = false;
        this.snapshotUsage();
      });
  }

  private readonly onAbort = (): void => {
    if (this.cancelRequested || this.finished) return;
    this.cancelRequested = true;
    this.log.info({ runId: this.request.runId }, 'cancelling run');
    this.cancelTask = this.cancel();
    this.cancelStarted.resolve(this.cancelTask);
  };

  /**
   * `interrupt()` first: Claude Code stops the turn, kills the running tool, and emits an
   * `error_during_execution` result carrying `total_cost_usd` and the usage so far. Then abort
   * the query and kill what is left of the tree (SIGTERM, then SIGKILL after a grace).
   */
  private async cancel(): Promise<void> {
    const { interruptWaitMs, killGraceMs } = this.settings;
    this.tree.sample();
    if (this.result === null) {
      let timer: NodeJS.Timeout | undefined;
      const q = this.query;
      void Promise.resolve()
        .then(() => q?.interrupt())
        .catch((error: unknown) => this.log.info({ runId: this.request.runId, err: error }, 'interrupt failed'));
      const waited = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, interruptWaitMs);
      });
      await Promise.race([this.resultSeen.promise, this.consumed, waited]);
      clearTimeout(timer);
    }
    this.tree.sample();
    this.abortController.abort();
    await this.tree.terminate(killGraceMs);
  }

  /**
   * Waits for the message stream to end. Once a cancel has stopped the process, or a result has
   * arrived, the stream gets settleTimeoutMs more; then the run resolves anyway.
   */
  private settle(): Promise<void> {
    return new Promise<void>((resolve) => {
      let settled = false;
      let settleTimer: NodeJS.Timeout | undefined;
      const done = (): void => {
        settled = true;
        clearTimeout(settleTimer);
        resolve();
      };
      const startSettleTimer = (): void => {
        if (!settled && settleTimer === undefined) settleTimer = setTimeout(done, this.settings.settleTimeoutMs);
      };
      void this.consumed.then(done);
      void this.resultSeen.promise.then(startSettleTimer);
      void this.cancelStarted.promise.then((task) => task).then(startSettleTimer);
    });
  }

  /** Lets a normally ending `claude` exit by itself, then stops anything left behind. */
  private async cleanUp(): Promise<void> {
    const { settleTimeoutMs, killGraceMs } = this.settings;
    this.finished = true;
    if (this.sampler) clearInterval(this.sampler);
    for (const timer of this.snapshotTimers) clearTimeout(timer);
    this.request.signal.removeEventListener('abort', this.onAbort);
    const proc = this.child;
    if (proc && isAlive(proc)) await exited(proc, Math.min(settleTimeoutMs, 3000));
    if (!this.abortController.signal.aborted && proc && isAlive(proc)) this.abortController.abort();
    await this.tree.terminate(killGraceMs);
    try {
      this.query?.close();
    } catch {
      // already closed
    }
  }

  private outcome(): RunOutcome {
    const { thrown, result } = this;
    const cancelled = this.cancelRequested && !this.resultBeforeCancel;
    // The tail may start inside a line (it is cut to STDERR_TAIL): that part line is dropped.
    const stderrTail = this.redact(this.stderrTail.length >= STDERR_TAIL ? this.stderrTail.slice(this.stderrTail.indexOf('\n') + 1) : this.stderrTail);
    let thrownForMapping = thrown;
    if (thrown !== undefined && result === null && stderrTail.trim()) {
      const message = thrown instanceof Error ? thrown.message : typeof thrown === 'string' ? thrown : inspect(thrown);
      const tail = stderrTail.trim().split('\n').slice(-5).join('\n');
      if (!message.includes(tail)) thrownForMapping = new Error(`${message}\n${tail}`);
    }
    if (thrown !== undefined && result === null && !cancelled) {
      const err = this.redact(thrown instanceof Error ? (thrown.stack ?? thrown.message) : inspect(thrown));
      this.log.warn({ runId: this.request.runId, err, stderr: stderrTail }, 'claude run failed');
    }
    return this.mapped({ result, accrued: this.usage.current(), cancelled, thrown: thrownForMapping });
  }

  /** The outcome of how the query ended, with the run's notes added and the agent's secrets redacted. */
  private mapped(input: MapResultInput): RunOutcome {
    const { maxTurns, maxBudgetUsd, outputSchema } = this.request;
    const outcome = mapResult({ ...input, maxTurns, maxBudgetUsd, outputSchema });
    const notes = outcome.status === 'cancelled' ? [] : this.notes;
    const output = notes.length > 0 ? `${outcome.output}\n\n${notes.join('\n')}` : outcome.output;
    return { ...outcome, output: this.redact(output) };
  }

  private redact(text: string): string {
    return redactSecrets(text, this.request.secrets);
  }
}

/** A promise and its resolver, for events awaited in several places. */
function latch<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve: (value) => resolve(value) };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isAlive(proc: ClaudeProcess): boolean {
  return proc.exitCode === null && proc.signalCode === null;
}

/** Resolves when the process exits, or after `ms`. */
function exited(proc: ClaudeProcess, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      proc.off('exit', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    proc.once('exit', done);
  });
}

/** Rejects after `ms`; the timer is registered in `timers` so the caller can clear it early. */
function withTimeout<T>(p: Promise<T>, ms: number, timers: Set<NodeJS.Timeout>): Promise<T> {
  let expire = (): void => {};
  const timedOut = new Promise<never>((_, reject) => {
    expire = () => reject(new Error('timed out'));
  });
  const timer = setTimeout(() => {
    timers.delete(timer);
    expire();
  }, ms);
  timers.add(timer);
  return Promise.race([p, timedOut]).finally(() => {
    clearTimeout(timer);
    timers.delete(timer);
  });
}

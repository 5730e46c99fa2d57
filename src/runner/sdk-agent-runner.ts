import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import {
  query,
  type Options,
  type Query,
  type SDKAssistantMessage,
  type SDKMessage,
  type SDKResultMessage,
  type SpawnOptions,
  type SpawnedProcess,
} from '@anthropic-ai/claude-agent-sdk';
import type { RunOutcome, RunUsage } from '../domain/types.js';
import { ZERO_USAGE } from '../domain/types.js';
import type { AgentRunner, AgentRunRequest } from './agent-runner.js';
import { killRunProcesses, ProcessTree, RUN_TAG_ENV } from './process-tree.js';
import { mapResult, maxUsage, usageEquals, usageFromApiUsage, usageFromModelUsage } from './map-sdk-result.js';

export interface RunnerLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export interface SdkAgentRunnerOptions {
  /**
   * Variables merged over `process.env` (read at each run) for the `claude` process; a value of
   * `undefined` removes the variable. ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY pass through as is.
   */
  env?: Record<string, string | undefined>;
  logger?: RunnerLogger;
  /** The `claude` executable; defaults to the one bundled with the SDK. */
  pathToClaudeCodeExecutable?: string;
  /** On cancel: how long to wait for the result that `interrupt()` produces (it carries the cost). */
  interruptWaitMs?: number;
  /** SIGTERM to SIGKILL grace when stopping the process tree. */
  killGraceMs?: number;
  /** After a cancel or a result, how long the SDK stream may take to end before the run resolves anyway. */
  settleTimeoutMs?: number;
  /** How often the process tree of a running `claude` is sampled (so reparented children are known). */
  treeSampleMs?: number;
}

const NOOP_LOGGER: RunnerLogger = { info() {}, warn() {}, error() {} };
const STDERR_TAIL = 4000;


/**
 * Runs an agent through the Claude Agent SDK `query()`.
 *
 * Process model: `claude` is spawned (through `spawnClaudeCodeProcess`) in its own session and
 * process group. Its Bash tool runs every command in yet another session (`setsid`), so killing
 * the `claude` group is not enough: the runner samples the process tree while `claude` runs and
 * kills every process that descends from it, shares a session / group with a descendant, or
 * carries the run's tag (RUN_TAG_ENV) in its environment (catches orphans such as `nohup x &`).
 * This runs on cancel and also after a normal end, so no run leaves a process behind.
 *
 * Cancel: `interrupt()` first (Claude Code stops the turn, kills the running tool, and emits an
 * `error_during_execution` result that carries `total_cost_usd` and the usage so far), then abort
 * the query and kill the remaining tree (SIGTERM, then SIGKILL after a grace).
 */
export class SdkAgentRunner implements AgentRunner {
  private readonly logger: RunnerLogger;

  constructor(private readonly options: SdkAgentRunnerOptions = {}) {
    this.logger = options.logger ?? NOOP_LOGGER;
  }

  stopAbandoned(runIds: readonly string[]): Promise<number> {
    return killRunProcesses(runIds, this.options.killGraceMs ?? 1500);
  }

  async run(request: AgentRunRequest): Promise<RunOutcome> {
    try {
      return await this.execute(request);
    } catch (e) {
      // Not expected: execute() handles SDK failures itself. Still never throw.
      this.logger.error({ runId: request.runId, err: e }, 'agent runner failed');
      return mapResult({ result: null, thrown: e, cancelled: request.signal.aborted });
    }
  }

  private env(): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = { ...process.env };
    for (const [k, v] of Object.entries(this.options.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return env;
  }

  private async execute(request: AgentRunRequest): Promise<RunOutcome> {
    const { runId, signal } = request;
    const limits = { maxTurns: request.maxTurns, maxBudgetUsd: request.maxBudgetUsd };
    if (signal.aborted) return mapResult({ result: null, cancelled: true, ...limits });
    if (!isDirectory(request.cwd)) {
      // Spawning in a missing cwd fails with a misleading "binary failed to launch" message.
      return mapResult({ result: null, thrown: new Error(`Working directory does not exist: ${request.cwd}`), ...limits });
    }

    const interruptWaitMs = this.options.interruptWaitMs ?? 2000;
    const killGraceMs = this.options.killGraceMs ?? 1500;
    const settleTimeoutMs = this.options.settleTimeoutMs ?? 5000;
    const log = this.logger;

    const abortController = new AbortController();
    const tag = `${runId}.${randomBytes(6).toString('hex')}`;
    const tree = new ProcessTree(tag);
    const usage = new UsageAccumulator();
    let child: ChildProcessByStdio<Writable, Readable, Readable> | null = null;
    let stderrTail = '';
    let result: SDKResultMessage | null = null;
    let resultBeforeCancel = false;
    let thrown: unknown;
    let cancelRequested = false;
    let finished = false;
    let lastReported: RunUsage = { ...ZERO_USAGE };

    const report = (): void => {
      const current = usage.current();
      if (finished || usageEquals(current, lastReported)) return;
      lastReported = current;
      try {
        request.onProgress?.(current);
      } catch (e) {
        log.warn({ runId, err: e }, 'onProgress threw');
      }
    };

    const spawnClaude = (o: SpawnOptions): SpawnedProcess => {
      const proc = spawn(o.command, o.args, {
        cwd: o.cwd,
        env: o.env,
        stdio: ['pipe', 'pipe', 'pipe'],
        // Own session and process group: the tree can be killed without touching this service.
        detached: true,
        windowsHide: true,
      });
      child = proc;
      if (proc.pid !== undefined) tree.setRoot(proc.pid);
      proc.stderr.setEncoding('utf8');
      proc.stderr.on('data', (d: string) => {
        stderrTail = (stderrTail + d).slice(-STDERR_TAIL);
      });
      proc.on('error', (err) => log.warn({ runId, err }, 'claude process error'));
      // The SDK aborts this signal after its own graceful close; make sure the whole tree goes too.
      o.signal?.addEventListener('abort', () => void tree.terminate(killGraceMs), { once: true });
      return proc;
    };

    const options: Options = {
      abortController,
      cwd: request.cwd,
      env: { ...this.env(), [RUN_TAG_ENV]: tag },
      maxTurns: request.maxTurns,
      permissionMode: 'dontAsk',
      allowedTools: [...request.allowedTools],
      settingSources: [],
      persistSession: false,
      // A title given up front saves the title-generation API call Claude Code makes otherwise.
      title: `cron-agents run ${runId}`,
      spawnClaudeCodeProcess: spawnClaude,
    };
    if (request.maxBudgetUsd !== null) options.maxBudgetUsd = request.maxBudgetUsd;
    if (request.model !== null) options.model = request.model;
    if (this.options.pathToClaudeCodeExecutable) options.pathToClaudeCodeExecutable = this.options.pathToClaudeCodeExecutable;

    let q: Query;
    try {
      q = query({ prompt: request.prompt, options });
    } catch (e) {
      return mapResult({ result: null, thrown: e, ...limits });
    }

    // Live cost: an experimental control request answers with the session's cost and per-model
    // usage so far. Used opportunistically (coalesced, never awaited by the run); the assistant
    // messages' usage is the fallback.
    const timers = new Set<NodeJS.Timeout>();
    let snapshotInFlight = false;
    let snapshotAgain = false;
    let snapshotsWork = typeof q.usage_EXPERIMENTAL_MAY_CHANGE_DO_NOT_RELY_ON_THIS_API_YET === 'function';
    const snapshotUsage = (): void => {
      if (!snapshotsWork || finished || cancelRequested) return;
      if (snapshotInFlight) {
        snapshotAgain = true;
        return;
      }
      snapshotInFlight = true;
      withTimeout(Promise.resolve().then(() => q.usage_EXPERIMENTAL_MAY_CHANGE_DO_NOT_RELY_ON_THIS_API_YET({ skipBehaviors: true })), 5000, timers)
        .then((r) => {
          const session = r?.session;
          if (!session || typeof session.total_cost_usd !== 'number') return;
          usage.onSnapshot(usageFromModelUsage(session.model_usage ?? {}, session.total_cost_usd, 0));
          report();
        })
        .catch((e: unknown) => {
          if (!finished && !cancelRequested && result === null) {
            snapshotsWork = false;
            log.info({ runId, err: e }, 'usage snapshots unavailable; using message usage');
          }
        })
        .finally(() => {
          snapshotInFlight = false;
          if (snapshotAgain) {
            snapshotAgain = false;
            snapshotUsage();
          }
        });
    };

    let onResult: () => void = () => {};
    const resultSeen = new Promise<void>((resolve) => {
      onResult = resolve;
    });
    let onCancelStarted: (task: Promise<void>) => void = () => {};
    const cancelStarted = new Promise<Promise<void>>((resolve) => {
      onCancelStarted = resolve;
    });

    const handle = (m: SDKMessage): void => {
      switch (m.type) {
        case 'assistant':
          usage.onAssistant(m);
          report();
          snapshotUsage();
          break;
        case 'user':
          snapshotUsage();
          break;
        case 'result':
          result = m;
          if (!cancelRequested) resultBeforeCancel = true;
          onResult();
          break;
        default:
          break;
      }
    };

    const consumed = (async () => {
      try {
        for await (const m of q) handle(m);
      } catch (e) {
        // After an error result the SDK also throws ("Claude Code returned an error result");
        // the result is what counts then.
        thrown = e;
      }
    })();

    // Cancel: interrupt (gets a result with the cost), then abort and kill the tree.
    let cancelTask: Promise<void> | null = null;
    const cancel = async (): Promise<void> => {
      tree.sample();
      if (result === null) {
        let timer: NodeJS.Timeout | undefined;
        const interrupted = Promise.resolve()
          .then(() => q.interrupt())
          .catch((e: unknown) => log.info({ runId, err: e }, 'interrupt failed'));
        await Promise.race([
          resultSeen,
          consumed,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, interruptWaitMs);
          }),
        ]);
        clearTimeout(timer);
        void interrupted;
      }
      tree.sample();
      abortController.abort();
      await tree.terminate(killGraceMs);
    };
    const onAbort = (): void => {
      if (cancelRequested || finished) return;
      cancelRequested = true;
      log.info({ runId }, 'cancelling run');
      cancelTask = cancel();
      onCancelStarted(cancelTask);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();

    const sampler = setInterval(() => tree.sample(), this.options.treeSampleMs ?? 1000);
    sampler.unref();

    try {
      // Wait for the stream to end. Once a cancel has stopped the process, or a result has
      // arrived, the stream gets settleTimeoutMs more; then the run resolves anyway.
      await new Promise<void>((resolve) => {
        let settled = false;
        let settleTimer: NodeJS.Timeout | undefined;
        const done = (): void => {
          settled = true;
          clearTimeout(settleTimer);
          resolve();
        };
        const startSettle = (): void => {
          if (!settled && settleTimer === undefined) settleTimer = setTimeout(done, settleTimeoutMs);
        };
        void consumed.then(done);
        void resultSeen.then(startSettle);
        void cancelStarted.then((task) => task).then(startSettle);
      });
      if (cancelTask) await cancelTask;
    } finally {
      finished = true;
      clearInterval(sampler);
      for (const t of timers) clearTimeout(t);
      signal.removeEventListener('abort', onAbort);
      // Let a normally ending `claude` exit by itself, then stop anything left behind.
      const proc = child as ChildProcessByStdio<Writable, Readable, Readable> | null;
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            proc.off('exit', done);
            resolve();
          };
          const timer = setTimeout(done, Math.min(settleTimeoutMs, 3000));
          proc.once('exit', done);
        });
      }
      if (!abortController.signal.aborted && proc && proc.exitCode === null && proc.signalCode === null) {
        abortController.abort();
      }
      await tree.terminate(killGraceMs);
      try {
        q.close();
      } catch {
        // already closed
      }
    }

    const cancelled = cancelRequested && !resultBeforeCancel;
    let thrownForMapping = thrown;
    if (thrown !== undefined && result === null && stderrTail.trim()) {
      const msg = thrown instanceof Error ? thrown.message : String(thrown);
      const tail = stderrTail.trim().split('\n').slice(-5).join('\n');
      if (!msg.includes(tail)) thrownForMapping = new Error(`${msg}\n${tail}`);
    }
    if (thrown !== undefined && result === null && !cancelled) log.warn({ runId, err: thrown, stderr: stderrTail }, 'claude run failed');
    return mapResult({ result, accrued: usage.current(), cancelled, thrown: thrownForMapping, ...limits });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Usage accrued while a query runs. */
class UsageAccumulator {
  /** Latest usage per API response (several assistant messages can share one message id). */
  private readonly perMessage = new Map<string, RunUsage>();
  private readonly mainTurns = new Set<string>();
  private snapshot: RunUsage = { ...ZERO_USAGE };

  onAssistant(m: SDKAssistantMessage): void {
    const id = m.message?.id ?? m.uuid;
    const u = usageFromApiUsage(m.message?.usage);
    const prev = this.perMessage.get(id);
    this.perMessage.set(id, prev ? maxUsage(prev, u) : u);
    // A synthetic message standing for an API error (m.error set) is not a model turn.
    if (m.parent_tool_use_id === null && m.message?.id && !m.error) this.mainTurns.add(m.message.id);
  }

  onSnapshot(u: RunUsage): void {
    this.snapshot = maxUsage(this.snapshot, u);
  }

  current(): RunUsage {
    const sum: RunUsage = { ...ZERO_USAGE, numTurns: this.mainTurns.size };
    for (const u of this.perMessage.values()) {
      sum.inputTokens += u.inputTokens;
      sum.outputTokens += u.outputTokens;
      sum.cacheReadInputTokens += u.cacheReadInputTokens;
      sum.cacheCreationInputTokens += u.cacheCreationInputTokens;
    }
    return maxUsage(sum, { ...this.snapshot, numTurns: 0 });
  }
}

/** Rejects after `ms`; the timer is registered in `timers` so the caller can clear it early. */
function withTimeout<T>(p: Promise<T>, ms: number, timers: Set<NodeJS.Timeout>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      reject(new Error('timed out'));
    }, ms);
    timers.add(timer);
    const clear = (): void => {
      clearTimeout(timer);
      timers.delete(timer);
    };
    p.then(
      (v) => {
        clear();
        resolve(v);
      },
      (e: unknown) => {
        clear();
        reject(e);
      },
    );
  });
}

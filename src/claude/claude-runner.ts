/**
 * claude/: HOW a run executes on the Claude Agent SDK; the engine sees only the AgentRunner.
 *   claude-runner.ts  the AgentRunner: one ClaudeRun per run, and stopping what dead runs left
 *   claude-run.ts     one run as an object: start, handle messages, cancel, settle, clean up
 *   environment.ts    what the `claude` process is given (its environment, the service defaults)
 *   process-tree.ts   every process a run started, found and killed (cancel, end, crash)
 *   usage.ts          tokens and cost, from messages, snapshots and the result
 *   outcome.ts        how a query ended -> the run's status, output and usage (mapResult)
 */
import type { RunOutcome } from '../domain/types.js';
import type { AgentRunRequest, AgentRunner } from '../engine/agent-runner.js';
import { silentLogger, type Logger } from '../logger.js';
import { ClaudeRun, type ClaudeRunSettings } from './claude-run.js';
import type { EnvOverrides } from './environment.js';
import { mapResult } from './outcome.js';
import { killRunProcesses } from './process-tree.js';

export interface ClaudeRunnerOptions {
  /**
   * Variables merged over `process.env` (read at each run) for the `claude` process; a value of
   * `undefined` removes the variable. ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY pass through as is.
   */
  env?: EnvOverrides;
  logger?: Logger;
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

/**
 * Runs an agent through the Claude Agent SDK `query()`, one ClaudeRun per run.
 *
 * Process model: `claude` is spawned in its own session and process group. Its Bash tool runs
 * every command in yet another session (`setsid`), so killing the `claude` group is not enough:
 * the run samples the process tree while `claude` runs and kills every process that descends
 * from it, shares a session / group with a descendant, or carries the run's tag (RUN_TAG_ENV)
 * in its environment (catches orphans such as `nohup x &`). This happens on cancel and also
 * after a normal end, so no run leaves a process behind.
 */
export class ClaudeRunner implements AgentRunner {
  private readonly settings: ClaudeRunSettings;

  constructor(options: ClaudeRunnerOptions = {}) {
    this.settings = {
      env: options.env ?? {},
      logger: options.logger ?? silentLogger,
      pathToClaudeCodeExecutable: options.pathToClaudeCodeExecutable ?? null,
      interruptWaitMs: options.interruptWaitMs ?? 2000,
      killGraceMs: options.killGraceMs ?? 1500,
      settleTimeoutMs: options.settleTimeoutMs ?? 5000,
      treeSampleMs: options.treeSampleMs ?? 1000,
    };
  }

  stopAbandoned(runIds: readonly string[]): Promise<number> {
    return killRunProcesses(runIds, this.settings.killGraceMs);
  }

  async run(request: AgentRunRequest): Promise<RunOutcome> {
    try {
      return await new ClaudeRun(request, this.settings).complete();
    } catch (error) {
      // Not expected: a ClaudeRun maps SDK failures itself. Still never throw.
      this.settings.logger.error({ runId: request.runId, err: error }, 'agent runner failed');
      return mapResult({ result: null, thrown: error, cancelled: request.signal.aborted });
    }
  }
}

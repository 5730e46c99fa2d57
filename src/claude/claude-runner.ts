/**
 * claude/: HOW a run executes on the Claude Agent SDK; the engine sees only the AgentRunner.
 *   claude-runner.ts  the AgentRunner: one ClaudeRun per run, and stopping what dead runs left
 *   claude-run.ts     one run as an object: start, handle messages, cancel, settle, clean up
 *   run-boundary.ts   what a run may reach, as SDK options: environment, sandbox, hooks, MCP servers
 *   environment.ts    the allow-listed environment of the `claude` process
 *   run-dirs.ts       each agent's home and config dir, each run's temp dir
 *   sandbox.ts        the sandbox (bubblewrap) and file-tool settings, and its dependency check
 *   network-guard.ts  no private addresses for WebFetch, MCP servers and allowedDomains
 *   mcp-servers.ts    the agent's MCP servers as the SDK takes them
 *   workspace.ts      where a run works: the agent's folder, a git checkout, a host folder
 *   process-tree.ts   every process a run started, found and killed (cancel, end, crash)
 *   usage.ts          tokens and cost, from messages, snapshots and the result
 *   outcome.ts        how a query ended -> the run's status, output and usage (mapResult)
 *   message-events.ts what an SDK message stands for in the run's transcript
 */
import { fileURLToPath } from 'node:url';
import type { RunOutcome } from '../domain/types.js';
import type { AgentRunRequest, AgentRunner } from '../engine/agent-runner.js';
import { silentLogger, type Logger } from '../logger.js';
import { ClaudeRun, type ClaudeRunSettings } from './claude-run.js';
import type { EnvOverrides } from './environment.js';
import type { Lookup } from './network-guard.js';
import { mapResult } from './outcome.js';
import { killRunProcesses } from './process-tree.js';
import type { SandboxMode } from './sandbox.js';

export interface ClaudeRunnerOptions {
  /** Each agent's home and Claude Code config dir live in `<agentsDir>/<agentId>/` (the app: `<data dir>/agents`). */
  agentsDir: string;
  /**
   * Variables the service sets for the `claude` process over the allow-listed part of its
   * environment (environment.ts); a value of `undefined` removes the variable.
   */
  env?: EnvOverrides;
  /** The environment the allow-list picks from, read at each run; defaults to `process.env`. */
  baseEnv?: () => Readonly<Record<string, string | undefined>>;
  /** CRON_AGENTS_SANDBOX; defaults to `required`. */
  sandbox?: SandboxMode;
  /** CRON_AGENTS_RUN_ENV: further names of the service's environment passed on to runs. */
  runEnv?: readonly string[];
  /** CRON_AGENTS_RUN_ALLOW_PRIVATE: runs may reach private and loopback addresses. */
  allowPrivateAddresses?: boolean;
  /** Folders no run may read even inside a system folder (the data dir); the install folder is added. */
  protectedPaths?: readonly string[];
  /** Resolves host names for the private-address checks; defaults to the system's resolver. */
  lookup?: Lookup;
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

/** The service's install folder (this file is <install>/{src,dist}/claude/claude-runner.*). */
const INSTALL_DIR = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

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

  constructor(options: ClaudeRunnerOptions) {
    this.settings = {
      agentsDir: options.agentsDir,
      env: options.env ?? {},
      baseEnv: options.baseEnv ?? (() => process.env),
      sandbox: options.sandbox ?? 'required',
      runEnv: options.runEnv ?? [],
      allowPrivateAddresses: options.allowPrivateAddresses ?? false,
      protectedPaths: [...(options.protectedPaths ?? []), INSTALL_DIR],
      lookup: options.lookup,
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

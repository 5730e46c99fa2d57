import type { RunOutcome, RunUsage } from '../domain/types.js';

/** What one execution of an agent needs. Read from the agent row when the run starts. */
export interface AgentRunRequest {
  runId: string;
  prompt: string;
  maxTurns: number;
  maxBudgetUsd: number | null;
  model: string | null;
  /** Claude Code permission rules that are allowed without asking (e.g. `Read`, `Bash(git log:*)`). */
  allowedTools: string[];
  /** The agent's own working directory; exists before the call. */
  cwd: string;
  /** Aborted to cancel the run (cancel, delete, shutdown). The runner must stop the whole process tree. */
  signal: AbortSignal;
  /** Called whenever the usage so far changes, so a cancelled run keeps what it had accrued. */
  onProgress?: (usage: RunUsage) => void;
}

/**
 * Runs one agent to its end. Never throws: every failure (a thrown SDK error, an API error, an
 * abort) comes back as an outcome, because a failed run is data, not an exception.
 */
export interface AgentRunner {
  run(request: AgentRunRequest): Promise<RunOutcome>;
  /**
   * Stops whatever is left on this machine of runs whose executor died (their `claude`
   * processes outlive a kill -9 of the service). Best effort; returns how many processes it stopped.
   */
  stopAbandoned?(runIds: readonly string[]): Promise<number>;
}

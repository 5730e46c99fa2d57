import type { OutputSchema } from '../domain/output-schema.js';
import type { RunEventInput } from '../domain/run-events.js';
import type { Effort, McpServerSpec, RunOutcome, RunUsage, WorkspaceSpec } from '../domain/types.js';

/** What one execution of an agent needs. Read from the agent row when the run starts. */
export interface AgentRunRequest {
  runId: string;
  agentId: string;
  prompt: string;
  maxTurns: number;
  maxBudgetUsd: number | null;
  model: string | null;
  /** Claude Code permission rules that are allowed without asking (e.g. `Read`, `Bash(git log:*)`). */
  allowedTools: string[];
  /** Permission rules removed from the run altogether (the SDK's `disallowedTools`). */
  disallowedTools: string[];
  /** Hosts tool commands may reach through the sandbox's network proxy (none by default). */
  allowedDomains: string[];
  /** Appended to Claude Code's own system prompt. */
  systemPrompt: string | null;
  effort: Effort | null;
  fallbackModel: string | null;
  /** The agent's MCP servers, `${secret:NAME}` already resolved. */
  mcpServers: Record<string, McpServerSpec>;
  /**
   * The agent's secrets, decrypted for this run only: environment variables of the run (and of
   * its tool commands). Their values must never reach a log line or the stored output.
   */
  secrets: Record<string, string>;
  /** Where the run works, `${secret:NAME}` already resolved; null: `cwd` as it is. */
  workspace: WorkspaceSpec | null;
  /** The agent's own folder under the data dir; exists before the call. */
  cwd: string;
  /** Aborted to cancel the run (cancel, delete, shutdown). The runner must stop the whole process tree. */
  signal: AbortSignal;
  /**
   * The JSON Schema the answer must satisfy (the SDK's `outputFormat`); absent or null: free
   * text. An answer that does not satisfy it ends the run as `error`; one that does is the
   * outcome's `structuredOutput`.
   */
  outputSchema?: OutputSchema | null;
  /** Called whenever the usage so far changes, so a cancelled run keeps what it had accrued. */
  onProgress?: (usage: RunUsage) => void;
  /**
   * Called with each event of the run's transcript as it happens (src/domain/run-events.ts), in
   * order; usage and the result are not reported here (the executor makes them from onProgress
   * and the outcome). Synchronous and cheap: the executor numbers, redacts and batches them.
   */
  onEvent?: (event: RunEventInput) => void;
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

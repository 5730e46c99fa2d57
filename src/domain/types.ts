/**
 * Glossary
 *
 * - agent: a registered, scheduled Claude task (prompt + cron schedule + limits).
 * - slot: one instant at which an agent's cron expression fires (in the agent's timezone).
 * - tick: the event of a slot coming due; claiming a tick advances the agent's `nextFireAt`
 *   from that slot to the following one, exactly once across all instances.
 * - run: one execution of an agent, recorded from the moment it is queued until it ends.
 * - trigger: what created a run: the schedule (a tick), a person/program (manual), or a retry of a
 *   run that ended as `error` (the agent's maxRetries).
 * - skipped run: a scheduled slot (or a run that was about to start) that did not run, recorded
 *   with why: overlap with a run in progress, a spend cap used up, or missed while the service was
 *   down. Skips with one cause are one row: its `skippedSlots` counts them.
 * - spend cap: a most-USD per UTC day or month, per agent or for the deployment; a run reserves
 *   its share of what is left in the transaction that starts it (budgets.ts in the store).
 * - overlap policy: what a slot does when the agent's previous run is still going (skip, queue,
 *   allow, replace; Temporal's schedule overlap policies).
 * - executor: the service instance that runs a claimed run's `claude` process.
 * - lease: the executor's claim on a run, renewed while it executes; an expired lease means the
 *   executor died, and any instance may end the run as an error.
 * - secret: a named value of one agent, stored encrypted (secret-cipher.ts), given to its runs as
 *   an environment variable and never shown again; `[secret:NAME]` stands for it in what a run
 *   leaves, `${secret:NAME}` refers to it in the agent's settings (secret-refs.ts).
 * - transcript: the events of one run (tool calls, results, text, usage...), in order, recorded
 *   as they happen (run-events.ts).
 * - webhook, event, delivery: notifications of what happened, written to an outbox with their
 *   cause and sent to receivers (webhook-events.ts has their glossary).
 *
 * All instants are epoch milliseconds (UTC) in the domain and the store; the API renders them as
 * ISO-8601 strings.
 */
import type { OutputSchema } from './output-schema.js';

/**
 * Run statuses. `queued` extends the spec's list: a run waiting for a free execution slot.
 * `skipped` too: a run that did not start (overlap, a spend cap, downtime); it is not a finished
 * run for successRate and avgDurationMs, nor counted in totalRuns/runsInPeriod.
 */
export const RUN_STATUSES = ['queued', 'running', 'success', 'error', 'budget_exceeded', 'cancelled', 'skipped'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses of a run that has not ended yet. */
export const ACTIVE_RUN_STATUSES = ['queued', 'running'] as const satisfies readonly RunStatus[];

/** Statuses a finished run can have. */
export type FinalRunStatus = Exclude<RunStatus, 'queued' | 'running'>;

export const RUN_TRIGGERS = ['schedule', 'manual', 'retry'] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

export const ROLES = ['admin', 'member', 'viewer'] as const;
/** viewer: read only; member: manages agents and runs; admin: also users and tokens. */
export type Role = (typeof ROLES)[number];

/** Time windows accepted by the runs and stats endpoints. */
export const PERIODS = ['24h', '7d', '30d'] as const;
export type Period = (typeof PERIODS)[number];

export const PERIOD_MS: Record<Period, number> = {
  '24h': 24 * 3600_000,
  '7d': 7 * 24 * 3600_000,
  '30d': 30 * 24 * 3600_000,
};

/** A user of the service, as other records refer to it. */
export interface UserRef {
  id: string;
  name: string;
}

export interface User extends UserRef {
  role: Role;
  createdAt: number;
}

/** What a slot does while the agent's previous run is still queued or running (Temporal's overlap policies). */
export const OVERLAP_POLICIES = ['skip', 'queue', 'allow', 'replace'] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** A registered agent, as stored. */
export interface Agent extends AgentFields {
  id: string;
  /** Why the service disabled the agent (pauseAfterFailures); null when it did not, or once it is enabled again. */
  pausedReason: string | null;
  pausedAt: number | null;
  /** The next slot the scheduler will fire; null while disabled. */
  nextFireAt: number | null;
  lastRunAt: number | null;
  lastStatus: RunStatus | null;
  creator: UserRef | null;
  createdAt: number;
  updatedAt: number;
}

/** The fields a person sets on an agent (create and update). */
export interface AgentFields {
  name: string;
  description: string | null;
  schedule: string;
  timezone: string;
  prompt: string;
  enabled: boolean;
  maxTurns: number;
  maxBudgetUsd: number | null;
  model: string | null;
  allowedTools: string[];
  /** Permission rules removed from every run (the SDK's `disallowedTools`). */
  disallowedTools: string[];
  /** MCP servers by name (`mcp__<name>__<tool>` in allowedTools). */
  mcpServers: Record<string, McpServerSpec>;
  /** Null: the agent's own folder under the data dir. */
  workspace: WorkspaceSpec | null;
  /** Hosts tool commands may reach (host names, `*.example.com`, IP addresses). */
  allowedDomains: string[];
  /** Appended to Claude Code's own system prompt. */
  systemPrompt: string | null;
  effort: Effort | null;
  /** Used when the model is overloaded; the SDK accepts a comma-separated list. */
  fallbackModel: string | null;
  /** The JSON Schema the runs' answers must satisfy (output-schema.ts); null: free text. */
  outputSchema: OutputSchema | null;
  /** Most USD the agent's runs may spend per UTC day / month; null: no cap. */
  dailyBudgetUsd: number | null;
  monthlyBudgetUsd: number | null;
  overlapPolicy: OverlapPolicy;
  /** Retries of a run that ended as `error` (0-10). */
  maxRetries: number;
  /** Wait before the first retry, doubled per attempt, at most an hour. */
  retryDelaySeconds: number;
  /** Consecutive failed runs after which the agent is disabled; null: never. */
  pauseAfterFailures: number | null;
}

/** Reasoning effort levels the Agent SDK accepts (`effort`). */
export const EFFORTS = ['low', 'medium', 'high', 'xhigh', 'max'] as const;
export type Effort = (typeof EFFORTS)[number];

/**
 * An MCP server an agent's runs may use. `${secret:NAME}` may stand in `env`, `headers`, `args`
 * and `url`; the executor resolves it from the agent's secrets just before a run.
 */
export type McpServerSpec =
  { type: 'stdio'; command: string; args?: string[]; env?: Record<string, string> } | { type: 'http' | 'sse'; url: string; headers?: Record<string, string> };

/**
 * Where an agent's runs work. Absent (null): the agent's own persistent folder under the data
 * dir. `git`: that folder, cloned from (then fetched from) a repository before each run, with
 * `ref` checked out. `hostPath`: a folder of the host under CRON_AGENTS_ALLOWED_HOST_PATHS.
 */
export type WorkspaceSpec = { git: { url: string; ref?: string; depth?: number } } | { hostPath: string; readOnly: boolean };

/** Usage and cost of a run so far, as reported by the Agent SDK. */
export interface RunUsage {
  costUsd: number;
  /** All input tokens: uncached + cache writes + cache reads. */
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  numTurns: number;
}

/** One execution of an agent. */
export interface Run extends RunUsage {
  id: string;
  agentId: string;
  status: RunStatus;
  trigger: RunTrigger;
  /** The slot that fired, for scheduled runs. */
  scheduledFor: number | null;
  output: string | null;
  queuedAt: number;
  startedAt: number | null;
  completedAt: number | null;
  durationMs: number | null;
  /** The instance executing (or that executed) the run. */
  executorId: string | null;
  leaseExpiresAt: number | null;
  /** The answer as the agent's outputSchema shapes it (parsed JSON); null for a free-text agent or a run without one. */
  structuredOutput: unknown;
  /** For a retry: the id of the first run of the chain; null otherwise. */
  retryOf: string | null;
  /** 1 for a first run, 2, 3... for its retries. */
  attempt: number;
  /** For a skipped run: how many slots it stands for, and the latest of them; null otherwise. */
  skippedSlots: number | null;
  lastSkippedFor: number | null;
  /** USD held for the run under the spend caps while it runs (0 when no cap applies). */
  reservedUsd: number;
  /** A queued retry does not start before this instant; null: at once. */
  notBefore: number | null;
  /** The agent's version (agent-versions.ts) the run ran: set when it is queued, and again when it starts; null for runs from before versions. */
  agentVersion: number | null;
}

/** How a finished run ended, written once by its executor (or by recovery). */
export interface RunOutcome extends RunUsage {
  status: FinalRunStatus;
  output: string;
  /** The answer that satisfied the agent's outputSchema, when it has one. */
  structuredOutput?: unknown;
}

export const ZERO_USAGE: Readonly<RunUsage> = Object.freeze({
  costUsd: 0,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
  numTurns: 0,
});

/** One day's bar of a stats chart (UTC day). */
export interface DailyRuns {
  date: string;
  success: number;
  error: number;
  total: number;
  costUsd: number;
}

/** Month-to-date and today's spend (UTC) against the caps that apply; null caps: none. */
export interface SpendSummary {
  todayUsd: number;
  monthUsd: number;
  dailyCapUsd: number | null;
  monthlyCapUsd: number | null;
}

export interface AgentStats {
  totalRuns: number;
  /** Skipped runs (rows, each possibly standing for several slots) in the period; not in totalRuns. */
  skippedRuns: number;
  /** The agent's spend against its own caps (not the deployment's). */
  spend: SpendSummary;
  successRate: number;
  avgDurationMs: number;
  totalCostUsd: number;
  lastRunAt: number | null;
  dailyRuns: DailyRuns[];
}

export interface GlobalStats {
  totalAgents: number;
  activeAgents: number;
  runsInPeriod: number;
  skippedRuns: number;
  /** The deployment's spend against the deployment caps (GET/PUT /api/budget). */
  spend: SpendSummary;
  successRate: number;
  totalCostUsd: number;
  runningAgentIds: string[];
  dailyRuns: DailyRuns[];
}

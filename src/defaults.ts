/** Every default of the service, in one place. The README's configuration table mirrors this. */
export const DEFAULTS = Object.freeze({
  port: 3000,
  host: '127.0.0.1',
  dataDir: './data',
  maxConcurrentRuns: 4,
  catchupWindowMs: 3600_000,
  shutdownGraceMs: 30_000,
  /** How long an executor's claim on a run lasts without renewal. */
  leaseMs: 30_000,
  /** How often an executor renews its leases and looks for cancel requests. */
  heartbeatMs: 5_000,
  /** The scheduler's safety poll: changes made by other instances are seen within this time. */
  schedulerPollMs: 1_000,
  /** The executor's poll for queued runs (it is also woken at once by local enqueues). */
  executorPollMs: 1_000,
  logLevel: 'info',
  /** CRON_AGENTS_SANDBOX: tool commands run in Claude Code's sandbox (`required`) or not (`off`). */
  sandbox: 'required',
  /** CRON_AGENTS_RUN_ALLOW_PRIVATE: whether runs may reach loopback, private and metadata addresses. */
  runAllowPrivate: false,
  /** How long preparing a git workspace (clone or fetch, then checkout) may take before the run fails. */
  gitTimeoutMs: 300_000,
});

/** Limits on what a request may carry; documented in the README. */
export const LIMITS = Object.freeze({
  nameLength: 200,
  descriptionLength: 2_000,
  promptLength: 100_000,
  modelLength: 200,
  allowedTools: 100,
  allowedToolLength: 500,
  maxTurns: 10_000,
  maxBudgetUsd: 10_000,
  bodyBytes: 1_048_576,
  runsLimitDefault: 100,
  runsLimitMax: 1_000,
  /** An agent's run options (mcpServers, workspace, allowedDomains, systemPrompt...). */
  mcpServers: 20,
  mcpCommandLength: 1_000,
  mcpArgs: 100,
  /** Entries of one server's `env` or `headers`. */
  mcpEntries: 100,
  /** One arg, env value or header value. */
  mcpValueLength: 8_000,
  urlLength: 2_000,
  allowedDomains: 100,
  /** The longest DNS name. */
  domainLength: 253,
  systemPromptLength: 100_000,
  gitRefLength: 255,
  gitDepth: 1_000_000,
  hostPathLength: 4_096,
});

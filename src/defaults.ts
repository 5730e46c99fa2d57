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
  /** CRON_AGENTS_RETENTION: runs that ended longer ago are deleted, with their events (0: kept for ever). */
  retentionMs: 90 * 86_400_000,
  /** CRON_AGENTS_AUDIT_RETENTION: audit entries older than this are deleted (never sooner than runs: at least CRON_AGENTS_RETENTION). */
  auditRetentionMs: 365 * 86_400_000,
  /** How often an instance offers to prune; the lease makes it once per period per deployment. */
  retentionIntervalMs: 3_600_000,
  /** A comment line on every open run stream, so proxies do not close it as idle. */
  streamHeartbeatMs: 15_000,
  /** How often a stream of a run executing on another instance reads the events table. */
  streamPollMs: 500,
  /** CRON_AGENTS_MAX_AGENTS_PER_USER: agents a member may have created (admins are exempt). */
  maxAgentsPerUser: 200,
  /** CRON_AGENTS_MIN_INTERVAL: the shortest time between two fires members may schedule; 0: any. */
  minIntervalMs: 0,
  /** The scheduler sums up an agent's skipped ticks in one log line at most this often. */
  skipLogIntervalMs: 60_000,
  /** CRON_AGENTS_WEBHOOK_RETRY_BASE_MS: the first wait after a failed delivery (then x6, x24, x120, x720). */
  webhookRetryBaseMs: 5_000,
  /** CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE: whether webhooks may be sent to loopback, private and metadata addresses. */
  webhookAllowPrivate: false,
  /** A delivery succeeds on a 2xx within this time. */
  webhookTimeoutMs: 10_000,
  /** The most of a receiver's answer read. */
  webhookResponseBytes: 65_536,
  /** Deliveries one instance sends at once. */
  webhookConcurrency: 8,
  /** The sender's poll for deliveries written by other instances (its own wake it at once). */
  outboxPollMs: 1_000,
  /** A sender's claim on a delivery: far longer than an attempt, so it runs out only when the sender died. */
  webhookClaimMs: 60_000,
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
  /** A daily or monthly spend cap (per agent or for the deployment). */
  spendCapUsd: 1_000_000,
  maxRetries: 10,
  /** The first retry's wait; doubled per attempt, never over this either. */
  retryDelaySeconds: 3_600,
  pauseAfterFailures: 100,
  bodyBytes: 1_048_576,
  /** Routes whose bodies are a few short fields (sign-in, users, tokens, passwords, previews) or none. */
  smallBodyBytes: 8_192,
  /** Entries of an error's `details`: a request with many wrong fields gets the first ones. */
  errorDetails: 20,
  /** A body with more values than this is validated only up to its first error (no `details` for each). */
  fullValidationNodes: 1_000,
  /** A page of GET /api/agents (when paged: `limit` or `cursor` given; without them the list is whole). */
  agentsPageDefault: 100,
  agentsPageMax: 1_000,
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
  /** An agent's outputSchema, as JSON. */
  outputSchemaBytes: 65_536,
  /** GET /api/runs/:runId/events page size. */
  runEventsLimitDefault: 500,
  runEventsLimitMax: 5_000,
  /** Run streams (SSE) one user may hold open at once, per instance. */
  streamsPerUser: 10,
  /** Webhooks in all, and the agents one may name. */
  webhooks: 100,
  webhookAgentIds: 1_000,
  /** GET /api/webhooks/:id/deliveries page size. */
  deliveriesLimitDefault: 50,
  deliveriesLimitMax: 500,
  /** GET /api/audit page size, and GET /api/agents/:id/versions. */
  auditLimitDefault: 50,
  auditLimitMax: 500,
  versionsLimitDefault: 100,
  versionsLimitMax: 1_000,
});

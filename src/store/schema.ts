import type { ColumnType } from 'kysely';
import type { AuditAction, AuditTargetType } from '../domain/audit.js';
import type { RunEventType } from '../domain/run-events.js';
import type { WebhookEventType } from '../domain/webhook-events.js';
import type { DeliveryStatus, WebhookFormat } from '../domain/webhooks.js';
import type { Effort, FinalRunStatus, OverlapPolicy, Role, RunStatus, RunTrigger } from '../domain/types.js';

/**
 * The database schema as Kysely sees it, every migration's tables together. Instants are epoch
 * milliseconds in BIGINT columns and booleans are 0/1 integers, so that SQLite and PostgreSQL read
 * and write the same values. Text columns that hold a domain union are typed as that union: only
 * the store writes them, always from a typed value, so rows need no casts when they are read.
 */
export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  agents: AgentsTable;
  runs: RunsTable;
  run_totals_hourly: RunTotalsHourlyTable;
  sessions: SessionsTable;
  sign_in_failures: SignInFailuresTable;
  agent_secrets: AgentSecretsTable;
  run_events: RunEventsTable;
  leases: LeasesTable;
  webhooks: WebhooksTable;
  outbox_events: OutboxEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  budget_settings: BudgetSettingsTable;
  spend_daily: SpendDailyTable;
  budget_alerts: BudgetAlertsTable;
  audit_log: AuditLogTable;
  agent_versions: AgentVersionsTable;
}

/** A column the database fills with its default when an insert leaves it out. */
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface UsersTable {
  id: string;
  name: string;
  role: Role;
  password_hash: string | null;
  created_at: number;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  label: string;
  token_hash: string;
  /** The first characters of the token, shown in listings so a person can tell tokens apart. */
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** 1 for a token registered from CRON_AGENTS_ADMIN_TOKEN (migration 0007): a changed variable revokes it. */
  from_env: Defaulted<number>;
}

export interface AgentsTable {
  id: string;
  name: string;
  description: string | null;
  schedule: string;
  timezone: string;
  prompt: string;
  enabled: number;
  max_turns: number;
  max_budget_usd: number | null;
  model: string | null;
  /** JSON array of Claude Code permission rules. */
  allowed_tools: string;
  /** The run options (migration 0005); the JSON ones as text: arrays, an object of MCP servers, a workspace or null. */
  disallowed_tools: string;
  mcp_servers: string;
  workspace: string | null;
  allowed_domains: string;
  system_prompt: string | null;
  effort: Effort | null;
  fallback_model: string | null;
  /** The agent's outputSchema as JSON text (migration 0006); null: free text. */
  output_schema: string | null;
  /** Caps, policies and the automatic pause (migration 0011). */
  daily_budget_usd: Defaulted<number | null>;
  monthly_budget_usd: Defaulted<number | null>;
  overlap_policy: Defaulted<OverlapPolicy>;
  max_retries: Defaulted<number>;
  retry_delay_seconds: Defaulted<number>;
  pause_after_failures: Defaulted<number | null>;
  paused_reason: Defaulted<string | null>;
  paused_at: Defaulted<number | null>;
  /** The agent's current version (migration 0012; sql/agent-versions.ts). */
  version: Defaulted<number>;
  next_fire_at: number | null;
  creator_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface RunsTable {
  id: string;
  agent_id: string;
  status: RunStatus;
  trigger: RunTrigger;
  scheduled_for: number | null;
  output: string | null;
  cost_usd: Defaulted<number>;
  input_tokens: Defaulted<number>;
  output_tokens: Defaulted<number>;
  cache_read_input_tokens: Defaulted<number>;
  cache_creation_input_tokens: Defaulted<number>;
  num_turns: Defaulted<number>;
  queued_at: number;
  started_at: number | null;
  completed_at: number | null;
  duration_ms: number | null;
  executor_id: string | null;
  lease_expires_at: number | null;
  cancel_requested: Defaulted<number>;
  /** The run's structured output as JSON text (migration 0006); null when it has none. */
  structured_output: Defaulted<string | null>;
  /** Retries (migration 0011): the chain's first run, the attempt number, the earliest start. */
  retry_of: Defaulted<string | null>;
  attempt: Defaulted<number>;
  not_before: Defaulted<number | null>;
  /** Skipped rows (migration 0011): slots it stands for, the latest of them, and the cause that coalesces them. */
  skipped_slots: Defaulted<number | null>;
  last_skipped_for: Defaulted<number | null>;
  skip_cause: Defaulted<string | null>;
  /** USD held under the spend caps while the run runs (migration 0011). */
  reserved_usd: Defaulted<number>;
  /** The agent's version the run ran, or would have (migration 0012); null for runs from before it. */
  agent_version: Defaulted<number | null>;
}

/** The hourly totals ledger (sql/run-totals.ts): finished runs of all agents per hour (epoch hours) and status. */
export interface RunTotalsHourlyTable {
  hour: number;
  status: FinalRunStatus;
  runs: number;
  cost_usd: number;
  duration_ms: number;
}

/** Dashboard sessions, stored as the SHA-256 of the id the browser holds. */
export interface SessionsTable {
  id_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

export interface SignInFailuresTable {
  id: string;
  /** `name:<user name>` or `ip:<address>`. */
  subject: string;
  failed_at: number;
}

/** A run's transcript, one row per event (migration 0006; sql/run-events.ts): `data` is the whole event as JSON. */
export interface RunEventsTable {
  run_id: string;
  seq: number;
  type: RunEventType;
  at: number;
  data: string;
}

/** Per-agent secrets; the value only ever encrypted (src/domain/secret-cipher.ts). */
export interface AgentSecretsTable {
  agent_id: string;
  name: string;
  encrypted_value: string;
  updated_at: number;
}

/** Named leases of periodic tasks done once per deployment (migration 0009; sql/retention.ts). */
export interface LeasesTable {
  name: string;
  /** The instance that claimed it last. */
  holder: string;
  expires_at: number;
}

/** Webhooks (migration 0010; sql/webhooks.ts): `events` and `agent_ids` are JSON text, `secret` is encrypted. */
export interface WebhooksTable {
  id: string;
  name: string;
  url: string;
  events: string;
  /** null: every agent. */
  agent_ids: string | null;
  format: WebhookFormat;
  enabled: number;
  secret: string;
  /** Deliveries failed in a row (each after all its attempts); a delivered one resets it. */
  consecutive_failures: Defaulted<number>;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
}

/** The outbox (migration 0010; sql/outbox.ts): events written with the change that caused them; `data` is JSON. */
export interface OutboxEventsTable {
  id: string;
  type: WebhookEventType;
  agent_id: string | null;
  run_id: string | null;
  data: string;
  created_at: number;
}

/** One event for one webhook (migration 0010; sql/outbox.ts), claimed by one sender at a time. */
export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  status: DeliveryStatus;
  attempts: Defaulted<number>;
  next_attempt_at: number | null;
  claimed_by: string | null;
  claim_expires_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
}

/** The deployment's spend caps (migration 0011; sql/budgets.ts): one row, id 1. */
export interface BudgetSettingsTable {
  id: number;
  daily_usd: number | null;
  monthly_usd: number | null;
  warn_at_percent: number;
  updated_at: number;
}

/** Cost of ended runs per UTC day (epoch days) and agent (migration 0011; sql/budgets.ts). */
export interface SpendDailyTable {
  day: number;
  agent_id: string;
  cost_usd: number;
}

/** Budget warnings and exhaustions already announced, one per scope, cap, window and level (migration 0011). */
export interface BudgetAlertsTable {
  /** `deployment`, or an agent id. */
  scope: string;
  cap: 'daily' | 'monthly';
  window_start: number;
  level: 'warning' | 'exhausted';
  created_at: number;
}

/** The audit trail (migration 0012; sql/audit.ts): `details` is JSON. */
export interface AuditLogTable {
  id: string;
  at: number;
  action: AuditAction;
  actor_id: string | null;
  actor_name: string | null;
  address: string | null;
  credential: string | null;
  agent_id: string | null;
  target_type: AuditTargetType;
  target_id: string | null;
  target_name: string | null;
  details: string;
}

/** Agents' versions (migration 0012; sql/agent-versions.ts): `fields` is JSON. */
export interface AgentVersionsTable {
  agent_id: string;
  version: number;
  created_at: number;
  created_by_id: string | null;
  created_by_name: string | null;
  fields: string;
}

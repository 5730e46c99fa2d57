import type { ColumnType, Generated } from 'kysely';

/**
 * The database schema as Kysely sees it. Instants are epoch milliseconds in BIGINT columns and
 * booleans are 0/1 integers, so that SQLite and PostgreSQL read and write the same values.
 */
export interface Database {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  agents: AgentsTable;
  runs: RunsTable;
  run_totals_hourly: RunTotalsHourlyTable;
}

/** Finished runs of all agents per hour (epoch hours) and status. */
export interface RunTotalsHourlyTable {
  hour: number;
  status: string;
  runs: number;
  cost_usd: number;
  duration_ms: number;
}

export interface UsersTable {
  id: string;
  name: string;
  role: string;
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
  next_fire_at: number | null;
  creator_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface RunsTable {
  id: string;
  agent_id: string;
  status: string;
  trigger: string;
  scheduled_for: number | null;
  output: string | null;
  cost_usd: ColumnType<number, number | undefined, number>;
  input_tokens: ColumnType<number, number | undefined, number>;
  output_tokens: ColumnType<number, number | undefined, number>;
  cache_read_input_tokens: ColumnType<number, number | undefined, number>;
  cache_creation_input_tokens: ColumnType<number, number | undefined, number>;
  num_turns: ColumnType<number, number | undefined, number>;
  queued_at: number;
  started_at: number | null;
  completed_at: number | null;
  duration_ms: number | null;
  executor_id: string | null;
  lease_expires_at: number | null;
  cancel_requested: ColumnType<number, number | undefined, number>;
}

/** A generated column helper kept for future tables. */
export type Serial = Generated<number>;

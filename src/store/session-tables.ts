/**
 * The tables of migration 0002 as Kysely sees them (added to the store's `Database` with
 * `withTables`, so the dashboard's tables stay out of the core schema file).
 */
// Type aliases, not interfaces: `withTables` needs types with an implicit index signature.
export type SessionTables = {
  sessions: SessionsTable;
  sign_in_failures: SignInFailuresTable;
};

export type SessionsTable = {
  id_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
};

export type SignInFailuresTable = {
  id: string;
  subject: string;
  failed_at: number;
};

import type { NewAuditEntry } from '../domain/audit.js';
import type { BudgetSettings } from '../domain/budgets.js';
import type { SpendSummary } from '../domain/types.js';

/**
 * The Store's part for the spend caps (store.ts composes it into the Store), over sql/budgets.ts.
 * Reservations and the spend ledger are written by the claims and ends of runs (sql/runs.ts) in
 * their own transactions; these are the settings and the figures.
 */
export interface BudgetsStore {
  /** The deployment's caps and warning level (GET /api/budget). */
  getBudgetSettings(): Promise<BudgetSettings>;
  /**
   * Replaces them; `audit` builds the entry of the change from the settings as they were (null:
   * none), written in the change's transaction. Emits the alerts a lowered cap has reached already.
   */
  putBudgetSettings(settings: BudgetSettings, now: number, audit?: (before: BudgetSettings) => NewAuditEntry | null): Promise<BudgetSettings>;
  /** Today's and this month's spend (UTC) of one agent against its own caps, or (null) of the deployment against its caps. */
  spendSummary(agentId: string | null, now: number): Promise<SpendSummary>;
}

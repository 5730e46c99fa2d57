import type { Clock } from '../clock.js';
import { fieldChanges } from '../domain/audit.js';
import { checkBudgetSettings, type BudgetSettings } from '../domain/budgets.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { auditEntry } from './audit.js';

/** The deployment's budget as GET/PUT /api/budget show it: the settings and the spend (UTC) against them. */
export interface DeploymentBudget extends BudgetSettings {
  spend: { todayUsd: number; monthUsd: number };
}

/** A PUT /api/budget body: a replacement (warnAtPercent absent: the default, 80). */
export interface BudgetInput {
  dailyUsd: number | null;
  monthlyUsd: number | null;
  warnAtPercent?: number;
}

/**
 * The deployment's spend caps (admins only: the routes say so). Agents' own caps are agent
 * fields (services/agents.ts); the reservations and alerts happen in the store, with the runs.
 */
export class Budget {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  async get(): Promise<DeploymentBudget> {
    const settings = await this.deps.store.getBudgetSettings();
    return this.withSpend(settings);
  }

  /** Replaces the settings; the audit entry (`budget.update` with the changed fields) is written with them, unless nothing changed. */
  async put(input: BudgetInput, by: Actor): Promise<DeploymentBudget> {
    const { store, clock } = this.deps;
    const settings = checkBudgetSettings(input);
    const now = clock.now();
    const saved = await store.putBudgetSettings(settings, now, (before) => {
      const changes = fieldChanges(before, settings);
      if (Object.keys(changes).length === 0) return null;
      return auditEntry(by, now, 'budget.update', { targetType: 'budget', targetId: 'deployment', targetName: 'deployment budget' }, { changes });
    });
    by.log.info({ budget: saved }, 'deployment budget changed');
    return this.withSpend(saved);
  }

  private async withSpend(settings: BudgetSettings): Promise<DeploymentBudget> {
    const spend = await this.deps.store.spendSummary(null, this.deps.clock.now());
    return { ...settings, spend: { todayUsd: spend.todayUsd, monthUsd: spend.monthUsd } };
  }
}

import type { AgentJson } from '../../src/api/schemas/index.js';

/**
 * The run options of an agent created without them (planNewAgent's defaults, which a migrated
 * agent gets too), as the domain, the store and the API all give them back.
 */
export const RUN_OPTION_DEFAULTS: Pick<
  AgentJson,
  'disallowedTools' | 'mcpServers' | 'workspace' | 'allowedDomains' | 'systemPrompt' | 'effort' | 'fallbackModel' | 'outputSchema'
> = {
  disallowedTools: [],
  mcpServers: {},
  workspace: null,
  allowedDomains: [],
  systemPrompt: null,
  effort: null,
  fallbackModel: null,
  outputSchema: null,
};

/** The spend caps and policies of an agent created without them (migration 0011 gives existing agents the same). */
export const POLICY_DEFAULTS: Pick<
  AgentJson,
  'dailyBudgetUsd' | 'monthlyBudgetUsd' | 'overlapPolicy' | 'maxRetries' | 'retryDelaySeconds' | 'pauseAfterFailures'
> = {
  dailyBudgetUsd: null,
  monthlyBudgetUsd: null,
  overlapPolicy: 'skip',
  maxRetries: 0,
  retryDelaySeconds: 60,
  pauseAfterFailures: null,
};

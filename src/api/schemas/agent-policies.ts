import { Type } from 'typebox';
import { LIMITS } from '../../defaults.js';
import { OVERLAP_POLICIES } from '../../domain/types.js';
import { NullableInstant, OrNull, StringEnum } from './common.js';

/**
 * An agent's spend caps and scheduling policies (issue 11): request fields and response
 * properties, spread into the agent schemas like the run options.
 */

const CapField = (window: string) =>
  Type.Number({
    minimum: 0,
    maximum: LIMITS.spendCapUsd,
    description: `Most USD this agent's runs may spend per UTC ${window} (ended runs, plus what running runs have spent and reserved); null: no cap. A run starts only with room under it, and runs with maxBudgetUsd at most what is left`,
  });

const PauseField = Type.Integer({
  minimum: 1,
  maximum: LIMITS.pauseAfterFailures,
  description: 'Disable the agent after this many failed runs in a row (error or budget_exceeded); null: never',
});

const PolicyFields = {
  dailyBudgetUsd: OrNull(CapField('day')),
  monthlyBudgetUsd: OrNull(CapField('month')),
  overlapPolicy: StringEnum(OVERLAP_POLICIES, {
    description:
      "When a slot comes while the agent's previous run is still queued or running: skip (default; recorded as a skipped run), queue (keep at most one slot waiting), allow (run concurrently), replace (cancel the running run, then start)",
  }),
  maxRetries: Type.Integer({ minimum: 0, maximum: LIMITS.maxRetries, description: 'Retries of a run that ends as error (trigger "retry"). Default: 0' }),
  retryDelaySeconds: Type.Integer({
    minimum: 1,
    maximum: LIMITS.retryDelaySeconds,
    description: 'Wait before the first retry, doubled for each further attempt, at most an hour. Default: 60',
  }),
  pauseAfterFailures: OrNull(PauseField),
};

/** The policy fields of a create or update request: each optional. */
export const PoliciesBody = {
  dailyBudgetUsd: Type.Optional(PolicyFields.dailyBudgetUsd),
  monthlyBudgetUsd: Type.Optional(PolicyFields.monthlyBudgetUsd),
  overlapPolicy: Type.Optional(PolicyFields.overlapPolicy),
  maxRetries: Type.Optional(PolicyFields.maxRetries),
  retryDelaySeconds: Type.Optional(PolicyFields.retryDelaySeconds),
  pauseAfterFailures: Type.Optional(PolicyFields.pauseAfterFailures),
};

/** The policy properties of an agent as the API shows it, with why the service paused it. */
export const PoliciesJson = {
  ...PolicyFields,
  pausedReason: OrNull(Type.String(), { description: 'Why the service disabled the agent (pauseAfterFailures); cleared when it is enabled again' }),
  pausedAt: NullableInstant,
};

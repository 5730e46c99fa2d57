import { LIMITS } from '../../../defaults';
import type { Agent, AgentInput } from '../api';
import type { FieldErrors, FormState } from './form-fields';

/** The spend caps and scheduling policies (issue 11) both ways: the form from an agent, and the request with its checks. */

export type PoliciesForm = Pick<FormState, 'dailyBudgetUsd' | 'monthlyBudgetUsd' | 'overlapPolicy' | 'maxRetries' | 'retryDelaySeconds' | 'pauseAfterFailures'>;
type PoliciesInput = Pick<AgentInput, 'dailyBudgetUsd' | 'monthlyBudgetUsd' | 'overlapPolicy' | 'maxRetries' | 'retryDelaySeconds' | 'pauseAfterFailures'>;

/** The server's defaults (domain/agent-fields.ts), for a new agent. */
const DEFAULT_RETRY_DELAY_SECONDS = 60;

const optional = (value: number | null | undefined): string => (value === null || value === undefined ? '' : String(value));

/** The policy fields of a new agent (null) or as an agent has them. */
export function policiesForm(agent: Agent | null): PoliciesForm {
  return {
    dailyBudgetUsd: optional(agent?.dailyBudgetUsd),
    monthlyBudgetUsd: optional(agent?.monthlyBudgetUsd),
    overlapPolicy: agent?.overlapPolicy ?? 'skip',
    maxRetries: String(agent?.maxRetries ?? 0),
    retryDelaySeconds: String(agent?.retryDelaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS),
    pauseAfterFailures: optional(agent?.pauseAfterFailures),
  };
}

/** A cap in dollars, or null for an empty field; undefined when it is not one. */
function capOf(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) && value >= 0 && value <= LIMITS.spendCapUsd ? value : undefined;
}

/** A whole number in [min, max]; undefined when it is not one. */
function wholeIn(text: string, min: number, max: number): number | undefined {
  const trimmed = text.trim();
  const value = Number(trimmed);
  return trimmed !== '' && Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}

/** The policy fields of the request, and the problems found before asking the server. */
export function policiesInput(form: PoliciesForm): { input: PoliciesInput; problems: FieldErrors } {
  const problems: FieldErrors = {};
  const dailyBudgetUsd = capOf(form.dailyBudgetUsd);
  const monthlyBudgetUsd = capOf(form.monthlyBudgetUsd);
  const maxRetries = wholeIn(form.maxRetries, 0, LIMITS.maxRetries);
  const retryDelaySeconds = wholeIn(form.retryDelaySeconds, 1, LIMITS.retryDelaySeconds);
  const pauseText = form.pauseAfterFailures.trim();
  const pauseAfterFailures = pauseText === '' ? null : wholeIn(pauseText, 1, LIMITS.pauseAfterFailures);
  const capProblem = 'Enter an amount in dollars (0 or more), or leave it empty for no cap.';
  if (dailyBudgetUsd === undefined) problems.dailyBudgetUsd = capProblem;
  if (monthlyBudgetUsd === undefined) problems.monthlyBudgetUsd = capProblem;
  if (maxRetries === undefined) problems.maxRetries = `Enter a whole number from 0 to ${LIMITS.maxRetries}.`;
  if (retryDelaySeconds === undefined) problems.retryDelaySeconds = `Enter a whole number of seconds from 1 to ${LIMITS.retryDelaySeconds}.`;
  if (pauseAfterFailures === undefined)
    problems.pauseAfterFailures = `Enter a whole number from 1 to ${LIMITS.pauseAfterFailures}, or leave it empty to never pause.`;
  return {
    input: {
      dailyBudgetUsd: dailyBudgetUsd ?? null,
      monthlyBudgetUsd: monthlyBudgetUsd ?? null,
      overlapPolicy: form.overlapPolicy,
      maxRetries: maxRetries ?? 0,
      retryDelaySeconds: retryDelaySeconds ?? DEFAULT_RETRY_DELAY_SECONDS,
      pauseAfterFailures: pauseAfterFailures ?? null,
    },
    problems,
  };
}

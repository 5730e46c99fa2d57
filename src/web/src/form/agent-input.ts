import type { Agent, AgentInput } from '../api';
import { DEFAULT_PRESET, browserTimezone, presetExpression, presetOf } from '../schedule';
import { FIELDS, type FieldErrors, type FieldName, type FormState } from './form-fields';
import { lines, runOptionsForm, runOptionsInput } from './run-options-input';
import { policiesForm, policiesInput } from './policy-input';

/** The form from an agent (or blank), and the request it becomes. */

export function initialForm(agent: Agent | null): FormState {
  if (!agent) {
    return {
      name: '',
      description: '',
      prompt: '',
      preset: DEFAULT_PRESET,
      timezone: browserTimezone(),
      maxTurns: '50',
      maxBudgetUsd: '',
      model: '',
      allowedTools: '',
      enabled: true,
      ...policiesForm(null),
      ...runOptionsForm(null),
    };
  }
  return {
    name: agent.name,
    description: agent.description ?? '',
    prompt: agent.prompt,
    preset: presetOf(agent.schedule),
    timezone: agent.timezone,
    maxTurns: String(agent.maxTurns),
    maxBudgetUsd: agent.maxBudgetUsd === null ? '' : String(agent.maxBudgetUsd),
    model: agent.model ?? '',
    allowedTools: agent.allowedTools.join('\n'),
    enabled: agent.enabled,
    ...policiesForm(agent),
    ...runOptionsForm(agent),
  };
}

/** The request body, or the problems found before asking the server. */
export function toInput(form: FormState): { input: AgentInput; problems: FieldErrors } {
  const maxTurns = Number(form.maxTurns);
  const budgetText = form.maxBudgetUsd.trim();
  const budget = budgetText === '' ? null : Number(budgetText);
  const runOptions = runOptionsInput(form);
  const policies = policiesInput(form);
  const problems: FieldErrors = { ...policies.problems, ...runOptions.problems };
  if (form.maxTurns.trim() === '' || !Number.isInteger(maxTurns)) problems.maxTurns = 'Enter a whole number of turns.';
  if (budget !== null && !Number.isFinite(budget)) problems.maxBudgetUsd = 'Enter an amount in dollars, or leave it empty for no limit.';
  return {
    input: {
      name: form.name.trim(),
      description: form.description.trim() === '' ? null : form.description,
      prompt: form.prompt,
      schedule: presetExpression(form.preset),
      timezone: form.timezone.trim(),
      maxTurns,
      maxBudgetUsd: budget,
      model: form.model.trim() === '' ? null : form.model.trim(),
      allowedTools: lines(form.allowedTools),
      enabled: form.enabled,
      ...policies.input,
      ...runOptions.input,
    },
    problems,
  };
}

function copyField<K extends FieldName>(patch: Partial<AgentInput>, input: AgentInput, key: K): void {
  patch[key] = input[key];
}

/** Only what changed, so an edit does not overwrite what someone else changed meanwhile. */
export function changes(agent: Agent, input: AgentInput): Partial<AgentInput> {
  const patch: Partial<AgentInput> = {};
  for (const key of FIELDS) {
    if (JSON.stringify(agent[key]) !== JSON.stringify(input[key])) copyField(patch, input, key);
  }
  return patch;
}

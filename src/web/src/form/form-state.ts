/**
 * The agent editor (pages/agent-form.tsx), in parts:
 * - form-state.ts: what is typed, the checks made before asking the server, the request it
 *   becomes and where the server's complaints are shown (one reducer, shared through FormContext);
 * - text-field.tsx: a labelled field whose id, hint, error and aria wiring follow from its name;
 * - schedule-fields.tsx and schedule-preview.tsx: the schedule presets and the server's reading
 *   of them.
 */

import { createContext } from 'preact';
import { useContext, useReducer } from 'preact/hooks';
import { ApiError, type Agent, type AgentInput } from '../api';
import { DEFAULT_PRESET, browserTimezone, presetExpression, presetOf, type SchedulePreset } from '../schedule';

/** The fields as typed (numbers too: an empty budget means "no limit"). */
export interface FormState {
  name: string;
  description: string;
  prompt: string;
  preset: SchedulePreset;
  timezone: string;
  maxTurns: string;
  maxBudgetUsd: string;
  model: string;
  allowedTools: string;
  enabled: boolean;
}

/** A field of the request; the server's complaints name these. */
export type FieldName = keyof AgentInput;

/** In the order of the form, which the error summary follows. */
export const FIELDS = [
  'name',
  'description',
  'prompt',
  'schedule',
  'timezone',
  'maxTurns',
  'maxBudgetUsd',
  'model',
  'allowedTools',
  'enabled',
] satisfies FieldName[];

// Fails to compile when AgentInput gains a field that FIELDS lacks (an edit of it would be dropped).
const everyField: Exclude<FieldName, (typeof FIELDS)[number]> extends never ? true : never = true;
void everyField;

export const FIELD_LABELS: Record<FieldName, string> = {
  name: 'Name',
  description: 'Description',
  prompt: 'Prompt',
  schedule: 'Schedule',
  timezone: 'Timezone',
  maxTurns: 'Max turns',
  maxBudgetUsd: 'Budget per run',
  model: 'Model',
  allowedTools: 'Allowed tools',
  enabled: 'Enabled',
};

/** The id of each field's control: its label, hint and error ids derive from it. */
export const FIELD_INPUT: Record<FieldName, string> = {
  name: 'agent-name',
  description: 'agent-description',
  prompt: 'agent-prompt',
  schedule: 'schedule-kind',
  timezone: 'agent-timezone',
  maxTurns: 'agent-max-turns',
  maxBudgetUsd: 'agent-budget',
  model: 'agent-model',
  allowedTools: 'agent-tools',
  enabled: 'agent-enabled',
};

export type FieldErrors = Partial<Record<FieldName, string>>;

/** The fields typed as text, which <TextField> edits. */
export type TextFieldName = { [K in keyof FormState]: FormState[K] extends string ? K : never }[keyof FormState];

function initialForm(agent: Agent | null): FormState {
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
  };
}

/** The request body, or the problems found before asking the server. */
export function toInput(form: FormState): { input: AgentInput; problems: FieldErrors } {
  const problems: FieldErrors = {};
  const maxTurns = Number(form.maxTurns);
  if (form.maxTurns.trim() === '' || !Number.isInteger(maxTurns)) problems.maxTurns = 'Enter a whole number of turns.';
  const budgetText = form.maxBudgetUsd.trim();
  const budget = budgetText === '' ? null : Number(budgetText);
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
      allowedTools: form.allowedTools
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line !== ''),
      enabled: form.enabled,
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

/** "allowedTools[2]" → "allowedTools"; anything unknown belongs to the form as a whole. */
function fieldOf(path: string): FieldName | null {
  const head = path.replace(/^body\.?/, '').split(/[.[]/)[0];
  return FIELDS.find((field) => field === head) ?? null;
}

/** The API's message as a sentence; its schema wording for an empty required field, in plain words. */
function sentence(message: string): string {
  if (/fewer than 1 character|must not be empty or blank|is required/i.test(message)) return 'Required: this must not be empty.';
  return message.charAt(0).toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? '' : '.');
}

/** A failed save as errors beside their fields, and the rest for the form as a whole. */
export function problemsOf(error: unknown): { errors: FieldErrors; formError: string | null } {
  if (!(error instanceof ApiError) || error.details.length === 0) {
    return { errors: {}, formError: error instanceof Error ? error.message : String(error) };
  }
  const errors: FieldErrors = {};
  const rest: string[] = [];
  for (const detail of error.details) {
    const field = fieldOf(detail.field);
    if (field && !errors[field]) errors[field] = sentence(detail.message);
    else if (!field) rest.push(`${detail.field} ${detail.message}`);
  }
  return { errors, formError: rest.length > 0 ? rest.join('; ') : null };
}

interface EditorState {
  form: FormState;
  errors: FieldErrors;
  formError: string | null;
  saving: boolean;
}

type Action =
  | { type: 'set'; patch: Partial<Omit<FormState, 'preset'>>; field: FieldName }
  | { type: 'preset'; patch: Partial<SchedulePreset> }
  | { type: 'saving' }
  | { type: 'saved' }
  | { type: 'refused'; errors: FieldErrors; formError: string | null };

/** An edit clears the error of the field edited: it is shown again only by the next save. */
function withoutError(errors: FieldErrors, field: FieldName): FieldErrors {
  return errors[field] ? { ...errors, [field]: undefined } : errors;
}

function reduce(state: EditorState, action: Action): EditorState {
  switch (action.type) {
    case 'set':
      return { ...state, form: { ...state.form, ...action.patch }, errors: withoutError(state.errors, action.field) };
    case 'preset': {
      const current = state.form.preset;
      const preset = { ...current, ...action.patch };
      // Switching to "custom" starts from the expression the preset stood for.
      if (action.patch.kind === 'custom' && current.kind !== 'custom') preset.custom = presetExpression(current);
      return { ...state, form: { ...state.form, preset }, errors: withoutError(state.errors, 'schedule') };
    }
    case 'saving':
      return { ...state, formError: null, saving: true };
    case 'saved':
      return { ...state, saving: false };
    case 'refused':
      return { ...state, errors: action.errors, formError: action.formError, saving: false };
  }
}

export interface FormControls extends EditorState {
  set: <K extends Exclude<keyof FormState, 'preset'>>(key: K, value: FormState[K]) => void;
  setPreset: (patch: Partial<SchedulePreset>) => void;
  /** A save begins: the form-wide error of the last attempt goes. */
  startSaving: () => void;
  /** The save went through (the page is left), or stopped without a new complaint. */
  stopSaving: () => void;
  /** Shows what was wrong (found before asking the server, or the server's answer). */
  refuse: (errors: FieldErrors, formError: string | null) => void;
}

/** The editor's state, starting from the agent edited (null: a new agent). */
export function useFormState(agent: Agent | null): FormControls {
  const [state, dispatch] = useReducer(reduce, agent, (start: Agent | null) => ({
    form: initialForm(start),
    errors: {},
    formError: null,
    saving: false,
  }));
  return {
    ...state,
    set: (key, value) => dispatch({ type: 'set', patch: { [key]: value }, field: key }),
    setPreset: (patch) => dispatch({ type: 'preset', patch }),
    startSaving: () => dispatch({ type: 'saving' }),
    stopSaving: () => dispatch({ type: 'saved' }),
    refuse: (errors, formError) => dispatch({ type: 'refused', errors, formError }),
  };
}

export const FormContext = createContext<FormControls | null>(null);

/** The editor's state, for the fields inside it. */
export function useForm(): FormControls {
  const controls = useContext(FormContext);
  if (!controls) throw new Error('a form field outside <FormContext.Provider>');
  return controls;
}

/**
 * The agent editor (pages/agent-form.tsx), in parts:
 * - form-state.ts: the editor's state (one reducer, shared through FormContext);
 * - form-fields.ts: what is typed, the fields of the request and where each problem is shown;
 * - agent-input.ts and run-options-input.ts: the form from an agent and the request it becomes,
 *   with the checks made before asking the server (mcp-servers-json.ts and output-schema-json.ts
 *   for the JSON boxes);
 * - server-problems.ts: the server's complaints, each beside the control it names;
 * - text-field.tsx: a labelled field whose id, hint, error and aria wiring follow from its name;
 * - schedule-fields.tsx and schedule-preview.tsx: the schedule presets and the server's reading
 *   of them; advanced-fields.tsx, workspace-fields.tsx, mcp-servers-field.tsx and
 *   output-schema-field.tsx: the Advanced section (run options).
 */

import { createContext } from 'preact';
import { useContext, useReducer } from 'preact/hooks';
import type { Agent } from '../api';
import { presetExpression, type SchedulePreset } from '../schedule';
import { initialForm } from './agent-input';
import { WORKSPACE_PARTS, type ErrorKey, type FieldErrors, type FormState } from './form-fields';

interface EditorState {
  form: FormState;
  errors: FieldErrors;
  formError: string | null;
  saving: boolean;
}

type Action =
  | { type: 'set'; patch: Partial<Omit<FormState, 'preset'>>; field: ErrorKey }
  | { type: 'preset'; patch: Partial<SchedulePreset> }
  | { type: 'saving' }
  | { type: 'saved' }
  | { type: 'refused'; errors: FieldErrors; formError: string | null };

/**
 * An edit clears the error of the field edited: it is shown again only by the next save. Another
 * kind of workspace clears the errors of the kind left too (its controls are gone).
 */
function withoutError(errors: FieldErrors, field: ErrorKey): FieldErrors {
  const cleared: ErrorKey[] = field === 'workspace' ? ['workspace', ...WORKSPACE_PARTS] : [field];
  if (!cleared.some((key) => errors[key])) return errors;
  const next = { ...errors };
  for (const key of cleared) delete next[key];
  return next;
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

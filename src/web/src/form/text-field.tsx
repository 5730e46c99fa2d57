import type { ComponentChildren } from 'preact';
import { FIELD_INPUT, type ErrorKey, type FieldErrors, type TextFieldName } from './form-fields';
import { useForm } from './form-state';

/** A label, the control, its hint and its error, ids tied together (`<id>-hint`, `<id>-error`). */
export function Field(props: {
  id: string;
  label: string;
  error?: string | undefined;
  hint?: ComponentChildren;
  required?: boolean | undefined;
  children: ComponentChildren;
}) {
  return (
    <div class={props.error ? 'field has-error' : 'field'}>
      <div class="field-label">
        <label for={props.id}>{props.label}</label>
        {/* Outside the label, so the control's name stays "Name", not "Name *". */}
        {props.required ? (
          <span class="required" aria-hidden="true">
            *
          </span>
        ) : null}
      </div>
      {props.children}
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="field-error" id={`${props.id}-error`} data-testid={`error-${props.id}`}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** What a field's control says about its error and hint, for assistive technology. */
export function fieldWiring(name: ErrorKey, errors: FieldErrors, hasHint: boolean) {
  const id = FIELD_INPUT[name];
  const error = errors[name];
  const describedBy = [error ? `${id}-error` : null, hasHint ? `${id}-hint` : null].filter(Boolean).join(' ');
  return { id, error, describedBy: describedBy || undefined, invalid: error ? true : undefined };
}

interface TextFieldProps {
  name: TextFieldName;
  label: string;
  hint?: ComponentChildren;
  required?: boolean;
  /** A <textarea> of this many rows instead of an <input>. */
  rows?: number;
  class?: string;
  spellcheck?: boolean;
  placeholder?: string;
  maxLength?: number;
  /** A number field. */
  number?: { min: number; max?: number; step: number; inputMode: 'numeric' | 'decimal' };
  /** Values offered while typing (a <datalist> of this id). */
  suggestions?: { id: string; values: readonly string[] };
}

/** A text field of the agent form: value, error, label, hint and aria wiring all follow from `name`. */
export function TextField(props: TextFieldProps) {
  const { form, errors, set } = useForm();
  const wiring = fieldWiring(props.name, errors, props.hint !== undefined);
  const common = {
    id: wiring.id,
    class: props.class,
    value: form[props.name],
    spellcheck: props.spellcheck,
    'aria-required': props.required ? true : undefined,
    'aria-invalid': wiring.invalid,
    'aria-describedby': wiring.describedBy,
  };
  return (
    <Field id={wiring.id} label={props.label} error={wiring.error} hint={props.hint} required={props.required}>
      {props.rows !== undefined ? (
        <textarea {...common} rows={props.rows} onInput={(e) => set(props.name, e.currentTarget.value)} />
      ) : (
        <input
          {...common}
          type={props.number ? 'number' : undefined}
          {...props.number}
          list={props.suggestions?.id}
          autoComplete={props.suggestions ? 'off' : undefined}
          placeholder={props.placeholder}
          maxLength={props.maxLength}
          onInput={(e) => set(props.name, e.currentTarget.value)}
        />
      )}
      {props.suggestions ? (
        <datalist id={props.suggestions.id}>
          {props.suggestions.values.map((value) => (
            <option key={value} value={value} />
          ))}
        </datalist>
      ) : null}
    </Field>
  );
}

import type { Ref } from 'preact';
import { useState } from 'preact/hooks';
import { ValidationError } from '../../../domain/errors';
import { checkSecretName, checkSecretValue } from '../../../domain/secret-fields';
import { ApiError, setSecret } from '../api';
import { Field } from '../form/text-field';
import { toast } from './feedback';

type SecretField = 'name' | 'value';
type SecretErrors = Partial<Record<SecretField, string>>;

function sentence(message: string): string {
  const text = message.charAt(0).toUpperCase() + message.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** A refusal (the server's, or the same rules checked first here) as errors beside `name` and `value`. */
function problemsOf(error: unknown): { errors: SecretErrors; formError: string | null } {
  const details = error instanceof ApiError || error instanceof ValidationError ? error.details : [];
  const errors: SecretErrors = {};
  const rest: string[] = [];
  for (const { field, message } of details) {
    const key = field.replace(/^(body|params)\.?/, '');
    if ((key === 'name' || key === 'value') && !errors[key]) errors[key] = sentence(message);
    else rest.push(`${field} ${message}`);
  }
  if (details.length === 0) rest.push(error instanceof Error ? error.message : String(error));
  return { errors, formError: rest.length > 0 ? rest.join('; ') : null };
}

/** The same rules the server applies, so a mistake shows before the value leaves the browser. */
function checkFirst(name: string, value: string): void {
  checkSecretName(name);
  if (value === '') throw ValidationError.field('value', 'enter the value');
  checkSecretValue(value);
}

function describedBy(id: string, error: string | undefined): string {
  return error ? `${id}-error ${id}-hint` : `${id}-hint`;
}

interface SecretFormProps {
  agentId: string;
  /** The names the agent has: one of them typed makes this a replacement. */
  names: readonly string[];
  name: string;
  onName: (name: string) => void;
  valueRef: Ref<HTMLInputElement>;
  onSaved: () => Promise<void>;
}

/**
 * Sets a secret, or replaces one of the same name. The value goes out once, in the request; the
 * box is emptied as soon as the server has it, and nothing here ever reads it back.
 */
export function SecretForm({ agentId, names, name, onName, valueRef, onSaved }: SecretFormProps) {
  const [value, setValue] = useState('');
  const [errors, setErrors] = useState<SecretErrors>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const replacing = names.includes(name.trim());

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = name.trim();
    setFormError(null);
    setSaving(true);
    try {
      checkFirst(trimmed, value);
      await setSecret(agentId, trimmed, value);
      setValue('');
      onName('');
      setErrors({});
      toast('success', `${replacing ? 'Replaced' : 'Added'} secret ${trimmed}`);
      await onSaved();
    } catch (error) {
      const problems = problemsOf(error);
      setErrors(problems.errors);
      setFormError(problems.formError);
    } finally {
      setSaving(false);
    }
  };

  return (
    <form class="secret-form" onSubmit={submit} noValidate aria-label="Add or replace a secret">
      <div class="form-row">
        <Field id="secret-name" label="Name" error={errors.name} hint="Capital letters, digits and _: the environment variable runs get.">
          <input
            id="secret-name"
            class="mono"
            value={name}
            onInput={(e) => {
              onName(e.currentTarget.value);
              setErrors({ ...errors, name: undefined });
            }}
            placeholder="GITHUB_TOKEN"
            autoComplete="off"
            autoCapitalize="characters"
            spellcheck={false}
            maxLength={64}
            aria-invalid={errors.name ? true : undefined}
            aria-describedby={describedBy('secret-name', errors.name)}
          />
        </Field>
        <Field id="secret-value" label="Value" error={errors.value} hint="Write-only: never shown again, not even here.">
          <input
            id="secret-value"
            ref={valueRef}
            type="password"
            value={value}
            onInput={(e) => {
              setValue(e.currentTarget.value);
              setErrors({ ...errors, value: undefined });
            }}
            // Never offer the user's saved passwords for it (a sign-in password would end up in the run).
            autoComplete="new-password"
            spellcheck={false}
            aria-invalid={errors.value ? true : undefined}
            aria-describedby={describedBy('secret-value', errors.value)}
          />
        </Field>
      </div>
      {formError ? (
        <p class="field-error" role="alert" data-testid="secret-form-error">
          {formError}
        </p>
      ) : null}
      <div class="form-actions">
        <button type="submit" class="button button-primary" disabled={saving}>
          {saving ? 'Saving…' : replacing ? `Replace ${name.trim()}` : 'Add secret'}
        </button>
      </div>
    </form>
  );
}

import type { ComponentChildren } from 'preact';
import type { ErrorKey, TextFieldName } from './form-fields';
import { useForm } from './form-state';
import { Field, fieldWiring } from './text-field';

interface JsonFieldProps {
  name: TextFieldName & ErrorKey;
  label: string;
  hint: ComponentChildren;
  placeholder: string;
  /** What is wrong with the text as it stands; undefined when it parses. */
  problem: string | undefined;
  /** The status line of a valid box (what it holds), its id `<field id>-<idSuffix>`; null to show none. */
  summary: { idSuffix: string; testId: string; text: ComponentChildren } | null;
}

/**
 * A JSON textarea of the agent form, checked as it is typed: the server's complaint after a save,
 * else the parse problem, shows beside it (and keeps the form from being sent); a valid box may
 * say what it holds in a status line its control is described by.
 */
export function JsonField(props: JsonFieldProps) {
  const { form, errors, set } = useForm();
  const { name, summary } = props;
  const wiring = fieldWiring(name, { [name]: errors[name] ?? props.problem }, true);
  const summaryId = summary ? `${wiring.id}-${summary.idSuffix}` : null;
  return (
    <Field id={wiring.id} label={props.label} error={wiring.error} hint={props.hint}>
      <textarea
        id={wiring.id}
        class="mono"
        rows={8}
        spellcheck={false}
        value={form[name]}
        placeholder={props.placeholder}
        onInput={(e) => set(name, e.currentTarget.value)}
        aria-invalid={wiring.invalid}
        aria-describedby={summaryId ? `${wiring.describedBy ?? ''} ${summaryId}`.trim() : wiring.describedBy}
      />
      {summary && summaryId ? (
        <p class="hint field-ok" id={summaryId} data-testid={summary.testId}>
          {summary.text}
        </p>
      ) : null}
    </Field>
  );
}

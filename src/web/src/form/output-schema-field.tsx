import { useMemo } from 'preact/hooks';
import { useForm } from './form-state';
import { parseOutputSchemaJson } from './output-schema-json';
import { JsonField } from './json-field';

const EXAMPLE = `{
  "type": "object",
  "properties": {
    "summary": { "type": "string" },
    "failures": { "type": "integer" }
  },
  "required": ["summary", "failures"]
}`;

/**
 * The JSON Schema the runs' answers must satisfy. Checked as it is typed (a problem shows beside
 * the field and keeps the form from being sent); the server's complaint after a save shows there too.
 */
export function OutputSchemaField() {
  const { form } = useForm();
  const parsed = useMemo(() => parseOutputSchemaJson(form.outputSchema), [form.outputSchema]);
  const properties =
    parsed.ok && parsed.schema && typeof parsed.schema.properties === 'object' && parsed.schema.properties !== null
      ? Object.keys(parsed.schema.properties)
      : [];
  return (
    <JsonField
      name="outputSchema"
      label="Output schema"
      placeholder={EXAMPLE}
      problem={parsed.ok ? undefined : parsed.error}
      hint={
        <>
          A JSON Schema of an object (<code>{'"type": "object"'}</code>): each run answers with such an object, shown as its structured output, and a run whose
          answer does not fit ends as an error. Empty: a free-text answer.
        </>
      }
      summary={properties.length > 0 ? { idSuffix: 'fields', testId: 'output-schema-summary', text: `An object with ${properties.join(', ')}` } : null}
    />
  );
}

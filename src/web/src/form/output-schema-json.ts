import { LIMITS } from '../../../defaults';

/**
 * The output schema field as JSON text, both ways. What the browser can tell at once (not JSON,
 * not an object's schema, too long) shows while typing; whether it is a valid JSON Schema is the
 * server's to say (it compiles it), and its 400 shows beside the field.
 */

export type OutputSchemaParse = { ok: true; schema: Record<string, unknown> | null } | { ok: false; error: string };

const UTF8 = new TextEncoder();

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The text a stored schema is edited as; no schema is an empty box. */
export function outputSchemaText(schema: Readonly<Record<string, unknown>> | null): string {
  return schema === null ? '' : JSON.stringify(schema, null, 2);
}

/** The schema the text holds (null: empty or `null`, free-text answers), or what is wrong with it in one sentence. */
export function parseOutputSchemaJson(text: string): OutputSchemaParse {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'null') return { ok: true, schema: null };
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `Not valid JSON: ${reason}${/[.!?]$/.test(reason) ? '' : '.'}` };
  }
  if (!isObject(json)) return { ok: false, error: 'Must be a JSON Schema object, such as {"type": "object", "properties": {…}}, or empty for free text.' };
  if (json.type !== 'object') return { ok: false, error: 'Must describe an object: its top level needs "type": "object".' };
  const bytes = UTF8.encode(JSON.stringify(json)).length;
  if (bytes > LIMITS.outputSchemaBytes)
    return { ok: false, error: `Must be at most ${LIMITS.outputSchemaBytes / 1024} KiB as JSON (it is ${Math.ceil(bytes / 1024)} KiB).` };
  return { ok: true, schema: json };
}

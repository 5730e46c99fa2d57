import { Ajv, type Options, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { LIMITS } from '../defaults.js';
import { ValidationError } from './errors.js';

/**
 * An agent's `outputSchema`: the JSON Schema its runs' answers must satisfy (the SDK's
 * `outputFormat`; the model answers through a StructuredOutput tool whose input is the object).
 * Checked as a schema when the agent is written, and again against each run's answer.
 */
export type OutputSchema = Record<string, unknown>;

const FIELD = 'outputSchema';

// ajv-formats is CommonJS: its `module.exports` is the plugin, and carries it again as `.default`.
const addFormats = addFormatsModule.default;

type AnyAjv = Ajv | Ajv2019 | Ajv2020;

/** One validator per JSON Schema dialect, made on first use. Not strict: unknown keywords are annotations. */
const instances = new Map<string, AnyAjv>();

function ajvFor(schema: OutputSchema): AnyAjv {
  const declared = typeof schema.$schema === 'string' ? schema.$schema : '';
  const dialect = declared.includes('2020-12') ? '2020-12' : declared.includes('2019-09') ? '2019-09' : 'draft-07';
  let ajv = instances.get(dialect);
  if (!ajv) {
    const options: Options = { strict: false, allErrors: false, logger: false };
    ajv = dialect === '2020-12' ? new Ajv2020(options) : dialect === '2019-09' ? new Ajv2019(options) : new Ajv(options);
    addFormats(ajv);
    instances.set(dialect, ajv);
  }
  return ajv;
}

/** Compiled validators by schema text; a run's check reuses its agent's. Bounded: schemas change. */
const compiled = new Map<string, ValidateFunction>();
const COMPILED_MAX = 100;

function isPlainObject(value: unknown): value is OutputSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The validator of `schema`; throws ajv's reason when it is not a schema ajv can compile. */
function validatorOf(schema: OutputSchema): ValidateFunction {
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known) return known;
  const ajv = ajvFor(schema);
  if (!ajv.validateSchema(schema)) throw new Error(ajv.errorsText(ajv.errors, { dataVar: FIELD }));
  const validate = ajv.compile(schema);
  if (compiled.size >= COMPILED_MAX) compiled.delete(compiled.keys().next().value ?? '');
  compiled.set(key, validate);
  return validate;
}

/**
 * An outputSchema as a request carries it, checked: null (free-text answers), or a JSON Schema
 * object of an object, at most LIMITS.outputSchemaBytes as JSON, that ajv compiles. A problem is
 * a ValidationError naming `outputSchema`, with ajv's reason.
 */
export function parseOutputSchema(value: unknown): OutputSchema | null {
  if (value === null) return null;
  if (!isPlainObject(value)) throw ValidationError.field(FIELD, 'must be a JSON Schema object, or null');
  const bytes = new TextEncoder().encode(JSON.stringify(value)).length;
  if (bytes > LIMITS.outputSchemaBytes) throw ValidationError.field(FIELD, `must be at most ${LIMITS.outputSchemaBytes} bytes as JSON (it is ${bytes})`);
  // The model answers through a tool, and a tool's input is an object.
  if (value.type !== 'object') throw ValidationError.field(FIELD, 'must describe an object: its top level needs "type": "object"');
  try {
    validatorOf(value);
  } catch (error) {
    throw ValidationError.field(FIELD, `is not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`);
  }
  return value;
}

/** Why `answer` does not satisfy `schema` (ajv's words), or null when it does. */
export function outputMismatch(schema: OutputSchema, answer: unknown): string | null {
  let validate: ValidateFunction;
  try {
    validate = validatorOf(schema);
  } catch (error) {
    return `the agent's outputSchema no longer compiles: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (validate(answer)) return null;
  return ajvFor(schema).errorsText(validate.errors, { dataVar: 'output' });
}

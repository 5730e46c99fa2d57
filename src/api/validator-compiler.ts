import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { LIMITS } from '../defaults.js';

// ajv-formats is CommonJS: its `module.exports` is the plugin, and carries it again as `.default`.
const addFormats = addFormatsModule.default;

/**
 * Bodies are validated strictly (no type coercion: `"5"` is not a number, unknown fields are
 * refused); query strings and params are text by nature, so they are coerced.
 */
function makeAjv(coerceTypes: boolean, allErrors: boolean): Ajv {
  const ajv = new Ajv({ coerceTypes, useDefaults: false, removeAdditional: false, allErrors, strict: false });
  addFormats(ajv);
  return ajv;
}

/** Whether `value` holds at most `budget` values (itself, and every property and item within). Stops counting at the budget. */
function withinNodes(value: unknown, budget: number): boolean {
  let left = budget;
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (--left < 0) return false;
    if (next === null || typeof next !== 'object') continue;
    for (const key in next) {
      if (--left < 0) return false;
      pending.push(Reflect.get(next, key));
    }
  }
  return true;
}

/**
 * Validation that stops early on what no one writes by hand: a value is checked up to its first
 * error, and only a value of at most LIMITS.fullValidationNodes values is checked again for every
 * error (so a client learns all its wrong fields at once). A body of 60,000 unknown keys costs one
 * error, not 60,000.
 */
function bounded(first: ValidateFunction, every: () => ValidateFunction) {
  // Fastify hands ajv the request as the parent (so a coerced root value lands) when it sees schemaEnv.
  const properties: Pick<ValidateFunction, 'schemaEnv' | 'schema' | 'errors'> = { schemaEnv: first.schemaEnv, schema: first.schema, errors: null };
  const validate = Object.assign((data: unknown, context?: Parameters<ValidateFunction>[1]): boolean => {
    if (first(data, context)) return true;
    const all = withinNodes(data, LIMITS.fullValidationNodes) ? every() : null;
    validate.errors = all && !all(data, context) ? all.errors : first.errors;
    return false;
  }, properties);
  return validate;
}

/** The validators of every route: bodies strict, query strings and params coerced, each bounded as above. */
export function validatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const body = { first: makeAjv(false, false), every: makeAjv(false, true) };
  const text = { first: makeAjv(true, false), every: makeAjv(true, true) };
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? body : text;
    // The every-error validator is compiled when first needed: most schemas never see a bad value.
    let every: ValidateFunction | null = null;
    return bounded(ajv.first.compile(schema), () => (every ??= ajv.every.compile(schema)));
  };
}

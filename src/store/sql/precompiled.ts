import { CompiledQuery, type Compilable, type QueryExecutor, type QueryResult } from 'kysely';
import type { ReadNow } from '../dialect.js';

/**
 * A query compiled once and run many times with other values. Building and compiling a Kysely
 * query costs more than a point lookup itself; the hottest queries (authentication, one agent)
 * are compiled on first use with stand-ins for their arguments, then only the values change.
 *
 * `build` must use each argument as a plain value (it becomes one bound parameter); literal
 * values the builder parameterises on its own (e.g. LIMIT) keep the values compiled first.
 */
export function precompiled<Row>(arity: number, build: (...args: string[]) => Compilable<Row>, readNow?: ReadNow) {
  const standIns = Array.from({ length: arity }, (_, i) => `\u0000arg${i}:${Math.random()}\u0000`);
  let template: CompiledQuery<Row> | null = null;
  return async (executor: { executeQuery: QueryExecutor['executeQuery'] }, ...args: unknown[]): Promise<QueryResult<Row>> => {
    template ??= build(...standIns).compile();
    const parameters = template.parameters.map((value) => {
      const index = typeof value === 'string' ? standIns.indexOf(value) : -1;
      return index >= 0 ? args[index] : value;
    });
    const rows = readNow?.(executor, template.sql, parameters);
    if (rows) return { rows: rows as Row[] };
    return executor.executeQuery<Row>(CompiledQuery.raw(template.sql, parameters));
  };
}

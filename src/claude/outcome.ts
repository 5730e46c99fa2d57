import type { SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import { outputMismatch, type OutputSchema } from '../domain/output-schema.js';
import type { RunOutcome, RunUsage } from '../domain/types.js';
import { ZERO_USAGE } from '../domain/types.js';
import { maxUsage, usageFromResult, type ResultUsageLike } from './usage.js';

/** The fields of an SDK result message that the mapping reads; every `SDKResultMessage` is one. */
export interface ResultLike extends ResultUsageLike {
  subtype: string;
  is_error: boolean;
  /** Final text (subtype `success`), or the API error text when `is_error` is true. */
  result?: string;
  /** Why an error subtype stopped. */
  errors?: string[];
  api_error_status?: number | null;
  /** The StructuredOutput tool's input, when the run had an outputSchema. */
  structured_output?: unknown;
}

// Compile-time check that the SDK's result messages fit ResultLike.
const _resultFits = (r: SDKResultMessage): ResultLike => r;
void _resultFits;

export interface MapResultInput {
  /** The result message the run ended with, if one arrived. */
  result: ResultLike | null;
  /** Usage accrued while running (assistant messages, usage snapshots); a floor for the final usage. */
  accrued?: RunUsage;
  /** The run was cancelled through its signal (before it produced a result of its own). */
  cancelled?: boolean;
  /** What the SDK threw, if anything. Ignored when a result arrived. */
  thrown?: unknown;
  /** Limits of the run, for the messages. */
  maxTurns?: number;
  maxBudgetUsd?: number | null;
  /** The schema the answer must satisfy; absent or null: free text. */
  outputSchema?: OutputSchema | null;
}

function errorMessage(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message || thrown.name || 'The agent failed';
  if (typeof thrown === 'string' && thrown) return thrown;
  return 'The agent failed';
}

function joinErrors(errors: string[] | undefined): string {
  return (errors ?? []).filter((e) => typeof e === 'string' && e.trim() !== '').join('\n');
}

/**
 * Maps how an SDK query ended to a run outcome:
 * - cancelled (signal) -> `cancelled`, "Cancelled";
 * - result `success` with `is_error` false -> `success`, the result text;
 * - `error_max_budget_usd` -> `budget_exceeded`;
 * - with an outputSchema: a success whose structured output is missing or does not satisfy it,
 *   and `error_max_structured_output_retries` (the CLI gave up asking for one) -> `error`, saying why;
 * - `error_max_turns`, `error_during_execution`, any other error subtype, `is_error` true with
 *   subtype `success` (an API error), a thrown SDK error, or no result at all -> `error`.
 * Usage is the result's usage, never below what had accrued.
 */
export function mapResult(input: MapResultInput): RunOutcome {
  const { result } = input;
  const accrued = input.accrued ?? ZERO_USAGE;
  const usage = result ? maxUsage(accrued, usageFromResult(result)) : { ...accrued };

  if (input.cancelled) return { status: 'cancelled', output: 'Cancelled', ...usage };

  if (!result) {
    const output = input.thrown !== undefined ? errorMessage(input.thrown) : 'The agent ended without a result';
    return { status: 'error', output, ...usage };
  }

  switch (result.subtype) {
    case 'success': {
      if (!result.is_error) return answered(result, input.outputSchema ?? null, usage);
      const text = result.result?.trim();
      const status = result.api_error_status;
      return { status: 'error', output: text || (status ? `API error ${status}` : 'The agent ended with an error'), ...usage };
    }
    case 'error_max_budget_usd': {
      const limit = input.maxBudgetUsd != null ? ` ($${input.maxBudgetUsd})` : '';
      return { status: 'budget_exceeded', output: `Stopped after reaching the budget limit${limit}`, ...usage };
    }
    case 'error_max_structured_output_retries': {
      const errors = joinErrors(result.errors);
      // The CLI's own words say why ("Failed to provide valid structured output after 5 attempts — ...").
      return { status: 'error', output: errors || "The agent's answer did not match its outputSchema", ...usage };
    }
    case 'error_max_turns': {
      const limit = input.maxTurns !== undefined ? ` (${input.maxTurns})` : '';
      return { status: 'error', output: `Stopped after reaching the turn limit${limit}`, ...usage };
    }
    case 'error_during_execution': {
      const errors = joinErrors(result.errors);
      return { status: 'error', output: `The agent failed during execution${errors ? `: ${errors}` : ''}`, ...usage };
    }
    default: {
      const errors = joinErrors(result.errors);
      return { status: 'error', output: errors || `The agent stopped: ${result.subtype}`, ...usage };
    }
  }
}

/** A successful answer: its text, and with an outputSchema the structured output, checked against it. */
function answered(result: ResultLike, schema: OutputSchema | null, usage: RunUsage): RunOutcome {
  const output = result.result ?? '';
  if (!schema) return { status: 'success', output, ...usage };
  if (result.structured_output === undefined || result.structured_output === null) {
    return { status: 'error', output: 'The agent answered without the structured output its outputSchema asks for', ...usage };
  }
  const mismatch = outputMismatch(schema, result.structured_output);
  if (mismatch !== null) return { status: 'error', output: `The agent's answer does not match its outputSchema: ${mismatch}`, ...usage };
  return { status: 'success', output, structuredOutput: result.structured_output, ...usage };
}

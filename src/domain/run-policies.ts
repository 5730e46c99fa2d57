import { LIMITS } from '../defaults.js';
import type { Run } from './types.js';

/**
 * The retry and pause rules of an agent's runs (issue 11), as pure functions; the store applies
 * them in the transaction that ends a run (sql/run-endings.ts).
 */

/** The longest wait before a retry, whatever the attempt. */
export const MAX_RETRY_DELAY_MS = LIMITS.retryDelaySeconds * 1000;

/**
 * The wait before the retry of a run that failed on `attempt` (1 for a first run): the agent's
 * retryDelaySeconds, doubled for each attempt after the first, at most an hour.
 */
export function retryDelayMs(retryDelaySeconds: number, attempt: number): number {
  const doublings = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(retryDelaySeconds * 1000 * 2 ** doublings, MAX_RETRY_DELAY_MS);
}

/** How much of the last failure's output a pause reason quotes. */
const QUOTED_OUTPUT_CHARS = 200;

/** Why the service paused an agent: `failures` failed runs in a row, the last of them `last`. */
export function pausedReason(failures: number, last: Pick<Run, 'id' | 'status' | 'output'>): string {
  const firstLine = (last.output ?? '').trim().split('\n')[0] ?? '';
  const quoted = firstLine.length > QUOTED_OUTPUT_CHARS ? `${firstLine.slice(0, QUOTED_OUTPUT_CHARS - 1)}…` : firstLine;
  const runs = failures === 1 ? 'a failed run' : `${failures} failed runs in a row`;
  return `Paused after ${runs} (pauseAfterFailures); the last, ${last.id}, ended as ${last.status}${quoted ? `: ${quoted}` : ''}.`;
}

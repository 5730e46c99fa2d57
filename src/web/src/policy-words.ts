import type { OverlapPolicy } from '../../domain/types';
import type { Agent } from './api';
import { usd } from './format';

/** An agent's caps and scheduling policies in words, for its page and its form. */

export const OVERLAP_LABELS: Record<OverlapPolicy, string> = {
  skip: 'Skip the slot',
  queue: 'Queue one slot',
  allow: 'Run at the same time',
  replace: 'Cancel the running run',
};

export const OVERLAP_HINTS: Record<OverlapPolicy, string> = {
  skip: 'The slot is recorded as a skipped run.',
  queue: 'At most one slot waits; it starts when the running run ends.',
  allow: 'Runs overlap; each costs its own money.',
  replace: 'The running run is cancelled, then the slot starts.',
};

/** "$2.00 a day · $40.00 a month", or null without caps. */
export function capsWords(agent: Pick<Agent, 'dailyBudgetUsd' | 'monthlyBudgetUsd'>): string | null {
  const caps = [
    agent.dailyBudgetUsd === null ? null : `${usd(agent.dailyBudgetUsd)} a day`,
    agent.monthlyBudgetUsd === null ? null : `${usd(agent.monthlyBudgetUsd)} a month`,
  ].filter((words): words is string => words !== null);
  return caps.length === 0 ? null : caps.join(' · ');
}

/** "Up to 3 retries, after 60 s (doubled each time, at most 1 h)", or "No retries". */
export function retryWords(agent: Pick<Agent, 'maxRetries' | 'retryDelaySeconds'>): string {
  if (agent.maxRetries === 0) return 'No retries';
  return `Up to ${agent.maxRetries} ${agent.maxRetries === 1 ? 'retry' : 'retries'} of a failed run, after ${agent.retryDelaySeconds} s (doubled each time, at most 1 h)`;
}

export function pauseWords(agent: Pick<Agent, 'pauseAfterFailures'>): string {
  const n = agent.pauseAfterFailures;
  return n === null ? 'Never paused for failures' : `Paused after ${n} failed ${n === 1 ? 'run' : 'runs'} in a row`;
}

import type { AgentStats, Forecast } from './api';
import { usd } from './format';

/** Spend against the caps, in words: which caps are used up or past their warning, and the month's projection. */

export type Spend = AgentStats['spend'];
export type CapWindow = 'day' | 'month';

/** The server's default warnAtPercent; only admins may read the deployment's setting (GET /api/budget). */
export const DEFAULT_WARN_AT_PERCENT = 80;

/** A cap is used up when what is left of it is at most this (the server's rule, domain/budgets.ts). */
const USED_UP_REMAINDER = 0.000001;

export interface CapState {
  window: CapWindow;
  capUsd: number;
  spentUsd: number;
  /** Of the cap, rounded down (a cap of 0 is 100% used). */
  percent: number;
  level: 'ok' | 'warning' | 'exhausted';
}

/** Each cap that is set, with how much of it is spent and whether that calls for a warning. */
export function capStates(spend: Spend, warnAtPercent: number): CapState[] {
  const caps: [CapWindow, number | null, number][] = [
    ['day', spend.dailyCapUsd, spend.todayUsd],
    ['month', spend.monthlyCapUsd, spend.monthUsd],
  ];
  return caps.flatMap(([window, capUsd, spentUsd]) => {
    if (capUsd === null) return [];
    const percent = capUsd > 0 ? Math.floor((spentUsd / capUsd) * 100) : 100;
    const level = capUsd - spentUsd <= USED_UP_REMAINDER ? 'exhausted' : spentUsd >= (capUsd * warnAtPercent) / 100 ? 'warning' : 'ok';
    return [{ window, capUsd, spentUsd, percent, level }];
  });
}

const WINDOW_WORDS: Record<CapWindow, { cap: string; spent: string; until: string }> = {
  day: { cap: 'daily cap', spent: 'today', until: 'the day ends (00:00 UTC)' },
  month: { cap: 'monthly cap', spent: 'this month', until: 'the month ends (UTC)' },
};

/** The banner's sentence for a cap used up or past its warning. `whose`: "The deployment", or an agent's name. */
export function capMessage(state: CapState, whose: string): string {
  const words = WINDOW_WORDS[state.window];
  if (state.level === 'exhausted') {
    return `${whose}'s ${words.cap} of ${usd(state.capUsd)} is used up (${usd(state.spentUsd)} spent ${words.spent}): runs are skipped until ${words.until}.`;
  }
  return `${whose} has spent ${usd(state.spentUsd)} of its ${usd(state.capUsd)} ${words.cap} ${words.spent} (${state.percent}%).`;
}

/** This month's spend so far plus what the rest of the month's slots will cost at recent cost; null without runs to go by. */
export function monthProjection(spend: Spend, forecast: Forecast | null): { p50: number; p95: number } | null {
  const rest = forecast?.restOfMonth.projectedUsd;
  if (!rest || rest.p50 === null || rest.p95 === null) return null;
  return { p50: spend.monthUsd + rest.p50, p95: spend.monthUsd + rest.p95 };
}

/** "about $12.40 a month at recent cost", from a 30-day forecast; null when there are no runs to go by. */
export function monthlyCostWords(forecast: Forecast): string | null {
  const { p50 } = forecast.projectedUsd;
  if (p50 === null) return null;
  const perMonth = forecast.days === 30 ? p50 : (p50 / forecast.days) * 30;
  return `about ${usd(perMonth)} a month at recent cost`;
}

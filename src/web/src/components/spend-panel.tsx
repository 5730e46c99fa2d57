import type { ComponentChildren } from 'preact';
import { getBudget, type Forecast } from '../api';
import { count, usd } from '../format';
import { useLive } from '../hooks';
import { useSession } from '../session';
import { DEFAULT_WARN_AT_PERCENT, capMessage, capStates, monthProjection, type CapState, type Spend } from '../spend';
import { AlertIcon } from './icons';
import '../spend-and-policies.css';

/** Spend against the caps and the forecast: the banner of a cap used up or past its warning, and the figures (agent page and overview). */

/** How often the forecast and the budget settings are asked again: they change slowly, and a forecast costs the server more than a list. */
export const SLOW_POLL_MS = 60_000;

/** The deployment's warnAtPercent for an admin (GET /api/budget); others may not read it and see warnings at the default, 80%. */
export function useWarnAtPercent(): number {
  const admin = useSession().user.role === 'admin';
  const budget = useLive(() => (admin ? getBudget() : Promise.resolve(null)), [admin], SLOW_POLL_MS);
  return budget.data?.warnAtPercent ?? DEFAULT_WARN_AT_PERCENT;
}

/** One line per cap used up (an alert) or past its warning. `whose`: "The deployment" or the agent's name. */
export function SpendBanner({ spend, warnAtPercent, whose }: { spend: Spend; warnAtPercent: number; whose: string }) {
  const states = capStates(spend, warnAtPercent).filter((state) => state.level !== 'ok');
  return (
    <>
      {states.map((state) => (
        <div
          key={state.window}
          class={state.level === 'exhausted' ? 'notice notice-error' : 'notice notice-warning'}
          role={state.level === 'exhausted' ? 'alert' : 'status'}
          data-testid={`spend-banner-${state.window}`}
        >
          <AlertIcon />
          <div>{capMessage(state, whose)}</div>
        </div>
      ))}
    </>
  );
}

function CapFigure({ label, spent, cap, state, testId }: { label: string; spent: number; cap: number | null; state: CapState | undefined; testId: string }) {
  const percent = state ? Math.min(100, state.percent) : 0;
  return (
    <div class={`spend-figure spend-${state?.level ?? 'ok'}`} data-testid={testId}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">
        {usd(spent)}
        <span class="spend-cap"> {cap === null ? 'no cap' : `of ${usd(cap)}`}</span>
      </div>
      {cap !== null ? (
        <div class="spend-bar" aria-hidden="true">
          <span style={{ width: `${percent}%` }} />
        </div>
      ) : null}
      {state ? <div class="stat-hint">{state.level === 'exhausted' ? 'Used up' : `${state.percent}% of the cap`}</div> : null}
    </div>
  );
}

function Figure({ label, value, hint, testId }: { label: string; value: ComponentChildren; hint: ComponentChildren; testId: string }) {
  return (
    <div class="spend-figure" data-testid={testId}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      <div class="stat-hint">{hint}</div>
    </div>
  );
}

interface SpendFiguresProps {
  spend: Spend;
  forecast: Forecast | null;
  warnAtPercent: number;
  /** Said under the projection when it is null: why there is none. */
  noRunsWords: string;
}

/** Month-to-date and today's spend against the caps, the projection for the month and the next 30 days. */
export function SpendFigures({ spend, forecast, warnAtPercent, noRunsWords }: SpendFiguresProps) {
  const states = capStates(spend, warnAtPercent);
  const projection = monthProjection(spend, forecast);
  const next30 = forecast?.projectedUsd ?? null;
  const overCap = projection !== null && spend.monthlyCapUsd !== null && projection.p50 > spend.monthlyCapUsd;
  return (
    <div class="spend-grid">
      <CapFigure
        label="This month (UTC)"
        spent={spend.monthUsd}
        cap={spend.monthlyCapUsd}
        state={states.find((s) => s.window === 'month')}
        testId="spend-month"
      />
      <CapFigure label="Today (UTC)" spent={spend.todayUsd} cap={spend.dailyCapUsd} state={states.find((s) => s.window === 'day')} testId="spend-today" />
      <Figure
        label="Projected for the month"
        testId="spend-projection"
        value={projection ? usd(projection.p50) : '—'}
        hint={
          !forecast ? (
            'Estimating…'
          ) : projection ? (
            <>
              Up to {usd(projection.p95)} (p95) · {count(forecast.restOfMonth.fires)} more {forecast.restOfMonth.fires === 1 ? 'run' : 'runs'} due
              {overCap ? <strong class="spend-over"> · more than the monthly cap: runs will be skipped once it is used up</strong> : null}
            </>
          ) : (
            noRunsWords
          )
        }
      />
      <Figure
        label={`Next ${forecast?.days ?? 30} days`}
        testId="spend-forecast"
        value={next30?.p50 === null || next30 === null ? '—' : usd(next30.p50)}
        hint={
          forecast ? (
            <>
              {count(forecast.fires)} scheduled {forecast.fires === 1 ? 'run' : 'runs'}
              {forecast.costPerRun.p50 === null
                ? null
                : ` at ${usd(forecast.costPerRun.p50)} each (median of the last ${count(forecast.costPerRun.basedOnRuns)})`}
            </>
          ) : (
            'Estimating…'
          )
        }
      />
    </div>
  );
}

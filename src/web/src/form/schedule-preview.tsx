import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, previewSchedule, type Forecast, type SchedulePreview } from '../api';
import { count, inTimezone, usd } from '../format';
import { hasSeconds } from '../schedule';
import { monthlyCostWords } from '../spend';

export interface PreviewState {
  loading: boolean;
  data: SchedulePreview | null;
  error: string | null;
}

function previewProblem(error: unknown): string {
  if (!(error instanceof ApiError)) return String(error);
  return error.details.map((d) => `${d.field === 'timezone' ? 'Timezone' : 'Schedule'}: ${d.message}`).join('; ') || error.message;
}

/** Asks the server (the same validator as saving uses) a moment after typing stops; with an agent, for the cost too. */
export function useSchedulePreview(expression: string, timezone: string, agentId: string | null = null): PreviewState {
  const [state, setState] = useState<PreviewState>({ loading: true, data: null, error: null });
  const sequence = useRef(0);
  useEffect(() => {
    const mine = ++sequence.current;
    setState((s) => ({ ...s, loading: true }));
    const timer = setTimeout(() => {
      previewSchedule(expression, timezone.trim() || 'UTC', agentId).then(
        (data) => mine === sequence.current && setState({ loading: false, data, error: null }),
        (error: unknown) => mine === sequence.current && setState({ loading: false, data: null, error: previewProblem(error) }),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [expression, timezone, agentId]);
  return state;
}

/**
 * "About $X a month at recent cost" for the schedule as typed, from the agent's latest runs, and a
 * word when that passes the monthly cap as typed (`monthlyCap`: the field's text).
 */
function ScheduleCost({ forecast, monthlyCap }: { forecast: Forecast; monthlyCap: string }) {
  const words = monthlyCostWords(forecast);
  if (words === null) {
    return (
      <p class="schedule-cost muted small" data-testid="schedule-cost">
        No finished runs yet to estimate what it will cost.
      </p>
    );
  }
  const cap = monthlyCap.trim() === '' ? null : Number(monthlyCap);
  const { p50, p95 } = forecast.projectedUsd;
  return (
    <p class="schedule-cost" data-testid="schedule-cost">
      <strong>{words.charAt(0).toUpperCase() + words.slice(1)}</strong>
      <span class="muted small">
        {' '}
        · {count(forecast.fires)} runs in the next {forecast.days} days, up to {usd(p95 ?? 0)} at the 95th percentile · from the last{' '}
        {count(forecast.costPerRun.basedOnRuns)} {forecast.costPerRun.basedOnRuns === 1 ? 'run' : 'runs'}
      </span>
      {cap !== null && Number.isFinite(cap) && p50 !== null && p50 > cap ? (
        <span class="spend-over small"> More than the monthly cap of {usd(cap)}: runs will be skipped once it is used up.</span>
      ) : null}
    </p>
  );
}

function NextRuns({ preview, seconds }: { preview: SchedulePreview; seconds: boolean }) {
  return (
    <>
      <p class="schedule-words" data-testid="schedule-description">
        {preview.description ?? 'Valid schedule'}
        <span class="muted"> · {preview.timezone}</span>
      </p>
      <div class="muted small">Next runs</div>
      <ol class="next-runs" data-testid="next-runs">
        {preview.nextRuns.map((run) => (
          <li key={run}>
            <time dateTime={run}>{inTimezone(run, preview.timezone, seconds)}</time>
          </li>
        ))}
      </ol>
    </>
  );
}

interface PreviewBoxProps {
  expression: string;
  timezone: string;
  preview: PreviewState;
  /** The monthly cap as typed, compared with the cost forecast (when the preview has one). */
  monthlyCap?: string;
}

/** The expression a preset stands for, in words, with its next runs (or the server's objection), and its cost when editing an agent. */
export function SchedulePreviewBox({ expression, timezone, preview, monthlyCap = '' }: PreviewBoxProps) {
  return (
    <div class={preview.error ? 'schedule-preview invalid' : 'schedule-preview'} id="schedule-preview" aria-live="polite" data-testid="schedule-preview">
      <div class="schedule-expression">
        <span class="muted">Cron expression</span> <code data-testid="schedule-expression">{expression || '—'}</code>
      </div>
      {preview.error ? (
        <p class="field-error" data-testid="schedule-preview-error">
          {preview.error}
        </p>
      ) : preview.data ? (
        <>
          <NextRuns preview={preview.data} seconds={hasSeconds(expression)} />
          {preview.data.forecast ? <ScheduleCost forecast={preview.data.forecast} monthlyCap={monthlyCap} /> : null}
        </>
      ) : (
        <p class="muted">{preview.loading ? 'Checking the schedule…' : ' '}</p>
      )}
      {preview.loading && preview.data ? <span class="sr-only">Updating…</span> : null}
      {timezone.trim() === '' ? <p class="muted small">No timezone given: UTC.</p> : null}
    </div>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, previewSchedule, type SchedulePreview } from '../api';
import { inTimezone } from '../format';
import { hasSeconds } from '../schedule';

export interface PreviewState {
  loading: boolean;
  data: SchedulePreview | null;
  error: string | null;
}

function previewProblem(error: unknown): string {
  if (!(error instanceof ApiError)) return String(error);
  return error.details.map((d) => `${d.field === 'timezone' ? 'Timezone' : 'Schedule'}: ${d.message}`).join('; ') || error.message;
}

/** Asks the server (the same validator as saving uses) a moment after typing stops. */
export function useSchedulePreview(expression: string, timezone: string): PreviewState {
  const [state, setState] = useState<PreviewState>({ loading: true, data: null, error: null });
  const sequence = useRef(0);
  useEffect(() => {
    const mine = ++sequence.current;
    setState((s) => ({ ...s, loading: true }));
    const timer = setTimeout(() => {
      previewSchedule(expression, timezone.trim() || 'UTC').then(
        (data) => mine === sequence.current && setState({ loading: false, data, error: null }),
        (error: unknown) => mine === sequence.current && setState({ loading: false, data: null, error: previewProblem(error) }),
      );
    }, 250);
    return () => clearTimeout(timer);
  }, [expression, timezone]);
  return state;
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

/** The expression a preset stands for, in words, with its next runs (or the server's objection). */
export function SchedulePreviewBox({ expression, timezone, preview }: { expression: string; timezone: string; preview: PreviewState }) {
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
        <NextRuns preview={preview.data} seconds={hasSeconds(expression)} />
      ) : (
        <p class="muted">{preview.loading ? 'Checking the schedule…' : ' '}</p>
      )}
      {preview.loading && preview.data ? <span class="sr-only">Updating…</span> : null}
      {timezone.trim() === '' ? <p class="muted small">No timezone given: UTC.</p> : null}
    </div>
  );
}

import type { ComponentChildren } from 'preact';
import { PERIODS } from '../../../domain/types';
import type { Agent, Period, RunStatus } from '../api';
import type { AgentActions } from '../agent-actions';
import { fromNow, longDateTime } from '../format';
import { AlertIcon, BanIcon, CheckIcon, ClockIcon, CoinIcon, Spinner, XIcon } from './icons';

/** Small shared pieces: status badges, times, stat cards, the period picker, notices, the enabled switch. */

const STATUS: Record<RunStatus, { label: string; icon: () => preact.JSX.Element }> = {
  queued: { label: 'Queued', icon: () => <ClockIcon /> },
  running: { label: 'Running', icon: () => <Spinner /> },
  success: { label: 'Success', icon: () => <CheckIcon /> },
  error: { label: 'Error', icon: () => <XIcon /> },
  budget_exceeded: { label: 'Budget exceeded', icon: () => <CoinIcon /> },
  cancelled: { label: 'Cancelled', icon: () => <BanIcon /> },
  skipped: { label: 'Skipped', icon: () => <BanIcon /> },
};

/** A run status as icon + word (never colour alone). */
export function StatusBadge({ status }: { status: RunStatus | null }) {
  if (status === null) return <span class="badge badge-none">Never run</span>;
  const { label, icon } = STATUS[status];
  return (
    <span class={`badge badge-${status}`} data-status={status}>
      {icon()}
      <span>{label}</span>
    </span>
  );
}

/** A relative time with the full instant in a tooltip and the machine-readable value. */
export function TimeAgo({ iso }: { iso: string | null; /** Re-render trigger (useNow); the time is read at render. */ now?: number }) {
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={longDateTime(iso)}>
      {fromNow(iso, Date.now())}
    </time>
  );
}

export function StatCard({ label, value, hint, testId }: { label: string; value: ComponentChildren; hint?: ComponentChildren; testId?: string }) {
  return (
    <div class="stat" data-testid={testId}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {hint ? <div class="stat-hint">{hint}</div> : null}
    </div>
  );
}

const PERIOD_LABELS: Record<Period, string> = { '24h': '24 hours', '7d': '7 days', '30d': '30 days' };

/** A segmented control of radio buttons (arrow keys move between them, as with any radio group). */
export function PeriodPicker({ value, onChange, name = 'period' }: { value: Period; onChange: (p: Period) => void; name?: string }) {
  return (
    <fieldset class="segmented">
      <legend class="sr-only">Period</legend>
      {PERIODS.map((period) => (
        <label key={period} class={period === value ? 'checked' : ''} title={`Last ${PERIOD_LABELS[period]}`}>
          <input type="radio" name={name} value={period} checked={period === value} onChange={() => onChange(period)} />
          <span>{period}</span>
        </label>
      ))}
    </fieldset>
  );
}

export function periodWords(period: Period): string {
  return `last ${PERIOD_LABELS[period]}`;
}

/** A page-level message; errors are announced. */
export function Notice({ kind, children }: { kind: 'error' | 'info'; children: ComponentChildren }) {
  return (
    <div class={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {kind === 'error' ? <AlertIcon /> : null}
      <div>{children}</div>
    </div>
  );
}

/** A running indicator: spinner and word. */
export function RunningTag() {
  return (
    <span class="badge badge-running" data-status="running">
      <Spinner />
      <span>Running</span>
    </span>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div class="loading" role="status">
      <Spinner />
      <span>{label}</span>
    </div>
  );
}

/** The enabled switch of an agent, or its state as text for those who may not change it. */
export function EnabledSwitch({ agent, canWrite, actions }: { agent: Agent; canWrite: boolean; actions: AgentActions }) {
  if (!canWrite) return <span class={agent.enabled ? 'pill pill-on' : 'pill pill-off'}>{agent.enabled ? 'On' : 'Off'}</span>;
  return (
    <label class="switch">
      <input
        type="checkbox"
        role="switch"
        checked={agent.enabled}
        disabled={actions.busy(agent.id, 'enabled')}
        onChange={(e) => actions.setEnabled(agent, e.currentTarget.checked)}
        aria-label={`Enabled: ${agent.name}`}
      />
      <span class="switch-text">{agent.enabled ? 'On' : 'Off'}</span>
    </label>
  );
}

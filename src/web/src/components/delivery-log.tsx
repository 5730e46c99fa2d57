import { useState } from 'preact/hooks';
import { listDeliveries, retryDelivery, type Delivery } from '../api';
import { useLive } from '../hooks';
import { EVENT_LABELS } from '../webhook-words';
import { Loading, Notice, TimeAgo } from './bits';
import { toast } from './feedback';
import { CheckIcon, ClockIcon, RetryIcon, XIcon } from './icons';

const SHOWN = 20;

const STATUS: Record<Delivery['status'], { label: string; badge: string; icon: () => preact.JSX.Element }> = {
  pending: { label: 'Pending', badge: 'badge-queued', icon: () => <ClockIcon /> },
  delivered: { label: 'Delivered', badge: 'badge-success', icon: () => <CheckIcon /> },
  failed: { label: 'Failed', badge: 'badge-error', icon: () => <XIcon /> },
};

/** A delivery's status as icon + word (never colour alone). */
function DeliveryStatus({ status }: { status: Delivery['status'] }) {
  const { label, badge, icon } = STATUS[status];
  return (
    <span class={`badge ${badge}`} data-status={status}>
      {icon()}
      <span>{label}</span>
    </span>
  );
}

/**
 * A webhook's latest deliveries, newest first, asked again every few seconds while shown (a
 * pending one turns delivered or failed on its own). Failed ones may be sent again by a member.
 */
export function DeliveryLog({ webhookId, canWrite, version }: { webhookId: string; canWrite: boolean; version: number }) {
  const live = useLive(() => listDeliveries(webhookId, SHOWN), [webhookId, version]);
  const [retrying, setRetrying] = useState<string | null>(null);
  const retry = async (delivery: Delivery) => {
    setRetrying(delivery.id);
    try {
      await retryDelivery(webhookId, delivery.id);
      toast('success', `Sending ${EVENT_LABELS[delivery.eventType].toLowerCase()} again`);
      await live.refresh();
    } catch (error) {
      toast('error', error instanceof Error ? error.message : String(error));
    } finally {
      setRetrying(null);
    }
  };

  if (!live.data) return live.error ? <Notice kind="error">{live.error.message}</Notice> : <Loading label="Loading deliveries…" />;
  if (live.data.length === 0) return <p class="muted small">No deliveries yet.{canWrite ? ' “Send test” sends one now.' : ''}</p>;
  return (
    <table class="table delivery-table" data-testid="delivery-log">
      <caption class="sr-only">Deliveries, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Status</th>
          <th scope="col">Event</th>
          <th scope="col">Attempts</th>
          <th scope="col">Last answer</th>
          <th scope="col">Next attempt</th>
          <th scope="col">Delivered</th>
          {canWrite ? (
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {live.data.map((delivery) => (
          <DeliveryRow key={delivery.id} delivery={delivery} canWrite={canWrite} busy={retrying === delivery.id} onRetry={() => retry(delivery)} />
        ))}
      </tbody>
    </table>
  );
}

function DeliveryRow({ delivery, canWrite, busy, onRetry }: { delivery: Delivery; canWrite: boolean; busy: boolean; onRetry: () => void }) {
  return (
    <tr data-testid="delivery-row" data-status={delivery.status}>
      <td data-label="Status">
        <DeliveryStatus status={delivery.status} />
      </td>
      <td data-label="Event">
        <span class="stack">
          <span>{EVENT_LABELS[delivery.eventType]}</span>
          <span class="muted small">
            <code>{delivery.eventType}</code> · <TimeAgo iso={delivery.createdAt} />
          </span>
        </span>
      </td>
      <td data-label="Attempts">{delivery.attempts}</td>
      <td data-label="Last answer">
        <span class="stack">
          <span>{delivery.lastStatusCode === null ? <span class="muted">—</span> : `HTTP ${delivery.lastStatusCode}`}</span>
          {delivery.lastError ? <span class="delivery-error">{delivery.lastError}</span> : null}
        </span>
      </td>
      <td data-label="Next attempt">
        <TimeAgo iso={delivery.nextAttemptAt} />
      </td>
      <td data-label="Delivered">
        <TimeAgo iso={delivery.deliveredAt} />
      </td>
      {canWrite ? (
        <td class="cell-actions">
          {delivery.status === 'failed' ? (
            <button type="button" class="button button-small" disabled={busy} aria-label={`Retry ${delivery.eventType} delivery`} onClick={onRetry}>
              <RetryIcon />
              Retry
            </button>
          ) : null}
        </td>
      ) : null}
    </tr>
  );
}

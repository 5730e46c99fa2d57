import { useState } from 'preact/hooks';
import { sendTestEvent, updateWebhook, type Agent, type Webhook } from '../api';
import { agentsCovered, EVENT_LABELS, FORMAT_LABELS } from '../webhook-words';
import { TimeAgo } from './bits';
import { DeliveryLog } from './delivery-log';
import { toast } from './feedback';
import { AlertIcon, ChevronIcon, SendIcon, TrashIcon } from './icons';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The enabled switch of a webhook, or its state in words for those who may not change it. */
function WebhookSwitch({ webhook, canWrite, onChanged }: { webhook: Webhook; canWrite: boolean; onChanged: () => Promise<void> }) {
  // What was asked for, shown until the list says so (a controlled box would spring back meanwhile).
  const [asked, setAsked] = useState<boolean | null>(null);
  const enabled = asked ?? webhook.enabled;
  if (!canWrite) return <span class={webhook.enabled ? 'pill pill-on' : 'pill pill-off'}>{webhook.enabled ? 'On' : 'Off'}</span>;
  const change = async (next: boolean) => {
    // Not disabled while asking: a disabled control would drop the keyboard's focus.
    if (asked !== null) return;
    setAsked(next);
    try {
      await updateWebhook(webhook.id, { enabled: next });
      toast('success', `${next ? 'Enabled' : 'Disabled'} ${webhook.name}`);
    } catch (error) {
      toast('error', message(error));
    } finally {
      await onChanged();
      setAsked(null);
    }
  };
  return (
    <label class="switch">
      <input
        type="checkbox"
        role="switch"
        checked={enabled}
        aria-busy={asked !== null}
        onChange={(e) => change(e.currentTarget.checked)}
        aria-label={`Enabled: ${webhook.name}`}
      />
      <span class="switch-text">{enabled ? 'On' : 'Off'}</span>
    </label>
  );
}

interface WebhookCardProps {
  webhook: Webhook;
  agents: readonly Agent[];
  canWrite: boolean;
  onChanged: () => Promise<void>;
  onRotate: () => void;
  onDelete: () => void;
}

/** One webhook: what it sends where, its switch, its actions, and (on demand) its delivery log. */
export function WebhookCard({ webhook, agents, canWrite, onChanged, onRotate, onDelete }: WebhookCardProps) {
  const [logOpen, setLogOpen] = useState(false);
  const [version, setVersion] = useState(0);
  const [testing, setTesting] = useState(false);
  const logId = `deliveries-${webhook.id}`;
  const sendTest = async () => {
    setTesting(true);
    try {
      await sendTestEvent(webhook.id);
      toast('success', `Test event queued for ${webhook.name}`);
      setLogOpen(true);
      setVersion((v) => v + 1);
    } catch (error) {
      toast('error', message(error));
    } finally {
      setTesting(false);
    }
  };

  return (
    <li class="card webhook-card" id={`webhook-${webhook.id}`} data-testid="webhook-card" data-name={webhook.name} aria-labelledby={`${webhook.id}-name`}>
      <div class="webhook-head">
        <h2 id={`${webhook.id}-name`}>{webhook.name}</h2>
        <WebhookSwitch webhook={webhook} canWrite={canWrite} onChanged={onChanged} />
      </div>
      {!webhook.enabled && webhook.disabledReason ? (
        <p class="webhook-disabled" data-testid="disabled-reason">
          <AlertIcon />
          <span>
            <strong>Disabled by the service:</strong> {/[.!?]$/.test(webhook.disabledReason) ? webhook.disabledReason : `${webhook.disabledReason}.`}
            {canWrite ? ' Turn it on again once the receiver is fixed.' : ''}
          </span>
        </p>
      ) : null}
      <WebhookDetails webhook={webhook} agents={agents} />
      <div class="webhook-actions">
        <button type="button" class="button button-quiet log-toggle" aria-expanded={logOpen} aria-controls={logId} onClick={() => setLogOpen(!logOpen)}>
          <ChevronIcon class="icon chevron" />
          Delivery log
        </button>
        {canWrite ? (
          <span class="webhook-buttons">
            <button type="button" class="button button-small" disabled={testing} onClick={sendTest} aria-label={`Send test to ${webhook.name}`}>
              <SendIcon />
              Send test
            </button>
            <button type="button" class="button button-small" onClick={onRotate} aria-label={`Rotate secret of ${webhook.name}`}>
              Rotate secret
            </button>
            <button type="button" class="button button-small button-danger-quiet" onClick={onDelete} aria-label={`Delete ${webhook.name}`}>
              <TrashIcon />
              Delete
            </button>
          </span>
        ) : null}
      </div>
      <div id={logId} hidden={!logOpen}>
        {logOpen ? <DeliveryLog webhookId={webhook.id} canWrite={canWrite} version={version} /> : null}
      </div>
    </li>
  );
}

function WebhookDetails({ webhook, agents }: { webhook: Webhook; agents: readonly Agent[] }) {
  return (
    <dl class="details-grid webhook-details">
      <div class="webhook-url">
        <dt>URL</dt>
        <dd>
          <code>{webhook.url}</code>
        </dd>
      </div>
      <div>
        <dt>Events</dt>
        <dd>
          <span class="tags">
            {webhook.events.map((type) => (
              <code key={type} class="tag" title={EVENT_LABELS[type]}>
                {type}
              </code>
            ))}
          </span>
        </dd>
      </div>
      <div>
        <dt>Agents</dt>
        <dd data-testid="webhook-agents">{agentsCovered(webhook, agents)}</dd>
      </div>
      <div>
        <dt>Format</dt>
        <dd>{FORMAT_LABELS[webhook.format]}</dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>
          <TimeAgo iso={webhook.createdAt} />
        </dd>
      </div>
    </dl>
  );
}

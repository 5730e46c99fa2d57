import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, deleteWebhook, listAgents, listWebhooks, rotateWebhookSecret, type Webhook, type WebhookWithSecret } from '../api';
import { Loading, Notice } from '../components/bits';
import { ConfirmDialog, toast } from '../components/feedback';
import { SecretReveal } from '../components/secret-reveal';
import { WebhookCard } from '../components/webhook-card';
import { WebhookForm } from '../components/webhook-form';
import { useLive, useTitle } from '../hooks';
import { useCanWrite } from '../session';
import '../notifications.css';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Webhooks: where run results and failures are sent, each with its delivery log. The signing
 * secret is shown once, after creation or rotation, and kept only in this page's state.
 */
export function NotificationsPage() {
  useTitle('Notifications');
  const canWrite = useCanWrite();
  const live = useLive(() => Promise.all([listWebhooks(), listAgents()]), []);
  const [webhooks, agents] = live.data ?? [null, null];
  const [revealed, setRevealed] = useState<{ webhook: WebhookWithSecret; rotated: boolean } | null>(null);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [rotating, setRotating] = useState<Webhook | null>(null);
  useScrollToHash(webhooks !== null);

  return (
    <>
      <div class="page-header">
        <div>
          <h1 tabIndex={-1}>Notifications</h1>
          <p class="muted">Webhooks tell people and programs when runs succeed, fail or are cancelled. Deliveries are signed and retried.</p>
        </div>
      </div>
      {revealed ? <SecretReveal webhook={revealed.webhook} rotated={revealed.rotated} onDone={() => setRevealed(null)} /> : null}
      {live.error && !live.data ? <Notice kind="error">{live.error.message}</Notice> : null}
      {!webhooks || !agents ? (
        live.error ? null : (
          <Loading />
        )
      ) : webhooks.length === 0 ? (
        <section class="card empty-state">
          <h2>No webhooks yet</h2>
          <p class="muted">{canWrite ? 'Create one below to hear when an agent fails or finishes.' : 'A member or an admin can create one.'}</p>
        </section>
      ) : (
        <ul class="webhook-list" aria-label="Webhooks">
          {webhooks.map((webhook) => (
            <WebhookCard
              key={webhook.id}
              webhook={webhook}
              agents={agents}
              canWrite={canWrite}
              onChanged={live.refresh}
              onRotate={() => setRotating(webhook)}
              onDelete={() => setDeleting(webhook)}
            />
          ))}
        </ul>
      )}
      {canWrite && agents ? (
        <section class="card">
          <WebhookForm
            agents={agents}
            onCreated={async (webhook) => {
              setRevealed({ webhook, rotated: false });
              await live.refresh();
            }}
          />
        </section>
      ) : null}
      <DeleteWebhookDialog webhook={deleting} onClose={() => setDeleting(null)} onDeleted={live.refresh} />
      <RotateSecretDialog webhook={rotating} onClose={() => setRotating(null)} onRotated={(webhook) => setRevealed({ webhook, rotated: true })} />
    </>
  );
}

/** A link from an agent's page names a webhook (`#webhook-<id>`): once the list is shown, go there. */
function useScrollToHash(ready: boolean): void {
  const done = useRef(false);
  useEffect(() => {
    if (!ready || done.current) return;
    done.current = true;
    const target = window.location.hash ? document.getElementById(decodeURIComponent(window.location.hash.slice(1))) : null;
    if (target) requestAnimationFrame(() => target.scrollIntoView({ block: 'start' }));
  }, [ready]);
}

function DeleteWebhookDialog({ webhook, onClose, onDeleted }: { webhook: Webhook | null; onClose: () => void; onDeleted: () => Promise<void> }) {
  const [busy, setBusy] = useState(false);
  const doDelete = async () => {
    if (!webhook) return;
    setBusy(true);
    try {
      await deleteWebhook(webhook.id);
      toast('success', `Deleted webhook ${webhook.name}`);
    } catch (error) {
      toast('error', error instanceof ApiError && error.status === 404 ? `${webhook.name} was already deleted` : message(error));
    } finally {
      await onDeleted();
      setBusy(false);
      onClose();
    }
  };
  return (
    <ConfirmDialog
      open={webhook !== null}
      title={`Delete webhook ${webhook?.name ?? ''}?`}
      confirmLabel="Delete webhook"
      danger
      busy={busy}
      onConfirm={doDelete}
      onClose={onClose}
    >
      <p>Nothing more is sent to it, deliveries still pending are dropped, and its delivery log is deleted. This cannot be undone.</p>
    </ConfirmDialog>
  );
}

function RotateSecretDialog({
  webhook,
  onClose,
  onRotated,
}: {
  webhook: Webhook | null;
  onClose: () => void;
  onRotated: (webhook: WebhookWithSecret) => void;
}) {
  const [busy, setBusy] = useState(false);
  const doRotate = async () => {
    if (!webhook) return;
    setBusy(true);
    try {
      onRotated(await rotateWebhookSecret(webhook.id));
      toast('success', `New secret for ${webhook.name}`);
    } catch (error) {
      toast('error', message(error));
    } finally {
      setBusy(false);
      onClose();
    }
  };
  return (
    <ConfirmDialog
      open={webhook !== null}
      title={`Rotate the secret of ${webhook?.name ?? ''}?`}
      confirmLabel="Rotate secret"
      busy={busy}
      onConfirm={doRotate}
      onClose={onClose}
    >
      <p>
        A new signing secret is made and shown once. The old one stops signing at once: receivers that check signatures refuse events until they have the new
        one.
      </p>
    </ConfirmDialog>
  );
}

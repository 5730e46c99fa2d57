import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, deleteSecret, listSecrets, type Secret } from '../api';
import { Loading, Notice, TimeAgo } from './bits';
import { ConfirmDialog, toast } from './feedback';
import { SecretForm } from './secret-form';

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function DeleteSecretDialog({
  agentId,
  name,
  onClose,
  onDeleted,
}: {
  agentId: string;
  name: string | null;
  onClose: () => void;
  onDeleted: () => Promise<void>;
}) {
  const [deleting, setDeleting] = useState(false);
  const doDelete = async () => {
    if (name === null) return;
    setDeleting(true);
    try {
      await deleteSecret(agentId, name);
      toast('success', `Deleted secret ${name}`);
      await onDeleted();
    } catch (error) {
      toast('error', error instanceof ApiError && error.status === 404 ? `${name} was already deleted` : message(error));
      await onDeleted();
    } finally {
      setDeleting(false);
      onClose();
    }
  };
  return (
    <ConfirmDialog
      open={name !== null}
      title={`Delete secret ${name ?? ''}?`}
      confirmLabel="Delete secret"
      danger
      busy={deleting}
      onConfirm={doDelete}
      onClose={onClose}
    >
      <p>
        Runs of this agent will no longer get <code>{name}</code>, and settings that refer to <code>{`\${secret:${name ?? ''}}`}</code> will fail its runs. The
        value cannot be recovered.
      </p>
    </ConfirmDialog>
  );
}

function SecretRow({ secret, canWrite, onReplace, onDelete }: { secret: Secret; canWrite: boolean; onReplace: () => void; onDelete: () => void }) {
  return (
    <li data-testid="secret-row" data-name={secret.name}>
      <div class="list-main">
        <code class="secret-name">{secret.name}</code>
        <span class="muted small">
          set <TimeAgo iso={secret.updatedAt} />
        </span>
      </div>
      {canWrite ? (
        <div class="list-side">
          <button type="button" class="button button-small" aria-label={`Replace ${secret.name}`} onClick={onReplace}>
            Replace
          </button>
          <button type="button" class="button button-small button-danger-quiet" aria-label={`Delete ${secret.name}`} onClick={onDelete}>
            Delete
          </button>
        </div>
      ) : null}
    </li>
  );
}

/**
 * An agent's secrets, write-only: their names and when each was set, never a value. Members and
 * admins add, replace and delete them; viewers see the names.
 */
export function AgentSecrets({ agentId, canWrite }: { agentId: string; canWrite: boolean }) {
  const [secrets, setSecrets] = useState<Secret[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [deleting, setDeleting] = useState<string | null>(null);
  const valueRef = useRef<HTMLInputElement>(null);
  const refresh = useCallback(async () => {
    try {
      setSecrets(await listSecrets(agentId));
      setLoadError(null);
    } catch (error) {
      setLoadError(message(error));
    }
  }, [agentId]);
  useEffect(() => void refresh(), [refresh]);

  const replace = (secretName: string) => {
    setName(secretName);
    valueRef.current?.focus();
  };
  return (
    <>
      <div class="section-header">
        <h2 id="secrets-heading">Secrets</h2>
        <span class="muted small">Given to runs as environment variables · write-only</span>
      </div>
      <section class="card secrets" aria-labelledby="secrets-heading" data-testid="secrets">
        {loadError ? <Notice kind="error">{loadError}</Notice> : null}
        {secrets === null ? (
          loadError ? null : (
            <Loading />
          )
        ) : secrets.length === 0 ? (
          <p class="muted">This agent has no secrets.</p>
        ) : (
          <ul class="plain-list secret-list" aria-label="Secrets">
            {secrets.map((secret) => (
              <SecretRow
                key={secret.name}
                secret={secret}
                canWrite={canWrite}
                onReplace={() => replace(secret.name)}
                onDelete={() => setDeleting(secret.name)}
              />
            ))}
          </ul>
        )}
        {canWrite ? (
          <SecretForm agentId={agentId} names={secrets?.map((s) => s.name) ?? []} name={name} onName={setName} valueRef={valueRef} onSaved={refresh} />
        ) : null}
      </section>
      <DeleteSecretDialog agentId={agentId} name={deleting} onClose={() => setDeleting(null)} onDeleted={refresh} />
    </>
  );
}

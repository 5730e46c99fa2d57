import { useEffect, useState } from 'preact/hooks';
import { listWebhooks, type Webhook } from '../api';
import { Link } from '../router';
import { covers } from '../webhook-words';
import { Notice } from './bits';
import '../notifications.css';

/**
 * The webhooks that send this agent's events, each linking to it on the Notifications page. Asked
 * once per visit: the agent page's live polling is for runs, and webhooks change rarely.
 */
export function AgentWebhooks({ agentId }: { agentId: string }) {
  const [webhooks, setWebhooks] = useState<Webhook[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    listWebhooks().then(
      (all) => current && setWebhooks(all.filter((webhook) => covers(webhook, agentId))),
      (caught: unknown) => current && setError(caught instanceof Error ? caught.message : String(caught)),
    );
    return () => {
      current = false;
    };
  }, [agentId]);

  return (
    <>
      <div class="section-header">
        <h2 id="agent-webhooks-heading">Notifications</h2>
        <Link href="/notifications" class="small">
          All webhooks
        </Link>
      </div>
      <section class="card agent-webhooks" aria-labelledby="agent-webhooks-heading" data-testid="agent-webhooks">
        {error ? <Notice kind="error">{error}</Notice> : null}
        {webhooks === null ? (
          error ? null : (
            <p class="muted">Loading webhooks…</p>
          )
        ) : webhooks.length === 0 ? (
          <p class="muted">No webhook sends this agent’s events.</p>
        ) : (
          <ul class="plain-list" aria-label="Webhooks covering this agent">
            {webhooks.map((webhook) => (
              <li key={webhook.id}>
                <div class="list-main">
                  <Link href={`/notifications#webhook-${webhook.id}`}>{webhook.name}</Link>
                  <span class="muted small">
                    {webhook.events.join(', ')}
                    {webhook.agentIds === null ? ' · all agents' : ''}
                  </span>
                </div>
                <span class={webhook.enabled ? 'pill pill-on' : 'pill pill-off'}>{webhook.enabled ? 'On' : 'Off'}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import type { WebhookWithSecret } from '../api';
import { toast } from './feedback';
import { AlertIcon, CheckIcon, CopyIcon } from './icons';

/**
 * A webhook's signing secret, just after creation or rotation: the only time the server gives it
 * out. It lives in this component's props only (never stored), so a reload or "Done" forgets it.
 */
export function SecretReveal({ webhook, rotated, onDone }: { webhook: WebhookWithSecret; rotated: boolean; onDone: () => void }) {
  const ref = useRef<HTMLElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  // Focus moves here, so a keyboard or screen-reader user meets the secret first (on the next
  // frame: a closing confirmation dialog hands focus back to its opener first).
  useEffect(() => {
    const frame = requestAnimationFrame(() => ref.current?.focus());
    return () => cancelAnimationFrame(frame);
  }, [webhook.secret]);

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(webhook.secret);
      setCopied(true);
      toast('success', 'Secret copied');
    } catch {
      inputRef.current?.select();
      toast('error', 'Could not copy: the secret is selected, copy it with Ctrl+C (⌘C)');
    }
  };

  return (
    <section class="card secret-reveal" tabIndex={-1} ref={ref} aria-labelledby="secret-reveal-heading" data-testid="secret-reveal">
      <h2 id="secret-reveal-heading">
        {rotated ? 'New signing secret' : 'Signing secret'} for {webhook.name}
      </h2>
      <p class="secret-warning">
        <AlertIcon />
        <strong>Copy it now: you will not see it again.</strong> Your receiver needs it to check signatures
        {rotated ? '; the old secret has stopped signing.' : '.'}
      </p>
      <div class="secret-copy">
        <label for="webhook-secret" class="sr-only">
          Signing secret
        </label>
        <input id="webhook-secret" ref={inputRef} class="mono" readOnly value={webhook.secret} onFocus={(e) => e.currentTarget.select()} spellcheck={false} />
        <button type="button" class="button" onClick={copy}>
          {copied ? <CheckIcon /> : <CopyIcon />}
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      {webhook.format === 'slack' ? (
        <p class="muted small">Slack messages are not signed: this secret is used only if you switch the format to standard.</p>
      ) : null}
      <div class="form-actions">
        <button type="button" class="button button-primary" onClick={onDone}>
          I have saved it
        </button>
      </div>
    </section>
  );
}

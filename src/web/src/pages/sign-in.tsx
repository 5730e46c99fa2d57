import { useState } from 'preact/hooks';
import { ApiError, signIn, useToken, type Session } from '../api';
import { Notice } from '../components/bits';
import { LogoIcon } from '../components/icons';
import { useTitle } from '../hooks';

function problemText(error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Try again.';
  if (error.status === 429) {
    const minutes = error.retryAfter ? Math.max(1, Math.ceil(error.retryAfter / 60)) : 15;
    return `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  }
  if (error.status === 401)
    return error.message === 'wrong user name or password' ? 'Wrong user name or password.' : 'That token is not valid (or it was revoked).';
  if (error.status === 400) return 'Enter a user name and a password.';
  return error.message;
}

type SignedIn = (session: Session) => void;

/** The page shown to anyone signed out: a password form, and an API token as the other way in. */
export function SignInPage({ reason, onSignedIn }: { reason: string | null; onSignedIn: SignedIn }) {
  useTitle('Sign in');
  // One request at a time, whichever form sent it.
  const [busy, setBusy] = useState(false);
  const attempt = async (signIn: () => Promise<Session>, onProblem: (problem: string) => void) => {
    setBusy(true);
    try {
      onSignedIn(await signIn());
    } catch (error) {
      onProblem(problemText(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <div class="sign-in-card">
        <div class="sign-in-brand">
          <LogoIcon />
          <span>cron-agents</span>
        </div>
        <h1 tabIndex={-1}>Sign in</h1>
        <p class="muted">Claude agents on cron schedules.</p>
        {reason ? <Notice kind="info">{reason}</Notice> : null}
        <PasswordForm busy={busy} attempt={attempt} />
        <details class="token-sign-in">
          <summary>Use an API token instead</summary>
          <TokenForm busy={busy} attempt={attempt} />
        </details>
        <p class="hint sign-in-help">
          No password yet? An admin sets one with <code>cron-agents user password NAME</code>.
        </p>
      </div>
    </main>
  );
}

interface FormProps {
  busy: boolean;
  attempt: (signIn: () => Promise<Session>, onProblem: (problem: string) => void) => Promise<void>;
}

function PasswordForm({ busy, attempt }: FormProps) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    setProblem(null);
    return attempt(
      () => signIn(name.trim(), password),
      (text) => {
        setProblem(text);
        setPassword('');
      },
    );
  };
  return (
    <form onSubmit={submit} class="form" aria-describedby={problem ? 'sign-in-problem' : undefined}>
      <div class="field">
        <label for="sign-in-name">User name</label>
        <input id="sign-in-name" name="username" autoComplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} autoFocus />
      </div>
      <div class="field">
        <label for="sign-in-password">Password</label>
        <input
          id="sign-in-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </div>
      {problem ? (
        <div id="sign-in-problem">
          <Notice kind="error">{problem}</Notice>
        </div>
      ) : null}
      <button type="submit" class="button button-primary button-block" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function TokenForm({ busy, attempt }: FormProps) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const submit = (event: Event) => {
    event.preventDefault();
    setProblem(null);
    return attempt(() => useToken(token), setProblem);
  };
  return (
    <form onSubmit={submit} class="form">
      <div class="field">
        <label for="sign-in-token">API token</label>
        <input
          id="sign-in-token"
          name="token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          placeholder="cat_…"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby="token-hint"
        />
        <p id="token-hint" class="hint">
          Kept in this browser tab only, until you sign out or close the tab.
        </p>
      </div>
      {problem ? <Notice kind="error">{problem}</Notice> : null}
      <button type="submit" class="button button-block" disabled={busy}>
        Continue with token
      </button>
    </form>
  );
}

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, loadSession, signOut, whenSignedOut, type Session } from './api';
import { Loading } from './components/bits';
import { Toasts, toast } from './components/feedback';
import { LogoIcon } from './components/icons';
import { AgentFormPage } from './pages/agent-form';
import { AgentPage } from './pages/agent-page';
import { AgentsPage } from './pages/agents';
import { NotFoundPage } from './pages/not-found';
import { NotificationsPage } from './pages/notifications';
import { OverviewPage } from './pages/overview';
import { RunPage } from './pages/run-page';
import { SignInPage } from './pages/sign-in';
import { Link, navigate, useLocation } from './router';
import { SessionProvider } from './session';

type AuthState = { status: 'loading' } | { status: 'signed-out'; reason: string | null } | { status: 'signed-in'; session: Session };

function route(path: string) {
  if (path === '/' || path === '/overview') return <OverviewPage />;
  if (path === '/agents') return <AgentsPage />;
  if (path === '/notifications') return <NotificationsPage />;
  if (path === '/agents/new') return <AgentFormPage agentId={null} />;
  const edit = /^\/agents\/([^/]+)\/edit$/.exec(path);
  if (edit) return <AgentFormPage key={edit[1]} agentId={decodeURIComponent(edit[1]!)} />;
  const agent = /^\/agents\/([^/]+)$/.exec(path);
  if (agent) return <AgentPage key={agent[1]} agentId={decodeURIComponent(agent[1]!)} />;
  const run = /^\/runs\/([^/]+)$/.exec(path);
  if (run) return <RunPage key={run[1]} runId={decodeURIComponent(run[1]!)} />;
  return <NotFoundPage />;
}

function Header({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const { path } = useLocation();
  const section =
    path === '/' || path === '/overview'
      ? 'overview'
      : path.startsWith('/agents') || path.startsWith('/runs/')
        ? 'agents'
        : path === '/notifications'
          ? 'notifications'
          : null;
  return (
    <header class="topbar">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <div class="topbar-inner">
        <Link href="/" class="brand">
          <LogoIcon />
          <span>cron-agents</span>
        </Link>
        <nav aria-label="Main" class="nav">
          <Link href="/" aria-current={section === 'overview' ? 'page' : undefined}>
            Overview
          </Link>
          <Link href="/agents" aria-current={section === 'agents' ? 'page' : undefined}>
            Agents
          </Link>
          <Link href="/notifications" aria-current={section === 'notifications' ? 'page' : undefined}>
            Notifications
          </Link>
        </nav>
        <div class="user">
          <span class="user-name" data-testid="user-name">
            {session.user.name}
          </span>
          <span class={`role role-${session.user.role}`} title={session.user.role === 'viewer' ? 'Viewers can see everything and change nothing' : undefined}>
            {session.user.role === 'viewer' ? 'viewer · read-only' : session.user.role}
          </span>
          <button type="button" class="button button-quiet" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </div>
    </header>
  );
}

export function App() {
  const [auth, setAuth] = useState<AuthState>({ status: 'loading' });
  const { path } = useLocation();
  const firstPath = useRef(true);

  useEffect(() => {
    whenSignedOut(() => setAuth({ status: 'signed-out', reason: 'Your session has ended. Sign in again.' }));
    loadSession().then(
      (session) => setAuth({ status: 'signed-in', session }),
      (error: unknown) => setAuth({ status: 'signed-out', reason: error instanceof ApiError && error.status !== 401 ? error.message : null }),
    );
  }, []);

  // Keyboard and screen-reader users land on the new page's heading after a navigation.
  useEffect(() => {
    if (firstPath.current) {
      firstPath.current = false;
      return;
    }
    window.scrollTo(0, 0);
    requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus());
  }, [path]);

  if (auth.status === 'loading') {
    return (
      <div class="center-screen">
        <Loading />
      </div>
    );
  }

  if (auth.status === 'signed-out') {
    return (
      <>
        <SignInPage
          reason={auth.reason}
          onSignedIn={(session) => {
            setAuth({ status: 'signed-in', session });
            if (path === '/sign-in') navigate('/', { replace: true });
          }}
        />
        <Toasts />
      </>
    );
  }

  const doSignOut = async () => {
    try {
      await signOut();
    } catch (error) {
      toast('error', error instanceof Error ? error.message : 'Could not sign out');
    }
    setAuth({ status: 'signed-out', reason: 'You have signed out.' });
    navigate('/sign-in');
  };

  return (
    <SessionProvider session={auth.session}>
      <Header session={auth.session} onSignOut={doSignOut} />
      <main id="main" class="page">
        {path === '/sign-in' ? <Redirect to="/" /> : route(path)}
      </main>
      <Toasts />
    </SessionProvider>
  );
}

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

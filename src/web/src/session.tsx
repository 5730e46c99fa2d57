import { createContext, type ComponentChildren } from 'preact';
import { useContext } from 'preact/hooks';
import type { Session } from './api';

/**
 * The signed-in session, for every page. It lives apart from app.tsx so that pages (which app.tsx
 * imports) can read it without importing app.tsx back.
 */

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ session, children }: { session: Session; children: ComponentChildren }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** The signed-in session. Pages render only when there is one. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

/** Whether the user may change things (viewers may not; the server refuses them too). */
export function useCanWrite(): boolean {
  return useSession().user.role !== 'viewer';
}

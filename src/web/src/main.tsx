/**
 * The dashboard (Preact, built by Vite to dist/web, served by the API at `/`):
 * - app.tsx: signed in or not, the top bar and which page a path shows; session.tsx: the
 *   signed-in session for the pages (useSession, useCanWrite).
 * - api.ts: the only door to the server, typed with the server's own declarations (src/domain,
 *   src/api/schemas); router.tsx, hooks.ts (live polling, stored state), format.ts, schedule.ts.
 * - pages/: one file per page; form/: the agent editor's state and fields; components/: the
 *   pieces pages share (badges, charts, dialogs, the run history).
 */
import { render } from 'preact';
import { App } from './app';
import './styles.css';

render(<App />, document.getElementById('app')!);

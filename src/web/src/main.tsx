/**
 * The dashboard (Preact, built by Vite to dist/web, served by the API at `/`):
 * - app.tsx: signed in or not, the top bar and which page a path shows; session.tsx: the
 *   signed-in session for the pages (useSession, useCanWrite).
 * - api.ts: the only door to the server, typed with the server's own declarations (src/domain,
 *   src/api/schemas), and run-stream.ts its side door for a run's live events (SSE);
 *   router.tsx, hooks.ts (live polling, stored state, following a growing page), format.ts,
 *   schedule.ts; run-transcript.ts and transcript-timeline.ts: a run's events as the run page
 *   holds and shows them; webhook-words.ts: webhooks' event types, formats and agents in words
 *   (notifications.css styles the Notifications page and the agent page's webhooks).
 * - pages/: one file per page; form/: the agent editor's state and fields; components/: the
 *   pieces pages share (badges, charts, dialogs, the run history, a run's timeline).
 */
import { render } from 'preact';
import { App } from './app';
import './styles.css';

render(<App />, document.getElementById('app')!);

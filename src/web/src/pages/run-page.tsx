import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, getAgent, getRun, type Agent, type Run, type RunStatus } from '../api';
import { Loading, Notice, StatusBadge } from '../components/bits';
import { ChevronIcon } from '../components/icons';
import { Markdown } from '../components/markdown';
import { RunActions } from '../components/run-actions';
import { RunSummary } from '../components/run-summary';
import { RunTimeline } from '../components/run-timeline';
import { useFollowScroll, useNow, useTitle } from '../hooks';
import { Link } from '../router';
import { useRunTranscript, type RunTranscript } from '../run-transcript';
import { useCanWrite } from '../session';
import { latestUsage, transcriptTimeline } from '../transcript-timeline';
import { NotFoundPage } from './not-found';

/**
 * One run: its figures, and its transcript as a timeline. A run still going is followed through
 * its stream (events appear as they are recorded, the page scrolling with them) until it ends.
 */

const ACTIVE: readonly RunStatus[] = ['queued', 'running'];

interface Loaded {
  run: Run;
  /** Null when it could not be read (the run is shown all the same). */
  agent: Agent | null;
}

async function loadRun(runId: string): Promise<Loaded> {
  const run = await getRun(runId);
  const agent = await getAgent(run.agentId).catch(() => null);
  return { run, agent };
}

export function RunPage({ runId }: { runId: string }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const transcript = useRunTranscript(runId, loaded !== null);
  // Read again at the moments the stream says the run changed without saying how: it started
  // (the first event of a queued run), or the stream stopped before its end.
  const reload = () =>
    loadRun(runId).then(setLoaded, (caught: unknown) => setError(caught instanceof ApiError ? caught : new ApiError(0, 'client', String(caught))));
  useEffect(() => void reload(), [runId]);
  const queuedAndStarted = loaded?.run.status === 'queued' && transcript.events.length > 0;
  useEffect(() => {
    if (queuedAndStarted || transcript.state === 'failed') void reload();
  }, [queuedAndStarted, transcript.state]);
  useTitle(loaded ? `Run of ${loaded.agent?.name ?? 'an agent'}` : 'Run');

  if (error?.status === 404) return <NotFoundPage />;
  if (!loaded) {
    return (
      <>
        <h1 tabIndex={-1} class="sr-only">
          Run
        </h1>
        {error ? <Notice kind="error">{error.message}</Notice> : <Loading />}
      </>
    );
  }
  return <RunView run={transcript.ended ?? loaded.run} agent={loaded.agent} transcript={transcript} />;
}

const STATUS_WORDS: Record<RunStatus, string> = {
  queued: 'queued',
  running: 'running',
  success: 'a success',
  error: 'an error',
  budget_exceeded: 'stopped at the budget limit',
  cancelled: 'cancelled',
  skipped: 'skipped: it did not run',
};

function RunView({ run, agent, transcript }: { run: Run; agent: Agent | null; transcript: RunTranscript }) {
  const canWrite = useCanWrite();
  const { events } = transcript;
  const live = ACTIVE.includes(run.status);
  const now = useNow(live ? 1000 : 60_000);
  const status: RunStatus = run.status === 'queued' && events.length > 0 ? 'running' : run.status;
  // Only a run that was going when the page opened is followed down the page (to its end).
  const followed = useRef(live);
  const { following, follow } = useFollowScroll(followed.current, events.length);
  const items = useMemo(() => transcriptTimeline(events), [events]);
  const usage = useMemo(() => latestUsage(events), [events]);
  const agentName = agent?.name ?? 'an agent';
  return (
    <>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <Link href="/agents">Agents</Link>
        <ChevronIcon />
        {agent ? <Link href={`/agents/${encodeURIComponent(agent.id)}`}>{agent.name}</Link> : <span>Agent</span>}
        <ChevronIcon />
        <span aria-current="page">Run</span>
      </nav>
      <div class="page-header">
        <div class="title-block">
          <h1 tabIndex={-1}>
            Run of {agentName}
            <span data-testid="run-status">
              <StatusBadge status={status} />
            </span>
          </h1>
          <p class="muted small mono run-id">{run.id}</p>
        </div>
        <RunActions run={run} live={live} canWrite={canWrite} />
      </div>
      <p class="sr-only" role="status">
        {live ? '' : `The run ended: it was ${STATUS_WORDS[run.status]}.`}
      </p>
      <RunSummary run={run} usage={usage} live={live} now={now} />
      <RunOutcome run={run} />
      <TranscriptSection run={run} transcript={transcript} live={live}>
        {items.length > 0 ? <RunTimeline items={items} live={live} origin={Date.parse(events[0]?.at ?? run.queuedAt)} /> : null}
      </TranscriptSection>
      {followed.current && live && !following ? (
        <button type="button" class="button button-primary follow-button" onClick={follow}>
          Follow the run
        </button>
      ) : null}
    </>
  );
}

/** Why a run did not succeed, and what it answered in the shape its agent asked for. */
function RunOutcome({ run }: { run: Run }) {
  const failed = run.status === 'error' || run.status === 'budget_exceeded' || run.status === 'cancelled';
  const structured = run.structuredOutput;
  return (
    <>
      {failed && run.output ? (
        <section class="card output-error run-outcome" aria-label="Why the run ended">
          <div class="output-label">
            {run.status === 'cancelled' ? 'Cancelled' : run.status === 'budget_exceeded' ? 'Stopped at the budget limit' : 'Error'}
          </div>
          <pre data-testid="run-error">{run.output}</pre>
        </section>
      ) : null}
      {structured !== null && structured !== undefined ? (
        <section class="card structured-output" aria-labelledby="structured-title">
          <h2 id="structured-title">Structured output</h2>
          <pre class="json" data-testid="structured-output">
            {JSON.stringify(structured, null, 2)}
          </pre>
        </section>
      ) : null}
    </>
  );
}

function StreamIndicator({ state, live, count }: { state: RunTranscript['state']; live: boolean; count: number }) {
  if (state === 'reconnecting') return <span class="muted small">Reconnecting…</span>;
  if (live && state === 'live') return <span class="live-dot small">Live</span>;
  if (state === 'connecting') return <span class="muted small">Loading…</span>;
  return <span class="muted small">{count === 1 ? '1 event' : `${count} events`}</span>;
}

/** Before the first event: why there is none yet, or that there never was one (a run from before transcripts). */
function EmptyTranscript({ run, state, live }: { run: Run; state: RunTranscript['state']; live: boolean }) {
  if (state === 'connecting') return <Loading />;
  if (live) return <p class="muted">{run.status === 'queued' ? 'Waiting for a free execution slot…' : 'Waiting for the first step…'}</p>;
  return (
    <>
      <p class="muted">No transcript was recorded for this run.</p>
      {run.status === 'success' && run.output ? (
        <div class="output">
          <div class="output-label">Output</div>
          <Markdown text={run.output} />
        </div>
      ) : null}
    </>
  );
}

interface TranscriptProps {
  run: Run;
  transcript: RunTranscript;
  live: boolean;
  children: ComponentChildren;
}

function TranscriptSection({ run, transcript, live, children }: TranscriptProps) {
  const { events, state, retry } = transcript;
  return (
    <>
      <div class="section-header">
        <h2 id="transcript-title">Transcript</h2>
        <StreamIndicator state={state} live={live} count={events.length} />
      </div>
      <section class="card transcript" aria-labelledby="transcript-title" data-testid="transcript">
        {state === 'failed' ? (
          <Notice kind="error">
            The transcript stopped loading: the run may have been deleted, or too many live views are open (close some tabs).{' '}
            <button type="button" class="button button-small" onClick={retry}>
              Try again
            </button>
          </Notice>
        ) : null}
        {children ?? <EmptyTranscript run={run} state={state} live={live} />}
      </section>
    </>
  );
}

import type { ComponentChildren } from 'preact';
import type { Run } from '../api';
import { count, duration, longDateTime, shortDateTime, usd } from '../format';
import { Link } from '../router';
import type { UsageEvent } from '../transcript-timeline';
import { versionPath } from './run-history';
import { RetryOf, triggerWords } from './run-policy-bits';

/** A run's figures under its title: how it was started, when, for how long, and what it cost. */

function Entry({ term, testId, children }: { term: string; testId?: string; children: ComponentChildren }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd data-testid={testId}>{children}</dd>
    </div>
  );
}

function When({ iso }: { iso: string | null }) {
  return iso ? (
    <time dateTime={iso} title={longDateTime(iso)}>
      {shortDateTime(iso)}
    </time>
  ) : (
    <span class="muted">—</span>
  );
}

interface RunSummaryProps {
  run: Run;
  /** The newest usage of the transcript: while the run goes on, its figures are newer than the run's. */
  usage: UsageEvent | null;
  live: boolean;
  now: number;
}

export function RunSummary({ run, usage, live, now }: RunSummaryProps) {
  // The run's own figures are written when it ends; until then the transcript's usage is the newest.
  const figures = live && usage ? usage : run;
  const started = run.startedAt ?? (live ? (usage?.at ?? null) : null);
  const took = live && started ? `${duration(now - Date.parse(started))}…` : duration(run.durationMs);
  return (
    <section class="card run-summary" aria-label="Summary">
      <dl class="details-grid">
        <Entry term="Trigger" testId="run-trigger">
          {triggerWords(run)}
          <RetryOf run={run} />
          {run.scheduledFor ? (
            <div class="muted small">
              for <When iso={run.scheduledFor} />
            </div>
          ) : null}
        </Entry>
        <Entry term="Queued">
          <When iso={run.queuedAt} />
        </Entry>
        <Entry term="Started">
          <When iso={started} />
        </Entry>
        <Entry term="Finished">
          <When iso={run.completedAt} />
        </Entry>
        <Entry term="Duration" testId="run-duration">
          {took}
        </Entry>
        <Entry term="Cost" testId="run-cost">
          {usd(figures.costUsd)}
          {live ? <span class="muted small"> so far</span> : null}
        </Entry>
        <Entry term="Tokens in / out" testId="run-tokens">
          {count(figures.inputTokens)} / {count(figures.outputTokens)}
          <div class="muted small">
            {count(figures.cacheReadInputTokens)} cache reads, {count(figures.cacheCreationInputTokens)} cache writes
          </div>
        </Entry>
        <Entry term="Turns" testId="run-turns">
          {figures.numTurns}
        </Entry>
        <Entry term="Agent version" testId="run-version">
          {run.agentVersion === null ? <span class="muted">—</span> : <Link href={versionPath(run)}>Version {run.agentVersion}</Link>}
        </Entry>
      </dl>
    </section>
  );
}

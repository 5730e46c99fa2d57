import type { Run } from '../api';
import { compact, count, duration, longDateTime, shortDateTime, usd } from '../format';
import { Link } from '../router';
import { StatusBadge, TimeAgo } from './bits';
import { ChevronIcon } from './icons';
import { Markdown } from './markdown';
import { RetryOf, SkipReason, slotsWords, triggerWords } from './run-policy-bits';

/** An agent's runs, newest first: one row each, opened in place to show the run's output, its time a link to the run's page. */

interface RunHistoryProps {
  runs: Run[];
  openRunId: string | null;
  onToggle: (runId: string) => void;
  now: number;
  /** Shown under the table when there may be more runs than listed. */
  onShowMore: (() => void) | null;
}

export function RunHistory({ runs, openRunId, onToggle, now, onShowMore }: RunHistoryProps) {
  return (
    <div class="card table-card">
      <table class="table runs-table" aria-label="Run history">
        <thead>
          <tr>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">Duration</th>
            <th scope="col">Cost</th>
            <th scope="col">Tokens in / out</th>
            <th scope="col">Turns</th>
            <th scope="col">Trigger</th>
            <th scope="col">Version</th>
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <RunRows key={run.id} run={run} open={openRunId === run.id} onToggle={() => onToggle(run.id)} now={now} />
          ))}
        </tbody>
      </table>
      {onShowMore ? (
        <div class="table-footer">
          <button type="button" class="button" onClick={onShowMore}>
            Show more runs
          </button>
        </div>
      ) : null}
    </div>
  );
}

function RunRows({ run, open, onToggle, now }: { run: Run; open: boolean; onToggle: () => void; now: number }) {
  const detailsId = `run-${run.id}`;
  const started = run.startedAt ?? run.queuedAt;
  return (
    <>
      <tr
        class={`run-row${open ? ' open' : ''}${run.status === 'skipped' ? ' run-skipped' : ''}`}
        data-testid="run-row"
        data-run-id={run.id}
        data-status={run.status}
      >
        <td data-label="Status">
          <button type="button" class="row-toggle" aria-expanded={open} aria-controls={detailsId} onClick={onToggle}>
            <ChevronIcon class="icon chevron" />
            <StatusBadge status={run.status} />
            <span class="sr-only">{open ? 'Hide' : 'Show'} the output of this run</span>
          </button>
        </td>
        <td data-label="Started">
          <div>
            <Link href={runPagePath(run.id)} title={longDateTime(started)} aria-label={`Open the run of ${shortDateTime(started)}`}>
              {shortDateTime(started)}
            </Link>
            <div class="muted small">
              <TimeAgo iso={started} now={now} />
            </div>
          </div>
        </td>
        {run.status === 'skipped' ? (
          // A skipped run never ran: its reason and slots stand where a run's figures would.
          <td data-label="Why" colSpan={4}>
            <SkipReason run={run} />
          </td>
        ) : (
          <>
            <td data-label="Duration">
              {run.status === 'running' && run.startedAt ? <span class="muted">{duration(now - Date.parse(run.startedAt))}…</span> : duration(run.durationMs)}
            </td>
            <td data-label="Cost">{usd(run.costUsd)}</td>
            <td
              data-label="Tokens in / out"
              title={`${count(run.inputTokens)} input (${count(run.cacheReadInputTokens)} cache reads, ${count(run.cacheCreationInputTokens)} cache writes), ${count(run.outputTokens)} output`}
            >
              {compact(run.inputTokens)} / {compact(run.outputTokens)}
            </td>
            <td data-label="Turns">{run.numTurns}</td>
          </>
        )}
        <td data-label="Trigger">
          {triggerWords(run)}
          <RetryOf run={run} />
        </td>
        <td data-label="Version">
          {run.agentVersion === null ? (
            <span class="muted">—</span>
          ) : (
            <Link href={versionPath(run)} class="version-link" aria-label={`Version ${run.agentVersion} of the agent: its prompt and changes`}>
              v{run.agentVersion}
            </Link>
          )}
        </td>
      </tr>
      {open ? (
        <tr class="run-details-row">
          <td colSpan={8}>
            <RunDetails run={run} id={detailsId} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

/** The dashboard path of a run's page. */
const runPagePath = (runId: string) => `/runs/${encodeURIComponent(runId)}`;

/** The agent's History tab, showing the version a run ran. */
export const versionPath = (run: Pick<Run, 'agentId' | 'agentVersion'>) =>
  `/agents/${encodeURIComponent(run.agentId)}?tab=history&version=${run.agentVersion ?? ''}`;

function RunDetails({ run, id }: { run: Run; id: string }) {
  const failed = run.status === 'error' || run.status === 'budget_exceeded' || run.status === 'cancelled';
  return (
    <div class="run-details" id={id} data-testid="run-details">
      <dl class="run-meta">
        <div>
          <dt>Queued</dt>
          <dd>{shortDateTime(run.queuedAt)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{shortDateTime(run.startedAt)}</dd>
        </div>
        <div>
          <dt>Finished</dt>
          <dd>{shortDateTime(run.completedAt)}</dd>
        </div>
        {run.scheduledFor ? (
          <div>
            <dt>Scheduled for</dt>
            <dd>{shortDateTime(run.scheduledFor)}</dd>
          </div>
        ) : null}
        {run.skippedSlots !== null ? (
          <div>
            <dt>Slots skipped</dt>
            <dd>{slotsWords(run)}</dd>
          </div>
        ) : null}
        <div>
          <dt>Input tokens</dt>
          <dd>
            {count(run.inputTokens)}
            <span class="muted small">
              {' '}
              ({count(run.cacheReadInputTokens)} cache reads, {count(run.cacheCreationInputTokens)} cache writes)
            </span>
          </dd>
        </div>
        <div>
          <dt>Output tokens</dt>
          <dd>{count(run.outputTokens)}</dd>
        </div>
      </dl>
      <p>
        <Link href={runPagePath(run.id)}>{run.status === 'queued' || run.status === 'running' ? 'Follow it live' : 'Open the transcript'}</Link>
      </p>
      {run.status === 'queued' || run.status === 'running' ? (
        <p class="muted">
          {run.status === 'queued'
            ? 'Waiting for a free execution slot…'
            : 'Running… the output appears when the run ends; its page shows each step as it happens.'}
        </p>
      ) : run.output === null || run.output === '' ? (
        <p class="muted">No output.</p>
      ) : run.status === 'skipped' ? (
        <div class="output-skipped" role="note">
          <div class="output-label">Skipped</div>
          <pre data-testid="run-skipped-output">{run.output}</pre>
        </div>
      ) : failed ? (
        <div class="output-error" role="note">
          <div class="output-label">
            {run.status === 'cancelled' ? 'Cancelled' : run.status === 'budget_exceeded' ? 'Stopped at the budget limit' : 'Error'}
          </div>
          <pre data-testid="run-error">{run.output}</pre>
        </div>
      ) : (
        <div class="output">
          <div class="output-label">Output</div>
          <Markdown text={run.output} />
        </div>
      )}
    </div>
  );
}

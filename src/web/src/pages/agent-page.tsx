import { useState } from 'preact/hooks';
import { ApiError, agentStats, deleteAgent, getAgent, listRuns, type Agent, type Period, type Run } from '../api';
import { useAgentActions } from '../agent-actions';
import { useCanWrite } from '../app';
import { EnabledSwitch, Loading, Notice, PERIODS, PeriodPicker, RunningTag, StatCard, StatusBadge, TimeAgo, periodWords } from '../components/bits';
import { DailyChart } from '../components/chart';
import { ConfirmDialog, toast } from '../components/feedback';
import { ChevronIcon, EditIcon, PlayIcon, StopIcon, TrashIcon } from '../components/icons';
import { Markdown } from '../components/markdown';
import { compact, count, duration, inTimezone, longDateTime, shortDateTime, usd } from '../format';
import { useLive, useNow, useStoredState, useTitle } from '../hooks';
import { Link, navigate, useLocation } from '../router';
import { describeSchedule, hasSeconds } from '../schedule';
import { NotFoundPage } from './not-found';

const PAGE = 25;

export function AgentPage({ agentId }: { agentId: string }) {
  const canWrite = useCanWrite();
  const now = useNow();
  const { path, query } = useLocation();
  const openRunId = query.get('run');
  const [period, setPeriod] = useStoredState<Period>('cron-agents.period', PERIODS, '7d');
  const [limit, setLimit] = useState(PAGE);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const live = useLive(() => Promise.all([getAgent(agentId), listRuns(agentId, limit), agentStats(agentId, period)]), [agentId, limit, period]);
  const actions = useAgentActions(live.refresh);
  const [agent, runs, stats] = live.data ?? [null, null, null];
  useTitle(agent?.name ?? 'Agent');

  if (live.error?.status === 404) return <NotFoundPage />;
  if (!agent || !runs || !stats) {
    return (
      <>
        <h1 tabIndex={-1} class="sr-only">
          Agent
        </h1>
        {live.error ? <Notice kind="error">{live.error.message}</Notice> : <Loading />}
      </>
    );
  }

  const active = runs.some((r) => r.status === 'running' || r.status === 'queued');
  const running = runs.some((r) => r.status === 'running');
  const words = describeSchedule(agent.schedule);
  const toggleRun = (runId: string) => navigate(openRunId === runId ? path : `${path}?run=${encodeURIComponent(runId)}`, { replace: true });

  const doDelete = async () => {
    setDeleting(true);
    try {
      await deleteAgent(agent.id);
      toast('success', `Deleted ${agent.name} and its runs`);
      navigate('/agents');
    } catch (error) {
      toast('error', error instanceof ApiError ? error.message : String(error));
      setDeleting(false);
      setConfirmDelete(false);
    }
  };

  return (
    <>
      <nav aria-label="Breadcrumb" class="breadcrumb">
        <Link href="/agents">Agents</Link>
        <ChevronIcon />
        <span aria-current="page">{agent.name}</span>
      </nav>
      <div class="page-header">
        <div class="title-block">
          <h1 tabIndex={-1}>
            {agent.name}
            {running ? <RunningTag /> : active ? <StatusBadge status="queued" /> : null}
            {agent.enabled ? null : <span class="pill pill-off">Disabled</span>}
          </h1>
          {agent.description ? <p class="muted description">{agent.description}</p> : null}
        </div>
        {canWrite ? (
          <div class="header-actions">
            <button type="button" class="button button-primary" onClick={() => actions.run(agent)} disabled={actions.busy(agent.id, 'run')}>
              <PlayIcon />
              Run now
            </button>
            <button type="button" class="button" onClick={() => actions.cancel(agent)} disabled={!active || actions.busy(agent.id, 'cancel')}>
              <StopIcon />
              Cancel run
            </button>
            <Link href={`/agents/${agent.id}/edit`} class="button">
              <EditIcon />
              Edit
            </Link>
            <button type="button" class="button button-danger-quiet" onClick={() => setConfirmDelete(true)}>
              <TrashIcon />
              Delete
            </button>
          </div>
        ) : null}
      </div>

      <section class="card details" aria-label="Settings">
        <dl class="details-grid">
          <div>
            <dt>Schedule</dt>
            <dd>
              <div>{words ?? agent.schedule}</div>
              <div class="muted small">
                <code>{agent.schedule}</code> · {agent.timezone}
              </div>
            </dd>
          </div>
          <div>
            <dt>Next run</dt>
            <dd data-testid="agent-next-run">
              {agent.enabled && agent.nextRunAt ? (
                <>
                  <TimeAgo iso={agent.nextRunAt} now={now} />
                  <div class="muted small">{inTimezone(agent.nextRunAt, agent.timezone, hasSeconds(agent.schedule))}</div>
                </>
              ) : (
                <span class="muted">Not scheduled (disabled)</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Enabled</dt>
            <dd>
              <EnabledSwitch agent={agent} canWrite={canWrite} actions={actions} />
            </dd>
          </div>
          <div>
            <dt>Limits</dt>
            <dd>
              {agent.maxTurns} turns · {agent.maxBudgetUsd === null ? 'no budget limit' : `${usd(agent.maxBudgetUsd)} per run`}
            </dd>
          </div>
          <div>
            <dt>Model</dt>
            <dd>{agent.model ?? <span class="muted">SDK default</span>}</dd>
          </div>
          <div>
            <dt>Allowed tools</dt>
            <dd>
              {agent.allowedTools.length === 0 ? (
                <span class="muted">None</span>
              ) : (
                <span class="tags">
                  {agent.allowedTools.map((tool) => (
                    <code key={tool} class="tag">
                      {tool}
                    </code>
                  ))}
                </span>
              )}
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>
              <TimeAgo iso={agent.createdAt} now={now} />
              {agent.creator ? <span class="muted"> by {agent.creator.name}</span> : null}
            </dd>
          </div>
        </dl>
        <details class="prompt">
          <summary>Prompt</summary>
          <pre data-testid="agent-prompt">{agent.prompt}</pre>
        </details>
      </section>

      <div class="section-header">
        <h2>Activity</h2>
        <PeriodPicker value={period} onChange={setPeriod} name="agent-period" />
      </div>
      <section class="stats stats-4" aria-label="Figures">
        <StatCard testId="agent-stat-runs" label="Runs" value={count(stats.totalRuns)} hint={periodWords(period)} />
        <StatCard testId="agent-stat-success" label="Success rate" value={`${stats.successRate}%`} hint="of finished runs" />
        <StatCard testId="agent-stat-duration" label="Average duration" value={stats.avgDurationMs ? duration(stats.avgDurationMs) : '—'} />
        <StatCard testId="agent-stat-cost" label="Total cost" value={usd(stats.totalCostUsd)} hint={periodWords(period)} />
      </section>
      <section class="card charts" aria-label="Daily activity">
        <DailyChart days={stats.dailyRuns} kind="runs" title="Runs per day (UTC)" />
        <DailyChart days={stats.dailyRuns} kind="cost" title="Cost per day (UTC)" />
      </section>

      <div class="section-header">
        <h2>Run history</h2>
        <span class="muted small">Newest first · updates live</span>
      </div>
      {runs.length === 0 ? (
        <section class="card empty-state">
          <p class="muted">This agent has not run yet.{canWrite ? ' Use “Run now” to try it.' : ''}</p>
        </section>
      ) : (
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
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <RunRows key={run.id} run={run} open={openRunId === run.id} onToggle={() => toggleRun(run.id)} now={now} />
              ))}
            </tbody>
          </table>
          {runs.length >= limit ? (
            <div class="table-footer">
              <button type="button" class="button" onClick={() => setLimit(limit + 50)}>
                Show more runs
              </button>
            </div>
          ) : null}
        </div>
      )}

      <ConfirmDialog
        open={confirmDelete}
        title={`Delete ${agent.name}?`}
        confirmLabel="Delete agent"
        danger
        busy={deleting}
        onConfirm={doDelete}
        onClose={() => setConfirmDelete(false)}
      >
        <p>
          This permanently deletes the agent and all {stats.totalRuns > 0 || runs.length > 0 ? 'of its runs' : 'its run history'}. Runs in progress are
          cancelled. This cannot be undone.
        </p>
      </ConfirmDialog>
    </>
  );
}

function RunRows({ run, open, onToggle, now }: { run: Run; open: boolean; onToggle: () => void; now: number }) {
  const detailsId = `run-${run.id}`;
  const started = run.startedAt ?? run.queuedAt;
  return (
    <>
      <tr class={open ? 'run-row open' : 'run-row'} data-testid="run-row" data-run-id={run.id} data-status={run.status}>
        <td data-label="Status">
          <button type="button" class="row-toggle" aria-expanded={open} aria-controls={detailsId} onClick={onToggle}>
            <ChevronIcon class="icon chevron" />
            <StatusBadge status={run.status} />
            <span class="sr-only">{open ? 'Hide' : 'Show'} the output of this run</span>
          </button>
        </td>
        <td data-label="Started">
          <div>
            <div title={longDateTime(started)}>{shortDateTime(started)}</div>
            <div class="muted small">
              <TimeAgo iso={started} now={now} />
            </div>
          </div>
        </td>
        <td data-label="Duration">{run.status === 'running' && run.startedAt ? <span class="muted">{duration(now - Date.parse(run.startedAt))}…</span> : duration(run.durationMs)}</td>
        <td data-label="Cost">{usd(run.costUsd)}</td>
        <td data-label="Tokens in / out" title={`${count(run.inputTokens)} input (${count(run.cacheReadInputTokens)} cache reads, ${count(run.cacheCreationInputTokens)} cache writes), ${count(run.outputTokens)} output`}>
          {compact(run.inputTokens)} / {compact(run.outputTokens)}
        </td>
        <td data-label="Turns">{run.numTurns}</td>
        <td data-label="Trigger">{run.trigger === 'schedule' ? 'Schedule' : 'Manual'}</td>
      </tr>
      {open ? (
        <tr class="run-details-row">
          <td colSpan={7}>
            <RunDetails run={run} id={detailsId} />
          </td>
        </tr>
      ) : null}
    </>
  );
}

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
      {run.status === 'queued' || run.status === 'running' ? (
        <p class="muted">{run.status === 'queued' ? 'Waiting for a free execution slot…' : 'Running… the output appears when the run ends.'}</p>
      ) : run.output === null || run.output === '' ? (
        <p class="muted">No output.</p>
      ) : failed ? (
        <div class="output-error" role="note">
          <div class="output-label">{run.status === 'cancelled' ? 'Cancelled' : run.status === 'budget_exceeded' ? 'Stopped at the budget limit' : 'Error'}</div>
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

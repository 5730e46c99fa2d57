import { useState } from 'preact/hooks';
import { PERIODS } from '../../../domain/types';
import { ApiError, agentStats, deleteAgent, getAgent, listRuns, type Agent, type AgentStats, type Period, type Run } from '../api';
import { useAgentActions, type AgentActions } from '../agent-actions';
import { EnabledSwitch, Loading, Notice, PeriodPicker, RunningTag, StatCard, StatusBadge, TimeAgo, periodWords } from '../components/bits';
import { DailyChart } from '../components/chart';
import { ConfirmDialog, toast } from '../components/feedback';
import { ChevronIcon, EditIcon, PlayIcon, StopIcon, TrashIcon } from '../components/icons';
import { AgentHistory, AgentTabs } from '../components/agent-history';
import { AgentSecrets } from '../components/agent-secrets';
import { AgentNotices, AgentSpend } from '../components/agent-spend';
import { PolicyDetails } from '../components/policy-details';
import { AgentWebhooks } from '../components/agent-webhooks';
import { RunHistory } from '../components/run-history';
import { RunOptionsDetails } from '../components/run-options-details';
import { count, duration, inTimezone, usd } from '../format';
import { useLive, useNow, useStoredState, useTitle } from '../hooks';
import { Link, navigate, useLocation } from '../router';
import { describeSchedule, hasSeconds } from '../schedule';
import { useCanWrite } from '../session';
import { NotFoundPage } from './not-found';

const PAGE = 25;

/** One agent: its settings, figures and charts for a period, and its run history, updated live. */
export function AgentPage({ agentId }: { agentId: string }) {
  const canWrite = useCanWrite();
  const now = useNow();
  const { path, query } = useLocation();
  const openRunId = query.get('run');
  const [period, setPeriod] = useStoredState<Period>('cron-agents.period', PERIODS, '7d');
  const [limit, setLimit] = useState(PAGE);
  const [confirmDelete, setConfirmDelete] = useState(false);
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

  const toggleRun = (runId: string) => navigate(openRunId === runId ? path : `${path}?run=${encodeURIComponent(runId)}`, { replace: true });
  const deleteDialog = (
    <DeleteDialog agent={agent} open={confirmDelete} hasRuns={stats.totalRuns > 0 || runs.length > 0} onClose={() => setConfirmDelete(false)} />
  );

  if (query.get('tab') === 'history') {
    return (
      <>
        <AgentHeader agent={agent} runs={runs} canWrite={canWrite} actions={actions} onDelete={() => setConfirmDelete(true)} />
        <AgentTabs path={path} history />
        <AgentHistory agentId={agent.id} runs={runs} now={now} />
        {deleteDialog}
      </>
    );
  }

  return (
    <>
      <AgentHeader agent={agent} runs={runs} canWrite={canWrite} actions={actions} onDelete={() => setConfirmDelete(true)} />
      <AgentTabs path={path} history={false} />
      <AgentNotices agent={agent} stats={stats} />
      <AgentSettings agent={agent} now={now} canWrite={canWrite} actions={actions} />
      <AgentSecrets agentId={agent.id} canWrite={canWrite} />
      <AgentWebhooks agentId={agent.id} />
      <AgentSpend agent={agent} stats={stats} />
      <AgentActivity stats={stats} period={period} onPeriod={setPeriod} />

      <div class="section-header">
        <h2>Run history</h2>
        <span class="muted small">Newest first · updates live</span>
      </div>
      {runs.length === 0 ? (
        <section class="card empty-state">
          <p class="muted">This agent has not run yet.{canWrite ? ' Use “Run now” to try it.' : ''}</p>
        </section>
      ) : (
        <RunHistory runs={runs} openRunId={openRunId} onToggle={toggleRun} now={now} onShowMore={runs.length >= limit ? () => setLimit(limit + 50) : null} />
      )}

      {deleteDialog}
    </>
  );
}

interface HeaderProps {
  agent: Agent;
  runs: Run[];
  canWrite: boolean;
  actions: AgentActions;
  onDelete: () => void;
}

function AgentHeader({ agent, runs, canWrite, actions, onDelete }: HeaderProps) {
  const active = runs.some((r) => r.status === 'running' || r.status === 'queued');
  const running = runs.some((r) => r.status === 'running');
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
            {agent.enabled ? null : <span class="pill pill-off">{agent.pausedReason ? 'Paused' : 'Disabled'}</span>}
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
            <button type="button" class="button button-danger-quiet" onClick={onDelete}>
              <TrashIcon />
              Delete
            </button>
          </div>
        ) : null}
      </div>
    </>
  );
}

function AgentSettings({ agent, now, canWrite, actions }: { agent: Agent; now: number; canWrite: boolean; actions: AgentActions }) {
  return (
    <section class="card details" aria-label="Settings">
      <dl class="details-grid">
        <div>
          <dt>Schedule</dt>
          <dd>
            <div>{describeSchedule(agent.schedule) ?? agent.schedule}</div>
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
        <AgentLimits agent={agent} />
        <RunOptionsDetails agent={agent} />
        <PolicyDetails agent={agent} />
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
      {agent.systemPrompt ? (
        <details class="prompt">
          <summary>System prompt (appended)</summary>
          <pre data-testid="agent-system-prompt">{agent.systemPrompt}</pre>
        </details>
      ) : null}
    </section>
  );
}

/** Turns, budget, model and tools: entries of the settings list. */
function AgentLimits({ agent }: { agent: Agent }) {
  return (
    <>
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
    </>
  );
}

function AgentActivity({ stats, period, onPeriod }: { stats: AgentStats; period: Period; onPeriod: (period: Period) => void }) {
  return (
    <>
      <div class="section-header">
        <h2>Activity</h2>
        <PeriodPicker value={period} onChange={onPeriod} name="agent-period" />
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
    </>
  );
}

function DeleteDialog({ agent, open, hasRuns, onClose }: { agent: Agent; open: boolean; hasRuns: boolean; onClose: () => void }) {
  const [deleting, setDeleting] = useState(false);
  const doDelete = async () => {
    setDeleting(true);
    try {
      await deleteAgent(agent.id);
      toast('success', `Deleted ${agent.name} and its runs`);
      navigate('/agents');
    } catch (error) {
      toast('error', error instanceof ApiError ? error.message : String(error));
      setDeleting(false);
      onClose();
    }
  };
  return (
    <ConfirmDialog open={open} title={`Delete ${agent.name}?`} confirmLabel="Delete agent" danger busy={deleting} onConfirm={doDelete} onClose={onClose}>
      <p>This permanently deletes the agent and all {hasRuns ? 'of its runs' : 'its run history'}. Runs in progress are cancelled. This cannot be undone.</p>
    </ConfirmDialog>
  );
}

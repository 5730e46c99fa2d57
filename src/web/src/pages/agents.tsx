import { useState } from 'preact/hooks';
import { globalStats, listAgents, type Agent } from '../api';
import { useAgentActions, type AgentActions } from '../agent-actions';
import { useCanWrite } from '../session';
import { EnabledSwitch, Loading, Notice, RunningTag, StatusBadge, TimeAgo } from '../components/bits';
import { PlayIcon, PlusIcon, StopIcon } from '../components/icons';
import { longDateTime } from '../format';
import { useLive, useNow, useTitle } from '../hooks';
import { Link } from '../router';
import { describeSchedule } from '../schedule';

/** Every agent, from one list request and one stats request (for what is running): none per agent. */
export function AgentsPage() {
  useTitle('Agents');
  const now = useNow();
  const canWrite = useCanWrite();
  const [filter, setFilter] = useState('');
  const live = useLive(() => Promise.all([listAgents(), globalStats('24h')]), []);
  const actions = useAgentActions(live.refresh);
  const [agents, stats] = live.data ?? [null, null];
  const running = new Set(stats?.runningAgentIds ?? []);
  const needle = filter.trim().toLowerCase();
  const shown = (agents ?? []).filter(
    (a) => !needle || a.name.toLowerCase().includes(needle) || (a.description ?? '').toLowerCase().includes(needle) || a.schedule.includes(needle),
  );

  return (
    <>
      <div class="page-header">
        <div>
          <h1 tabIndex={-1}>Agents</h1>
          <p class="muted">{agents ? `${agents.length} agent${agents.length === 1 ? '' : 's'}, ${agents.filter((a) => a.enabled).length} enabled` : ' '}</p>
        </div>
        <div class="header-actions">
          <div class="field field-inline">
            <label for="agent-filter" class="sr-only">
              Filter agents
            </label>
            <input
              id="agent-filter"
              type="search"
              placeholder="Filter by name or description"
              value={filter}
              onInput={(e) => setFilter(e.currentTarget.value)}
            />
          </div>
          {canWrite ? (
            <Link href="/agents/new" class="button button-primary">
              <PlusIcon />
              New agent
            </Link>
          ) : null}
        </div>
      </div>
      {live.error && !live.data ? <Notice kind="error">{live.error.message}</Notice> : null}
      {!agents ? (
        <Loading />
      ) : agents.length === 0 ? (
        <section class="card empty-state">
          <h2>No agents yet</h2>
          <p class="muted">An agent is a prompt that Claude runs on a schedule.</p>
          {canWrite ? (
            <Link href="/agents/new" class="button button-primary">
              <PlusIcon />
              Create an agent
            </Link>
          ) : null}
        </section>
      ) : (
        <AgentsTable agents={shown} filter={filter} running={running} now={now} canWrite={canWrite} actions={actions} />
      )}
    </>
  );
}

interface TableProps {
  agents: Agent[];
  filter: string;
  running: Set<string>;
  now: number;
  canWrite: boolean;
  actions: AgentActions;
}

function AgentsTable({ agents, filter, running, now, canWrite, actions }: TableProps) {
  return (
    <div class="card table-card">
      <table class="table agents-table" aria-label="Agents">
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">Schedule</th>
            <th scope="col">Next run</th>
            <th scope="col">Last run</th>
            <th scope="col">Enabled</th>
            {canWrite ? (
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            ) : null}
          </tr>
        </thead>
        <tbody>
          {agents.map((agent) => (
            <AgentRow
              key={agent.id}
              agent={agent}
              running={running.has(agent.id) || agent.lastStatus === 'running'}
              now={now}
              canWrite={canWrite}
              actions={actions}
            />
          ))}
          {agents.length === 0 ? (
            <tr>
              <td colSpan={6} class="muted">
                No agent matches “{filter}”.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </div>
  );
}

function AgentRow(props: { agent: Agent; running: boolean; now: number; canWrite: boolean; actions: AgentActions }) {
  const { agent, running, now, canWrite, actions } = props;
  const words = describeSchedule(agent.schedule);
  const active = running || agent.lastStatus === 'queued';
  return (
    <tr data-testid="agent-row" data-agent-id={agent.id} data-running={running ? 'true' : 'false'}>
      <td data-label="Agent" class="cell-main">
        <Link href={`/agents/${agent.id}`} class="agent-name">
          {agent.name}
        </Link>
        {agent.description ? <div class="muted small clamp">{agent.description}</div> : null}
      </td>
      <td data-label="Schedule">
        <div>
          <div data-testid="schedule-words">{words ?? agent.schedule}</div>
          <div class="muted small">
            <code>{agent.schedule}</code> · {agent.timezone}
          </div>
        </div>
      </td>
      <td data-label="Next run" data-testid="next-run" class="nowrap">
        {agent.enabled ? <TimeAgo iso={agent.nextRunAt} now={now} /> : <span class="muted">Disabled</span>}
      </td>
      <td data-label="Last run" data-testid="last-run">
        <div class="stack">
          {running ? <RunningTag /> : <StatusBadge status={agent.lastStatus} />}
          {agent.lastRunAt ? (
            <span class="muted small" title={longDateTime(agent.lastRunAt)}>
              <TimeAgo iso={agent.lastRunAt} now={now} />
            </span>
          ) : null}
        </div>
      </td>
      <td data-label="Enabled">
        <EnabledSwitch agent={agent} canWrite={canWrite} actions={actions} />
      </td>
      {canWrite ? (
        <td data-label="Actions" class="cell-actions">
          <button
            type="button"
            class="button button-small"
            onClick={() => actions.run(agent)}
            disabled={actions.busy(agent.id, 'run')}
            aria-label={`Run ${agent.name} now`}
          >
            <PlayIcon />
            Run now
          </button>
          <button
            type="button"
            class="button button-small"
            onClick={() => actions.cancel(agent)}
            disabled={!active || actions.busy(agent.id, 'cancel')}
            aria-label={`Cancel the runs of ${agent.name}`}
          >
            <StopIcon />
            Cancel
          </button>
        </td>
      ) : null}
    </tr>
  );
}

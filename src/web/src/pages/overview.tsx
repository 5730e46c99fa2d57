import { PERIODS } from '../../../domain/types';
import { globalStats, listAgents, type Agent, type Period } from '../api';
import { Loading, Notice, PeriodPicker, RunningTag, StatCard, StatusBadge, TimeAgo, periodWords } from '../components/bits';
import { DailyChart } from '../components/chart';
import { DeploymentSpend, DeploymentSpendBanner } from '../components/deployment-spend';
import { count, usd } from '../format';
import { useLive, useNow, useStoredState, useTitle } from '../hooks';
import { Link } from '../router';
import { describeSchedule } from '../schedule';

export function OverviewPage() {
  useTitle('Overview');
  const now = useNow();
  const [period, setPeriod] = useStoredState<Period>('cron-agents.period', PERIODS, '7d');
  const live = useLive(() => Promise.all([globalStats(period), listAgents()]), [period]);
  const [stats, agents] = live.data ?? [null, null];
  const running = new Set(stats?.runningAgentIds ?? []);
  const runningAgents = (agents ?? []).filter((a) => running.has(a.id) || a.lastStatus === 'running' || a.lastStatus === 'queued');
  const recent = (agents ?? [])
    .filter((a) => a.lastRunAt !== null)
    .sort((a, b) => Date.parse(b.lastRunAt!) - Date.parse(a.lastRunAt!))
    .slice(0, 6);
  const upcoming = (agents ?? [])
    .filter((a) => a.nextRunAt !== null)
    .sort((a, b) => Date.parse(a.nextRunAt!) - Date.parse(b.nextRunAt!))
    .slice(0, 6);

  return (
    <>
      <div class="page-header">
        <div>
          <h1 tabIndex={-1}>Overview</h1>
          <p class="muted">All agents, {periodWords(period)}.</p>
        </div>
        <PeriodPicker value={period} onChange={setPeriod} />
      </div>
      {live.error && !live.data ? <Notice kind="error">{live.error.message}</Notice> : null}
      {!stats || !agents ? (
        <Loading />
      ) : (
        <>
          <DeploymentSpendBanner stats={stats} />
          <section class="stats" aria-label="Figures">
            <StatCard testId="stat-agents" label="Agents" value={count(stats.totalAgents)} />
            <StatCard testId="stat-active" label="Active agents" value={count(stats.activeAgents)} hint="enabled and scheduled" />
            <StatCard testId="stat-runs" label="Runs" value={count(stats.runsInPeriod)} hint={periodWords(period)} />
            <StatCard testId="stat-success" label="Success rate" value={`${stats.successRate}%`} hint="of finished runs" />
            <StatCard testId="stat-cost" label="Total cost" value={usd(stats.totalCostUsd)} hint={periodWords(period)} />
            <StatCard testId="stat-running" label="Running now" value={count(runningAgents.length)} hint={runningAgents.length === 1 ? 'agent' : 'agents'} />
          </section>

          <section class="card charts" aria-label="Daily activity">
            <DailyChart days={stats.dailyRuns} kind="runs" title="Runs per day (UTC)" />
            <DailyChart days={stats.dailyRuns} kind="cost" title="Cost per day (UTC)" />
          </section>

          <DeploymentSpend stats={stats} />

          <div class="columns">
            <section class="card" aria-labelledby="running-title">
              <h2 id="running-title">Runs in progress</h2>
              {runningAgents.length === 0 ? (
                <p class="muted">Nothing is running right now.</p>
              ) : (
                <ul class="plain-list" data-testid="running-list">
                  {runningAgents.map((agent) => (
                    <li key={agent.id}>
                      <Link href={`/agents/${agent.id}`}>{agent.name}</Link>
                      {agent.lastStatus === 'queued' && !running.has(agent.id) ? <StatusBadge status="queued" /> : <RunningTag />}
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section class="card" aria-labelledby="upcoming-title">
              <h2 id="upcoming-title">Coming up</h2>
              <AgentTimeList agents={upcoming} empty="No agent is scheduled." now={now} which="next" />
            </section>
            <section class="card" aria-labelledby="recent-title">
              <h2 id="recent-title">Latest runs</h2>
              <AgentTimeList agents={recent} empty="No agent has run yet." now={now} which="last" />
            </section>
          </div>
          {agents.length === 0 ? (
            <Notice kind="info">
              No agents yet. <Link href="/agents/new">Create the first one</Link>.
            </Notice>
          ) : null}
        </>
      )}
    </>
  );
}

function AgentTimeList({ agents, empty, now, which }: { agents: Agent[]; empty: string; now: number; which: 'next' | 'last' }) {
  if (agents.length === 0) return <p class="muted">{empty}</p>;
  return (
    <ul class="plain-list">
      {agents.map((agent) => (
        <li key={agent.id}>
          <span class="list-main">
            <Link href={`/agents/${agent.id}`}>{agent.name}</Link>
            <span class="muted small">{which === 'next' ? (describeSchedule(agent.schedule) ?? agent.schedule) : null}</span>
          </span>
          <span class="list-side">
            {which === 'last' ? <StatusBadge status={agent.lastStatus} /> : null}
            <TimeAgo iso={which === 'next' ? agent.nextRunAt : agent.lastRunAt} now={now} />
          </span>
        </li>
      ))}
    </ul>
  );
}

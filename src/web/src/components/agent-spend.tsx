import { agentForecast, type Agent, type AgentStats } from '../api';
import { useLive } from '../hooks';
import { TimeAgo } from './bits';
import { AlertIcon } from './icons';
import { SLOW_POLL_MS, SpendBanner, SpendFigures, useWarnAtPercent } from './spend-panel';

/** The agent page's part of issue 11: why the service paused the agent, its caps' banner, and its spend and forecast. */

/** Above the page: the pause (with its reason and time) and any cap of the agent that is used up or past its warning. */
export function AgentNotices({ agent, stats }: { agent: Agent; stats: AgentStats }) {
  const warnAtPercent = useWarnAtPercent();
  return (
    <>
      {agent.pausedReason && !agent.enabled ? (
        <div class="notice notice-warning" role="status" data-testid="agent-paused">
          <AlertIcon />
          <div>
            <strong>Paused by the service</strong>
            {agent.pausedAt ? (
              <>
                {' '}
                <TimeAgo iso={agent.pausedAt} />
              </>
            ) : null}
            : {agent.pausedReason}
            <div class="small">Its schedule is off until it is enabled again.</div>
          </div>
        </div>
      ) : null}
      <SpendBanner spend={stats.spend} warnAtPercent={warnAtPercent} whose={agent.name} />
    </>
  );
}

/** The agent's spend this month and today against its own caps, and what its schedule will cost. */
export function AgentSpend({ agent, stats }: { agent: Agent; stats: AgentStats }) {
  const warnAtPercent = useWarnAtPercent();
  // Asked again when the schedule changes; otherwise slowly: it moves with each finished run only.
  const forecast = useLive(() => agentForecast(agent.id), [agent.id, agent.schedule, agent.timezone], SLOW_POLL_MS);
  return (
    <>
      <div class="section-header">
        <h2 id="agent-spend-title">Spend</h2>
        <span class="muted small">{agent.enabled ? "Against the agent's own caps" : 'Disabled: the projection is what its schedule would cost'}</span>
      </div>
      <section class="card spend" aria-labelledby="agent-spend-title" data-testid="agent-spend">
        <SpendFigures spend={stats.spend} forecast={forecast.data} warnAtPercent={warnAtPercent} noRunsWords="No finished runs yet to estimate from" />
      </section>
    </>
  );
}

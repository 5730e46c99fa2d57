import { deploymentForecast, type GlobalStats } from '../api';
import { useLive } from '../hooks';
import { SLOW_POLL_MS, SpendBanner, SpendFigures, useWarnAtPercent } from './spend-panel';

/** The overview's part of issue 11: the deployment's caps (GET/PUT /api/budget), their banner, and every enabled agent's forecast summed. */

/** At the top of the overview: a deployment cap used up or past its warning. */
export function DeploymentSpendBanner({ stats }: { stats: GlobalStats }) {
  const warnAtPercent = useWarnAtPercent();
  return <SpendBanner spend={stats.spend} warnAtPercent={warnAtPercent} whose="The deployment" />;
}

/** The deployment's spend this month and today against its caps, the projection for the month and the next 30 days. */
export function DeploymentSpend({ stats }: { stats: GlobalStats }) {
  const warnAtPercent = useWarnAtPercent();
  const forecast = useLive(() => deploymentForecast(), [], SLOW_POLL_MS);
  return (
    <section class="card spend" aria-labelledby="deployment-spend-title" data-testid="deployment-spend">
      <div class="spend-header">
        <h2 id="deployment-spend-title">Spend</h2>
        <span class="muted small">All agents, against the deployment&apos;s caps; the projection covers enabled agents</span>
      </div>
      <SpendFigures spend={stats.spend} forecast={forecast.data} warnAtPercent={warnAtPercent} noRunsWords="No agent has finished runs to estimate from" />
    </section>
  );
}

import type { Clock } from '../clock.js';
import { parseSchedule, type CronSchedule } from '../domain/cron.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { FORECAST_DAYS_DEFAULT, FORECAST_RUNS, forecastSchedule, sumForecasts, type DeploymentForecast, type Forecast } from '../domain/forecast.js';
import type { Agent } from '../domain/types.js';
import type { Store } from '../store/store.js';

export interface ForecastsDeps {
  store: Store;
  clock: Clock;
}

/** The schedule an agent has, or null when it no longer parses (rules of cron.ts may be stricter than when it was saved). */
function scheduleOf(agent: Agent): CronSchedule | null {
  try {
    return parseSchedule(agent.schedule, agent.timezone);
  } catch {
    return null;
  }
}

/** No slots, at the agent's cost: what a schedule that does not parse forecasts. */
const NEVER = { nextAfter: () => null, latestAtOrBefore: () => null };

/**
 * The cost forecast (domain/forecast.ts) of an agent, of the deployment's enabled agents, and of a
 * schedule being typed for an agent. Reads only: the agent's schedule and its latest runs' cost.
 */
export class Forecasts {
  constructor(private readonly deps: ForecastsDeps) {}

  /** What the agent's schedule will cost in the next `days` days; disabled or not (it says what enabling it costs). */
  async agent(agentId: string, days = FORECAST_DAYS_DEFAULT): Promise<Forecast> {
    const agent = await this.deps.store.getAgent(agentId);
    if (!agent) throw new NotFoundError(`agent ${agentId} not found`);
    return this.forecast(agent, scheduleOf(agent), days);
  }

  /** Every enabled agent's forecast, summed. */
  async deployment(days = FORECAST_DAYS_DEFAULT): Promise<DeploymentForecast> {
    const now = this.deps.clock.now();
    const agents = (await this.deps.store.listAgents()).filter((agent) => agent.enabled);
    const costs = await this.deps.store.recentRunCosts(
      agents.map((agent) => agent.id),
      FORECAST_RUNS,
    );
    const parts = agents.map((agent) => {
      const agentCosts = costs.get(agent.id) ?? [];
      const schedule = scheduleOf(agent) ?? { ...NEVER, expression: agent.schedule, timezone: agent.timezone };
      return { agentId: agent.id, forecast: forecastSchedule(schedule, now, days, agentCosts), costs: agentCosts };
    });
    return sumForecasts(days, now, parts);
  }

  /**
   * A schedule being typed (checked already: the preview's canonical expression and zone), priced
   * at `agentId`'s latest runs; a ValidationError naming `agentId` when there is no such agent.
   */
  async schedule(agentId: string, expression: string, timezone: string, days = FORECAST_DAYS_DEFAULT): Promise<Forecast> {
    const agent = await this.deps.store.getAgent(agentId);
    if (!agent) throw ValidationError.field('agentId', `no agent has the id "${agentId}"`);
    return this.forecast(agent, parseSchedule(expression, timezone), days);
  }

  private async forecast(agent: Agent, schedule: CronSchedule | null, days: number): Promise<Forecast> {
    const costs = (await this.deps.store.recentRunCosts([agent.id], FORECAST_RUNS)).get(agent.id) ?? [];
    const now = this.deps.clock.now();
    return forecastSchedule(schedule ?? { ...NEVER, expression: agent.schedule, timezone: agent.timezone }, now, days, costs);
  }
}

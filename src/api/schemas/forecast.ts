import { Type, type Static } from 'typebox';
import { FORECAST_DAYS_DEFAULT, FORECAST_DAYS_MAX, FORECAST_RUNS } from '../../domain/forecast.js';
import { Instant, OrNull } from './common.js';

/** The cost forecast (issue 11): GET /api/agents/:id/forecast, GET /api/forecast, and the schedule preview's `forecast`. */

export const ForecastQuery = Type.Object(
  {
    days: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: FORECAST_DAYS_MAX,
        description: `How many days ahead, as calendar days in each agent's timezone. Default: ${FORECAST_DAYS_DEFAULT}`,
      }),
    ),
  },
  { additionalProperties: false },
);

const Usd = (description: string) => OrNull(Type.Number(), { description });

const ProjectionJson = Type.Object(
  {
    p50: Usd('Fires times the median cost of a run; null without runs to go by'),
    p95: Usd('Fires times the 95th percentile cost of a run; null without runs to go by'),
  },
  { description: 'Projected spend in USD' },
);

const CostPerRunJson = Type.Object({
  p50: Usd('Median cost of a run'),
  p95: Usd('95th percentile cost of a run (linear interpolation between the nearest ranks)'),
  basedOnRuns: Type.Integer({
    description: `How many runs the percentiles come from: the latest ${FORECAST_RUNS} that started and ended (success, error, budget_exceeded, cancelled); skipped runs and runs that never started are left out`,
  }),
});

const RestOfMonthJson = Type.Object(
  {
    until: Instant,
    fires: Type.Integer(),
    projectedUsd: ProjectionJson,
  },
  {
    description:
      "Extension: the same projection from now until `until`, the start of the next UTC month (the monthly caps' window); this month's spend so far plus it is the projection for the month",
  },
);

const forecastProperties = {
  days: Type.Integer(),
  fires: Type.Integer({
    description: "The schedule's slots in the next `days` calendar days in its timezone (from now to the same local time `days` days later)",
  }),
  costPerRun: CostPerRunJson,
  projectedUsd: ProjectionJson,
  restOfMonth: RestOfMonthJson,
};

export const ForecastJson = Type.Object(forecastProperties, {
  description: "What the schedule will cost: its slots in the next days times the percentiles of its latest runs' cost",
});
export type ForecastJson = Static<typeof ForecastJson>;

export const DeploymentForecastJson = Type.Object(
  {
    ...forecastProperties,
    agents: Type.Array(
      Type.Object({
        agentId: Type.String(),
        fires: Type.Integer(),
        basedOnRuns: Type.Integer(),
        projectedUsd: ProjectionJson,
      }),
      { description: "Extension: each enabled agent's part" },
    ),
  },
  {
    description:
      "Every enabled agent's forecast summed: fires and projections add up (an agent without runs adds its fires, no money; projections are null when no agent has runs; the p95s summed are an upper estimate), costPerRun is over all their latest runs together",
  },
);
export type DeploymentForecastJson = Static<typeof DeploymentForecastJson>;

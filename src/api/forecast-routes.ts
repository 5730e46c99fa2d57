import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Services } from '../services/services.js';
import { presentDeploymentForecast, presentForecast } from './present.js';
import { Data, DeploymentForecastJson, ErrorBody, ForecastJson, ForecastQuery, IdParams } from './schemas/index.js';

const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];
const tags = ['stats'];

/** The cost forecast (issue 11): an agent's schedule, and the deployment's enabled agents, priced at their latest runs. Any role may read it. */
export const forecastRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  api.get(
    '/api/agents/:id/forecast',
    {
      schema: {
        tags,
        security,
        operationId: 'getAgentForecast',
        summary: "What an agent's schedule will cost: its slots in the next days times its latest runs' cost",
        params: IdParams,
        querystring: ForecastQuery,
        response: { 200: Data(ForecastJson), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => ({ data: presentForecast(await services.forecasts.agent(request.params.id, request.query.days)) }),
  );

  api.get(
    '/api/forecast',
    {
      schema: {
        tags,
        security,
        operationId: 'getDeploymentForecast',
        summary: 'What every enabled agent will cost in the next days, summed',
        querystring: ForecastQuery,
        response: { 200: Data(DeploymentForecastJson), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => ({ data: presentDeploymentForecast(await services.forecasts.deployment(request.query.days)) }),
  );
};

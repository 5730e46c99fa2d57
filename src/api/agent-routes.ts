import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../services/services.js';
import { presentAgent, presentAgentList, presentAgentStats, presentGlobalStats, presentRun } from './present.js';
import {
  AgentJson,
  AgentListJson,
  AgentsQuery,
  AgentStatsJson,
  CancelledJson,
  CreateAgentBody,
  Data,
  DeletedAgentJson,
  ErrorBody,
  GlobalStatsJson,
  IdParams,
  RunJson,
  RunStartedJson,
  RunsQuery,
  StatsQuery,
  UpdateAgentBody,
} from './schemas/index.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };
const tags = ['agents'];
/** A bearer token or the dashboard's session cookie: auth.ts takes either on every /api route. */
const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];

/**
 * Every route of the agents API (spec: agents-api.txt). A request is the Actor a service acts
 * for: its user, and its logger (so the service's log lines carry the request id).
 */
export const agentRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  await api.register(agentCrudRoutes, { services });
  await api.register(agentActionRoutes, { services });
  await api.register(agentHistoryRoutes, { services });
};

/** Create, list, read, change and delete agents. */
const agentCrudRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { agents } = services;

  api.get(
    '/api/agents',
    {
      schema: {
        tags,
        security,
        operationId: 'listAgents',
        summary: 'List agents by name, or a page of them',
        querystring: AgentsQuery,
        response: { 200: AgentListJson, ...errors },
      },
    },
    async (request) => presentAgentList(await agents.list(request.query)),
  );

  api.post(
    '/api/agents',
    {
      schema: { tags, security, operationId: 'createAgent', summary: 'Create an agent', body: CreateAgentBody, response: { 200: Data(AgentJson), ...errors } },
    },
    async (request) => ({ data: presentAgent(await agents.create(request.body, request)) }),
  );

  api.get(
    '/api/agents/:id',
    { schema: { tags, security, operationId: 'getAgent', summary: 'Get a single agent', params: IdParams, response: { 200: Data(AgentJson), ...errors } } },
    async (request) => ({ data: presentAgent(await agents.get(request.params.id)) }),
  );

  api.patch(
    '/api/agents/:id',
    {
      schema: {
        tags,
        security,
        operationId: 'updateAgent',
        summary: 'Update an agent',
        params: IdParams,
        body: UpdateAgentBody,
        response: { 200: Data(AgentJson), ...errors },
      },
    },
    async (request) => ({ data: presentAgent(await agents.update(request.params.id, request.body, request)) }),
  );

  api.delete(
    '/api/agents/:id',
    {
      schema: {
        tags,
        security,
        operationId: 'deleteAgent',
        summary: 'Delete an agent and all its runs',
        params: IdParams,
        response: { 200: Data(DeletedAgentJson), ...errors },
      },
    },
    async (request) => ({ data: await agents.delete(request.params.id, request) }),
  );
};

/** Manual runs and cancels. */
const agentActionRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { agents } = services;

  api.post(
    '/api/agents/:id/run',
    {
      schema: {
        tags,
        security,
        operationId: 'runAgent',
        summary: 'Trigger a manual run; returns at once',
        params: IdParams,
        response: { 200: RunStartedJson, ...errors },
      },
    },
    async (request) => {
      const run = await agents.run(request.params.id, request);
      return { message: 'Agent started', runId: run.id };
    },
  );

  api.post(
    '/api/agents/:id/cancel',
    {
      schema: {
        tags,
        security,
        operationId: 'cancelAgentRuns',
        summary: 'Cancel running (and queued) executions of an agent',
        params: IdParams,
        response: { 200: CancelledJson, ...errors },
      },
    },
    async (request) => {
      const count = await agents.cancel(request.params.id, request);
      return { success: true, message: `Cancelled ${count} running execution(s)`, cancelledCount: count };
    },
  );
};

/** What agents did: run history, and stats of one agent and of all. */
const agentHistoryRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { agents } = services;

  api.get(
    '/api/agents/:id/runs',
    {
      schema: {
        tags: ['runs'],
        security,
        operationId: 'listAgentRuns',
        summary: 'Run history, newest first',
        params: IdParams,
        querystring: RunsQuery,
        response: { 200: Data(Type.Array(RunJson)), ...errors },
      },
    },
    async (request) => ({ data: (await agents.runs(request.params.id, request.query)).map(presentRun) }),
  );

  api.get(
    '/api/agents/stats',
    {
      schema: {
        tags: ['stats'],
        security,
        operationId: 'getGlobalStats',
        summary: 'Global agent stats',
        querystring: StatsQuery,
        response: { 200: Data(GlobalStatsJson), ...errors },
      },
    },
    async (request) => ({ data: presentGlobalStats(await agents.globalStats(request.query.period)) }),
  );

  api.get(
    '/api/agents/:id/stats',
    {
      schema: {
        tags: ['stats'],
        security,
        operationId: 'getAgentStats',
        summary: 'Stats of one agent',
        params: IdParams,
        querystring: StatsQuery,
        response: { 200: Data(AgentStatsJson), ...errors },
      },
    },
    async (request) => ({ data: presentAgentStats(await agents.stats(request.params.id, request.query.period)) }),
  );
};

import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { LIMITS } from '../defaults.js';
import { planAgentUpdate, planNewAgent } from '../domain/agent-fields.js';
import { NotFoundError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { PERIOD_MS } from '../domain/types.js';
import type { ApiDeps } from './api-deps.js';
import { presentAgent, presentAgentStats, presentGlobalStats, presentRun } from './present.js';
import {
  AgentIdParams,
  AgentJson,
  AgentStatsJson,
  CreateAgentBody,
  Data,
  ErrorBody,
  GlobalStatsJson,
  RunJson,
  RunsQuery,
  StatsQuery,
  UpdateAgentBody,
} from './schemas.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };
const tags = ['agents'];
const security = [{ bearer: [] }];

/** Every route of the agents API (spec: agents-api.txt). */
export function agentRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store, clock } = deps;

  /** Runs executing on other instances hear of the cancel at once (their heartbeat is the fallback). */
  const notifyOthers = async (runIds: string[]) => {
    try {
      await store.notifyCancel(runIds);
    } catch (error) {
      app.log.warn({ err: error }, 'could not notify other instances of a cancel; their heartbeat will');
    }
  };

  const requireAgent = async (id: string) => {
    const agent = await store.getAgent(id);
    if (!agent) throw new NotFoundError(`agent ${id} not found`);
    return agent;
  };

  api.get(
    '/api/agents',
    { schema: { tags, security, summary: 'List all agents, ordered by name', response: { 200: Data(Type.Array(AgentJson)), ...errors } } },
    async () => ({ data: (await store.listAgents()).map(presentAgent) }),
  );

  api.post(
    '/api/agents',
    { schema: { tags, security, summary: 'Create an agent', body: CreateAgentBody, response: { 200: Data(AgentJson), ...errors } } },
    async (request) => {
      const now = clock.now();
      const { fields, nextFireAt } = planNewAgent(request.body, now);
      const agent = await store.createAgent(fields, request.user?.id ?? null, nextFireAt, now);
      deps.scheduler.wake();
      request.log.info({ agentId: agent.id, schedule: agent.schedule, enabled: agent.enabled }, 'agent created');
      return { data: presentAgent(agent) };
    },
  );

  api.get(
    '/api/agents/stats',
    { schema: { tags, security, summary: 'Global agent stats', querystring: StatsQuery, response: { 200: Data(GlobalStatsJson), ...errors } } },
    async (request) => {
      const now = clock.now();
      const since = now - PERIOD_MS[request.query.period ?? '7d'];
      return { data: presentGlobalStats(await store.globalStats(since, now)) };
    },
  );

  api.get(
    '/api/agents/:id',
    { schema: { tags, security, summary: 'Get a single agent', params: AgentIdParams, response: { 200: Data(AgentJson), ...errors } } },
    async (request) => ({ data: presentAgent(await requireAgent(request.params.id)) }),
  );

  api.patch(
    '/api/agents/:id',
    {
      schema: { tags, security, summary: 'Update an agent', params: AgentIdParams, body: UpdateAgentBody, response: { 200: Data(AgentJson), ...errors } },
    },
    async (request) => {
      const now = clock.now();
      const agent = await store.updateAgent(request.params.id, (current) => planAgentUpdate(current, request.body, now), now);
      if (!agent) throw new NotFoundError(`agent ${request.params.id} not found`);
      deps.scheduler.wake();
      request.log.info({ agentId: agent.id, fields: Object.keys(request.body) }, 'agent updated');
      return { data: presentAgent(agent) };
    },
  );

  api.delete(
    '/api/agents/:id',
    {
      schema: {
        tags,
        security,
        summary: 'Delete an agent and all its runs',
        params: AgentIdParams,
        response: { 200: Data(Type.Object({ id: Type.String(), name: Type.String() })), ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      await requireAgent(id);
      // Stop what runs before the rows go, so no executor keeps spending on a deleted agent.
      const { runningIds } = await store.requestCancel(id, clock.now());
      deps.executor?.cancelAgentLocal(id);
      await notifyOthers(runningIds);
      const deleted = await store.deleteAgent(id);
      if (!deleted) throw new NotFoundError(`agent ${id} not found`);
      deps.scheduler.wake();
      request.log.info({ agentId: id }, 'agent deleted');
      return { data: deleted };
    },
  );

  api.post(
    '/api/agents/:id/run',
    {
      schema: {
        tags,
        security,
        summary: 'Trigger a manual run; returns at once',
        params: AgentIdParams,
        response: { 200: Type.Object({ message: Type.String(), runId: Type.String() }), ...errors },
      },
    },
    async (request) => {
      const run = await store.enqueueManualRun(request.params.id, newId(), clock.now());
      if (!run) throw new NotFoundError(`agent ${request.params.id} not found`);
      deps.executor?.wake();
      request.log.info({ agentId: run.agentId, runId: run.id }, 'manual run queued');
      return { message: 'Agent started', runId: run.id };
    },
  );

  api.post(
    '/api/agents/:id/cancel',
    {
      schema: {
        tags,
        security,
        summary: 'Cancel running (and queued) executions of an agent',
        params: AgentIdParams,
        response: { 200: Type.Object({ success: Type.Boolean(), message: Type.String(), cancelledCount: Type.Integer() }), ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      await requireAgent(id);
      const result = await store.requestCancel(id, clock.now());
      deps.executor?.cancelLocal(result.runningIds);
      await notifyOthers(result.runningIds);
      const count = result.cancelledQueued.length + result.runningIds.length;
      if (count === 0) throw new NotFoundError(`agent ${id} has no running executions`);
      request.log.info({ agentId: id, count }, 'runs cancelled');
      return { success: true, message: `Cancelled ${count} running execution(s)`, cancelledCount: count };
    },
  );

  api.get(
    '/api/agents/:id/runs',
    {
      schema: {
        tags,
        security,
        summary: 'Run history, newest first',
        params: AgentIdParams,
        querystring: RunsQuery,
        response: { 200: Data(Type.Array(RunJson)), ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      await requireAgent(id);
      const { limit = LIMITS.runsLimitDefault, period } = request.query;
      const since = period ? clock.now() - PERIOD_MS[period] : null;
      return { data: (await store.listRuns(id, { limit, since })).map(presentRun) };
    },
  );

  api.get(
    '/api/agents/:id/stats',
    {
      schema: {
        tags,
        security,
        summary: 'Stats of one agent',
        params: AgentIdParams,
        querystring: StatsQuery,
        response: { 200: Data(AgentStatsJson), ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      await requireAgent(id);
      const now = clock.now();
      const since = now - PERIOD_MS[request.query.period ?? '7d'];
      return { data: presentAgentStats(await store.agentStats(id, since, now)) };
    },
  );
}

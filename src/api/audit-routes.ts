import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../services/services.js';
import { presentAgentVersion, presentAuditEntry } from './present.js';
import { AgentVersionJson, AuditPageJson, AuditQueryParams, Data, ErrorBody, IdParams, VersionsQuery } from './schemas/index.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };
/** A bearer token or the dashboard's session cookie: auth.ts takes either on every /api route. */
const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];

/**
 * The audit trail (every role reads it: admins all of it, others the entries about agents) and
 * agents' versions (services/audit.ts).
 */
export const auditRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { audit } = services;

  api.get(
    '/api/audit',
    {
      schema: {
        tags: ['audit'],
        security,
        operationId: 'listAuditEntries',
        summary: 'The audit trail, newest first, a page at a time',
        description:
          'Who changed what, when, from which address and by which credential. Admins read every entry; other roles read the entries about agents, ' +
          'without addresses and credentials. Pages follow `nextCursor` (pass it as `cursor` with the same filters).',
        querystring: AuditQueryParams,
        response: { 200: AuditPageJson, ...errors },
      },
    },
    async (request) => {
      const { before, ...filters } = request.query;
      const page = await audit.list({ ...filters, ...(before !== undefined ? { before: Date.parse(before) } : {}) }, request.user);
      return { data: page.entries.map(presentAuditEntry), nextCursor: page.nextCursor };
    },
  );

  api.get(
    '/api/agents/:id/versions',
    {
      schema: {
        tags: ['agents'],
        security,
        operationId: 'listAgentVersions',
        summary: "An agent's versions, newest first",
        description:
          'A version is made with the agent and at each change of its prompt, schedule, timezone, limits, tools or run options; ' +
          "each run's `agentVersion` names the one it ran.",
        params: IdParams,
        querystring: VersionsQuery,
        response: { 200: Data(Type.Array(AgentVersionJson)), ...errors },
      },
    },
    async (request) => ({ data: (await audit.versions(request.params.id, request.query)).map(presentAgentVersion) }),
  );
};

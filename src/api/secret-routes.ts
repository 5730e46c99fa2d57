import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Services } from '../services/services.js';
import { presentSecret } from './present.js';
import { Data, DeletedSecretJson, ErrorBody, IdParams, SecretJson, SecretParams, SetSecretBody } from './schemas/index.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };
const tags = ['secrets'];
/** A bearer token or the dashboard's session cookie: auth.ts takes either on every /api route. */
const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];

/**
 * An agent's secrets, write-only: viewers may list the names, members and admins set and delete
 * them (auth.ts's defaults by method); no response carries a value.
 */
export const secretRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { secrets } = services;

  api.get(
    '/api/agents/:id/secrets',
    {
      schema: {
        tags,
        security,
        operationId: 'listSecrets',
        summary: "List an agent's secrets by name (never their values)",
        params: IdParams,
        response: { 200: Data(Type.Array(SecretJson)), ...errors },
      },
    },
    async (request) => ({ data: (await secrets.list(request.params.id)).map(presentSecret) }),
  );

  api.put(
    '/api/agents/:id/secrets/:name',
    {
      schema: {
        tags,
        security,
        operationId: 'setSecret',
        summary: 'Set or replace a secret; runs of the agent get it as the environment variable NAME',
        params: SecretParams,
        body: SetSecretBody,
        response: { 200: Data(SecretJson), ...errors },
      },
    },
    async (request) => ({ data: presentSecret(await secrets.set(request.params.id, request.params.name, request.body.value, request)) }),
  );

  api.delete(
    '/api/agents/:id/secrets/:name',
    {
      schema: {
        tags,
        security,
        operationId: 'deleteSecret',
        summary: 'Delete a secret',
        params: SecretParams,
        response: { 200: Data(DeletedSecretJson), ...errors },
      },
    },
    async (request) => ({ data: await secrets.delete(request.params.id, request.params.name, request) }),
  );
};

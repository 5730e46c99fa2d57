import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { LIMITS } from '../defaults.js';
import type { Services } from '../services/services.js';
import { presentIssuedToken, presentToken, presentUser } from './present.js';
import {
  CreateTokenBody,
  CreateUserBody,
  Data,
  ErrorBody,
  IdParams,
  IssuedTokenJson,
  PasswordSetJson,
  RevokedTokenJson,
  SetPasswordBody,
  TokenJson,
  UserJson,
} from './schemas/index.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };
/** A bearer token or the dashboard's session cookie: auth.ts takes either on every /api route. */
const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];
const admin = { role: 'admin' as const };
/** Every body here is a few short fields. */
const bodyLimit = LIMITS.smallBodyBytes;

/** Extensions: who am I, and user, password and token management for admins (the CLI does the same). */
export const accessRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  await api.register(userRoutes, { services });
  await api.register(tokenRoutes, { services });
};

/** Who am I; users and their passwords. */
const userRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { access } = services;

  api.get(
    '/api/me',
    {
      schema: {
        tags: ['access'],
        security,
        operationId: 'getCurrentUser',
        summary: 'The authenticated user',
        response: { 200: Data(UserJson), 401: ErrorBody },
      },
    },
    // Every /api route but the public ones has an authenticated user (src/api/auth.ts).
    async (request) => ({ data: presentUser(request.user!) }),
  );

  api.get(
    '/api/users',
    {
      config: admin,
      schema: { tags: ['access'], security, operationId: 'listUsers', summary: 'List users (admin)', response: { 200: Data(Type.Array(UserJson)), ...errors } },
    },
    async () => ({ data: (await access.listUsers()).map(presentUser) }),
  );

  api.post(
    '/api/users',
    {
      config: admin,
      bodyLimit,
      schema: {
        tags: ['access'],
        security,
        operationId: 'createUser',
        summary: 'Create a user (admin)',
        body: CreateUserBody,
        response: { 200: Data(UserJson), ...errors },
      },
    },
    async (request) => ({ data: presentUser(await access.createUser(request.body, request)) }),
  );

  api.put(
    '/api/users/:id/password',
    {
      config: admin,
      bodyLimit,
      schema: {
        tags: ['access'],
        security: [{ bearer: [] }, { session: [] }],
        operationId: 'setUserPassword',
        summary: "Set a user's dashboard password (admin); ends the user's sessions",
        params: IdParams,
        body: SetPasswordBody,
        response: { 200: Data(PasswordSetJson), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      await access.setPassword(request.params.id, request.body.password, request);
      return { data: { id: request.params.id, passwordSet: true } };
    },
  );
};

/** API tokens. */
const tokenRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { access } = services;

  api.get(
    '/api/tokens',
    {
      config: admin,
      schema: {
        tags: ['access'],
        security,
        operationId: 'listTokens',
        summary: 'List API tokens (admin)',
        response: { 200: Data(Type.Array(TokenJson)), ...errors },
      },
    },
    async () => ({ data: (await access.listTokens()).map(presentToken) }),
  );

  api.post(
    '/api/tokens',
    {
      config: admin,
      bodyLimit,
      schema: {
        tags: ['access'],
        security,
        operationId: 'createToken',
        summary: 'Create an API token for a user (admin); the token is in this response only',
        body: CreateTokenBody,
        response: { 200: Data(IssuedTokenJson), ...errors },
      },
    },
    async (request) => ({ data: presentIssuedToken(await access.issueTokenByName(request.body.user, request.body.label ?? 'api', request)) }),
  );

  api.delete(
    '/api/tokens/:id',
    {
      config: admin,
      schema: {
        tags: ['access'],
        security,
        operationId: 'revokeToken',
        summary: 'Revoke an API token (admin)',
        params: IdParams,
        response: { 200: Data(RevokedTokenJson), ...errors },
      },
    },
    async (request) => {
      await access.revokeToken(request.params.id, request);
      return { data: { id: request.params.id, revoked: true } };
    },
  );
};

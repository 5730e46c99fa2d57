import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import { displayPrefix, generateToken, hashToken } from '../domain/tokens.js';
import type { TokenInfo } from '../store/store.js';
import type { ApiDeps } from './api-deps.js';
import { Data, ErrorBody, RoleField } from './schemas.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };
const security = [{ bearer: [] }];
const admin = { role: 'admin' as const };

const UserJson = Type.Object({ id: Type.String(), name: Type.String(), role: RoleField, createdAt: Type.String() });
const TokenJson = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  userName: Type.String(),
  label: Type.String(),
  prefix: Type.String({ description: 'The first characters of the token' }),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
});

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const presentToken = (t: TokenInfo) => ({ ...t, createdAt: iso(t.createdAt)!, lastUsedAt: iso(t.lastUsedAt), revokedAt: iso(t.revokedAt) });

/** Extensions: who am I, and user and token management for admins (the CLI does the same). */
export function adminRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store, clock } = deps;

  api.get(
    '/api/me',
    { schema: { tags: ['users'], security, summary: 'The authenticated user', response: { 200: Data(UserJson), 401: ErrorBody } } },
    async (request) => {
      const user = request.user!;
      return { data: { ...user, createdAt: iso(user.createdAt)! } };
    },
  );

  api.get(
    '/api/users',
    { config: admin, schema: { tags: ['users'], security, summary: 'List users (admin)', response: { 200: Data(Type.Array(UserJson)), ...errors } } },
    async () => ({ data: (await store.listUsers()).map((u) => ({ ...u, createdAt: iso(u.createdAt)! })) }),
  );

  api.post(
    '/api/users',
    {
      config: admin,
      schema: {
        tags: ['users'],
        security,
        summary: 'Create a user (admin)',
        body: Type.Object(
          { name: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9._@-]+$' }), role: RoleField },
          { additionalProperties: false },
        ),
        response: { 200: Data(UserJson), ...errors },
      },
    },
    async (request) => {
      const user = await store.createUser({ name: request.body.name, role: request.body.role }, clock.now());
      return { data: { ...user, createdAt: iso(user.createdAt)! } };
    },
  );

  api.get(
    '/api/tokens',
    { config: admin, schema: { tags: ['tokens'], security, summary: 'List API tokens (admin)', response: { 200: Data(Type.Array(TokenJson)), ...errors } } },
    async () => ({ data: (await store.listTokens()).map(presentToken) }),
  );

  api.post(
    '/api/tokens',
    {
      config: admin,
      schema: {
        tags: ['tokens'],
        security,
        summary: 'Create an API token for a user (admin); the token is in this response only',
        body: Type.Object(
          { user: Type.String({ minLength: 1, maxLength: 100, description: 'User name' }), label: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
          { additionalProperties: false },
        ),
        response: { 200: Data(Type.Object({ token: Type.String(), info: TokenJson })), ...errors },
      },
    },
    async (request) => {
      const user = await store.findUserByName(request.body.user);
      if (!user) throw ValidationError.field('user', `no user named "${request.body.user}"`);
      const token = generateToken();
      const info = await store.createToken(
        { userId: user.id, label: request.body.label ?? 'api', tokenHash: hashToken(token), prefix: displayPrefix(token) },
        clock.now(),
      );
      return { data: { token, info: presentToken(info) } };
    },
  );

  api.delete(
    '/api/tokens/:id',
    {
      config: admin,
      schema: {
        tags: ['tokens'],
        security,
        summary: 'Revoke an API token (admin)',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: Data(Type.Object({ id: Type.String(), revoked: Type.Boolean() })), ...errors },
      },
    },
    async (request) => {
      const revoked = await store.revokeToken(request.params.id, clock.now());
      if (!revoked) throw new NotFoundError(`no active token with id ${request.params.id}`);
      return { data: { id: request.params.id, revoked: true } };
    },
  );
}

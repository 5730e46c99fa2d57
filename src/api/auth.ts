import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sessionCredential, tokenCredential } from '../domain/audit.js';
import { ForbiddenError, UnauthorizedError } from '../domain/errors.js';
import { CSRF_HEADER } from '../domain/sessions.js';
import type { Role, User } from '../domain/types.js';
import type { ActiveSession } from '../services/sign-in.js';
import type { Services } from '../services/services.js';
import { sessionCookie } from './session-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user; set on every /api route that requires authentication. */
    user: User | null;
    /** Set when the request was authenticated by the session cookie (not by a bearer token). */
    session: Omit<ActiveSession, 'user'> | null;
    /** What authenticated the request, as the audit trail names it (`token:<id>`, `session:<prefix>`); the Actor's credential. */
    credential: string | null;
  }
  interface FastifyContextConfig {
    /** Lowest role allowed. Default: viewer for GET/HEAD, member otherwise. */
    role?: Role;
    /** The route needs no authentication (health, OpenAPI document). */
    public?: boolean;
  }
}

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2 };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

async function userOfSession(request: FastifyRequest, sessionId: string, services: Services): Promise<User> {
  const sent = request.headers[CSRF_HEADER];
  const write = !SAFE_METHODS.has(request.method);
  const { user, ...session } = await services.signIn.authenticate(sessionId, { write, csrfSent: typeof sent === 'string' ? sent : null }, request.log);
  request.session = session;
  request.credential = sessionCredential(session.idHash);
  return user;
}

async function userOfBearer(request: FastifyRequest, services: Services): Promise<User> {
  const token = bearer(request);
  if (!token) throw new UnauthorizedError('missing bearer token: send "Authorization: Bearer <token>"');
  const { user, tokenId } = await services.access.authenticateBearer(token, request.log);
  request.credential = tokenCredential(tokenId);
  return user;
}

/**
 * Requires a valid bearer token, or else a dashboard session cookie (with its CSRF token on
 * writes), on every /api route but the public ones, and checks roles. An Authorization header
 * always wins: API clients are authenticated exactly as before sessions existed.
 */
export function installAuth(app: FastifyInstance, services: Services): void {
  app.decorateRequest('user', null);
  app.decorateRequest('session', null);
  app.decorateRequest('credential', null);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    // Decide on the route that matched, not the raw URL: the router decodes the path, so
    // `/%61pi/agents` reaches `/api/agents` although its raw URL does not start with `/api`.
    // Only when no route matched (a 404) is the raw URL all there is.
    const path = request.routeOptions.url ?? request.url;
    if (config?.public || !path.startsWith('/api')) return;
    const cookie = request.headers.authorization === undefined ? sessionCookie(request) : null;
    const user = cookie !== null ? await userOfSession(request, cookie, services) : await userOfBearer(request, services);
    request.user = user;
    const needed: Role = config?.role ?? (request.method === 'GET' || request.method === 'HEAD' ? 'viewer' : 'member');
    if (RANK[user.role] < RANK[needed]) {
      throw new ForbiddenError(`the ${user.role} role may not do this (needs ${needed})`);
    }
  });
}

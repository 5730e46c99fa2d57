import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { ForbiddenError, UnauthorizedError } from '../domain/errors.js';
import { hashToken, sameHash } from '../domain/tokens.js';
import type { Role, User } from '../domain/types.js';
import type { Store } from '../store/store.js';
import { authenticateSession, sessionCookie } from './session-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user; set on every /api route that requires authentication. */
    user: User | null;
  }
  interface FastifyContextConfig {
    /** Lowest role allowed. Default: viewer for GET/HEAD, member otherwise. */
    role?: Role;
    /** The route needs no authentication (health, OpenAPI document). */
    public?: boolean;
  }
}

const RANK: Record<Role, number> = { viewer: 0, member: 1, admin: 2 };

/** last_used_at is written at most once a minute per token, so reads do not turn into writes. */
const TOUCH_INTERVAL_MS = 60_000;

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

async function userOfBearer(request: FastifyRequest, deps: { store: Store; clock: Clock }): Promise<User> {
  const token = bearer(request);
  if (!token) throw new UnauthorizedError('missing bearer token: send "Authorization: Bearer <token>"');
  const hash = hashToken(token);
  const holder = await deps.store.findTokenHolder(hash);
  if (!holder || !sameHash(holder.tokenHash, hash)) throw new UnauthorizedError('invalid or revoked token');
  const now = deps.clock.now();
  if (holder.lastUsedAt === null || now - holder.lastUsedAt >= TOUCH_INTERVAL_MS) {
    deps.store.touchToken(holder.tokenId, now).catch((error: unknown) => request.log.warn({ err: error }, 'could not record token use'));
  }
  return holder.user;
}

/**
 * Requires a valid bearer token, or else a dashboard session cookie (with its CSRF token on
 * writes), on every /api route but the public ones, and checks roles. An Authorization header
 * always wins: API clients are authenticated exactly as before sessions existed.
 */
export function installAuth(app: FastifyInstance, deps: { store: Store; clock: Clock }): void {
  app.decorateRequest('user', null);
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    // Decide on the route that matched, not the raw URL: the router decodes the path, so
    // `/%61pi/agents` reaches `/api/agents` although its raw URL does not start with `/api`.
    // Only when no route matched (a 404) is the raw URL all there is.
    const path = request.routeOptions.url ?? request.url;
    if (config?.public || !path.startsWith('/api')) return;
    const cookie = request.headers.authorization === undefined ? sessionCookie(request) : null;
    const user = cookie !== null ? await authenticateSession(request, cookie, deps) : await userOfBearer(request, deps);
    request.user = user;
    const needed: Role = config?.role ?? (request.method === 'GET' || request.method === 'HEAD' ? 'viewer' : 'member');
    if (RANK[user.role] < RANK[needed]) {
      throw new ForbiddenError(`the ${user.role} role may not do this (needs ${needed})`);
    }
  });
}

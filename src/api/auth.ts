import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { ForbiddenError, UnauthorizedError } from '../domain/errors.js';
import { hashToken, sameHash } from '../domain/tokens.js';
import type { Role, User } from '../domain/types.js';
import type { Store } from '../store/store.js';

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

/** Requires a valid bearer token on every /api route but the public ones, and checks roles. */
export function installAuth(app: FastifyInstance, deps: { store: Store; clock: Clock }): void {
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config?.public || !request.url.startsWith('/api')) return;
    const token = bearer(request);
    if (!token) throw new UnauthorizedError('missing bearer token: send "Authorization: Bearer <token>"');
    const hash = hashToken(token);
    const holder = await deps.store.findTokenHolder(hash);
    if (!holder || !sameHash(holder.tokenHash, hash)) throw new UnauthorizedError('invalid or revoked token');
    const now = deps.clock.now();
    if (holder.lastUsedAt === null || now - holder.lastUsedAt >= TOUCH_INTERVAL_MS) {
      deps.store.touchToken(holder.tokenId, now).catch((error: unknown) => request.log.warn({ err: error }, 'could not record token use'));
    }
    request.user = holder.user;
    const needed: Role = config?.role ?? (request.method === 'GET' || request.method === 'HEAD' ? 'viewer' : 'member');
    if (RANK[holder.user.role] < RANK[needed]) {
      throw new ForbiddenError(`the ${holder.user.role} role may not do this (needs ${needed})`);
    }
  });
}

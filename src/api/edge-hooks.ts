import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LIMITS } from '../defaults.js';

/** A year: browsers that reached the service over HTTPS once keep to HTTPS. No includeSubDomains: other hosts of the domain are not ours to decide. */
export const STRICT_TRANSPORT_SECURITY = 'max-age=31536000';

/** Whether the request is for the API (decided on the route that matched, as auth.ts does; the raw URL only for a 404). */
function isApiRequest(request: FastifyRequest): boolean {
  const path = request.routeOptions.url ?? request.url;
  return path === '/api' || path.startsWith('/api/');
}

/** A strong ETag of an answer's bytes. */
function etagOf(payload: string): string {
  return `"${createHash('sha256').update(payload).digest('base64url').slice(0, 27)}"`;
}

/** Whether an If-None-Match header names `etag` (or is `*`); weak tags compare by their value. */
function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}

/**
 * What every answer gets at the edge, in one place:
 * - API answers: `X-Content-Type-Options: nosniff` and `Cache-Control: no-store` (they hold
 *   what a user may read; no cache along the way keeps them). The dashboard's files keep their
 *   own headers and CSP (static-routes.ts).
 * - Every answer to a request that came over HTTPS (directly, or from a trusted proxy):
 *   Strict-Transport-Security.
 * - A successful GET under /api: an ETag, and 304 with no body when If-None-Match names it. The
 *   dashboard polls its lists every few seconds; unchanged, they cost a hash, not the bytes.
 * - A route that declares no body takes at most LIMITS.smallBodyBytes of one.
 */
export function installEdgeHooks(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    if (route.bodyLimit === undefined && route.schema?.body === undefined) route.bodyLimit = LIMITS.smallBodyBytes;
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (request.protocol === 'https') reply.header('strict-transport-security', STRICT_TRANSPORT_SECURITY);
    if (!isApiRequest(request)) return payload;
    reply.header('x-content-type-options', 'nosniff').header('cache-control', 'no-store');
    if (request.method !== 'GET' || reply.statusCode !== 200 || typeof payload !== 'string') return payload;
    const etag = etagOf(payload);
    reply.header('etag', etag);
    if (!matchesIfNoneMatch(request.headers['if-none-match'], etag)) return payload;
    reply.code(304).removeHeader('content-type');
    return null;
  });
}

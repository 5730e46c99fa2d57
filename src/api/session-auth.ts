import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { ForbiddenError, UnauthorizedError } from '../domain/errors.js';
import {
  CSRF_HEADER,
  SESSION_COOKIE,
  SESSION_COOKIE_PATH,
  SESSION_MAX_MS,
  SESSION_TOUCH_MS,
  csrfTokenFor,
  hashSessionId,
  slidingExpiry,
} from '../domain/sessions.js';
import type { User } from '../domain/types.js';
import type { Store } from '../store/store.js';

/** The dashboard session a request was authenticated by. */
export interface RequestSession {
  idHash: string;
  csrfToken: string;
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request was authenticated by the session cookie (not by a bearer token). */
    session: RequestSession | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The value of the session cookie, or null. */
export function sessionCookie(request: FastifyRequest): string | null {
  const header = request.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    // Session ids are base64url: anything else is not ours (and is never looked up).
    return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : null;
  }
  return null;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Authenticates a request by its session cookie. Requests that change something must also
 * carry the session's CSRF token in `X-CSRF-Token`: another site can make a browser send the
 * cookie, but cannot read the token.
 */
export async function authenticateSession(request: FastifyRequest, sessionId: string, deps: { store: Store; clock: Clock }): Promise<User> {
  const now = deps.clock.now();
  const session = await deps.store.findSession(hashSessionId(sessionId), now);
  if (!session) throw new UnauthorizedError('the session has expired or was signed out: sign in again');
  const csrfToken = csrfTokenFor(sessionId);
  if (!SAFE_METHODS.has(request.method)) {
    const sent = request.headers[CSRF_HEADER];
    if (typeof sent !== 'string' || !sameText(sent, csrfToken)) {
      throw new ForbiddenError('missing or wrong X-CSRF-Token header: requests signed in by cookie must send the token GET /api/session gives');
    }
  }
  let expiresAt = session.expiresAt;
  if (now - session.lastSeenAt >= SESSION_TOUCH_MS) {
    expiresAt = slidingExpiry(session.createdAt, now);
    deps.store.touchSession(session.idHash, now, expiresAt).catch((error: unknown) => request.log.warn({ err: error }, 'could not record session use'));
  }
  request.session = { idHash: session.idHash, csrfToken, expiresAt };
  return session.user;
}

/** Sets the session cookie: httpOnly, SameSite=Strict, and Secure when the request came over HTTPS. */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, sessionId: string): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header(
    'set-cookie',
    `${SESSION_COOKIE}=${sessionId}; Path=${SESSION_COOKIE_PATH}; Max-Age=${Math.floor(SESSION_MAX_MS / 1000)}; HttpOnly; SameSite=Strict${secure}`,
  );
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  reply.header('set-cookie', `${SESSION_COOKIE}=; Path=${SESSION_COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict${secure}`);
}

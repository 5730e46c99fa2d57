import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIMITS } from '../defaults.js';
import { SIGN_IN_LIMIT_PER_ADDRESS, SIGN_IN_LIMIT_PER_PAIR, SIGN_IN_SLOWDOWN_AFTER, SIGN_IN_SLOWDOWN_MAX_MS, SIGN_IN_WINDOW_MS } from '../domain/sessions.js';
import type { Services } from '../services/services.js';
import { presentSession } from './present.js';
import { Data, ErrorBody, SessionJson, SignedOutJson, SignInBody } from './schemas/index.js';
import { clearSessionCookie, sessionCookie, setSessionCookie } from './session-cookie.js';

const tags = ['session'];
const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];

/**
 * Extensions for the dashboard: sign-in with a user name and password (an httpOnly session
 * cookie), the current session, and sign-out.
 */
export const sessionRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { signIn } = services;

  api.post(
    '/api/session',
    {
      config: { public: true },
      // Anyone may send it: a name and a password, never more.
      bodyLimit: LIMITS.smallBodyBytes,
      schema: {
        tags,
        // No credential: this is how one gets the session cookie.
        security: [],
        operationId: 'signIn',
        summary: 'Sign in with a user name and password; sets the session cookie',
        description:
          `Failed sign-ins are limited to ${SIGN_IN_LIMIT_PER_PAIR} per user name from one client address and ${SIGN_IN_LIMIT_PER_ADDRESS} per client address in ${SIGN_IN_WINDOW_MS / 60_000} minutes; beyond that the answer is 429 with Retry-After. ` +
          `After ${SIGN_IN_SLOWDOWN_AFTER} failures for a name from any addresses, its sign-ins are answered more slowly (up to ${SIGN_IN_SLOWDOWN_MAX_MS / 1000} s), never refused.`,
        body: SignInBody,
        response: { 200: Data(SessionJson), 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const { name, password } = request.body;
      const result = await signIn.signIn({ name, password, address: request.ip, previousSessionId: sessionCookie(request) }, request.log);
      if (result.outcome === 'refused') {
        const seconds = Math.ceil(result.retryAfterMs / 1000);
        return reply
          .status(429)
          .header('retry-after', String(seconds))
          .send({ error: { code: 'too_many_attempts', message: `too many failed sign-ins: try again in ${Math.ceil(seconds / 60)} minute(s)`, details: [] } });
      }
      setSessionCookie(request, reply, result.sessionId);
      return { data: presentSession(result.session.user, result.session) };
    },
  );

  api.get(
    '/api/session',
    {
      schema: {
        tags,
        security,
        operationId: 'getSession',
        summary: 'The current session (or token) and its user',
        response: { 200: Data(SessionJson), 401: ErrorBody },
      },
    },
    // Every /api route but the public ones has an authenticated user (src/api/auth.ts).
    async (request) => ({ data: presentSession(request.user!, request.session) }),
  );

  api.delete(
    '/api/session',
    {
      // Every role may sign out; with the cookie, the CSRF token is required like on any write.
      config: { role: 'viewer' },
      schema: {
        tags,
        security,
        operationId: 'signOut',
        summary: 'Sign out: ends the session and clears its cookie',
        response: { 200: Data(SignedOutJson), 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const session = request.session;
      if (!session) return { data: { signedOut: false } };
      await signIn.signOut(session.idHash);
      clearSessionCookie(request, reply);
      request.log.info({ user: request.user?.name }, 'signed out');
      return { data: { signedOut: true } };
    },
  );
};

import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { NotFoundError, UnauthorizedError } from '../domain/errors.js';
import { PASSWORD_MAX_LENGTH, checkNewPassword, hashPassword, verifyNothing, verifyPassword } from '../domain/passwords.js';
import {
  SIGN_IN_LIMIT_PER_ADDRESS,
  SIGN_IN_LIMIT_PER_NAME,
  SIGN_IN_WINDOW_MS,
  csrfTokenFor,
  generateSessionId,
  hashSessionId,
  retryAfterMs,
  signInSubjects,
  slidingExpiry,
} from '../domain/sessions.js';
import type { User } from '../domain/types.js';
import type { ApiDeps } from './api-deps.js';
import { Data, ErrorBody, RoleField } from './schemas.js';
import { clearSessionCookie, sessionCookie, setSessionCookie } from './session-auth.js';

const tags = ['session'];
const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];

const SessionJson = Type.Object({
  user: Type.Object({ id: Type.String(), name: Type.String(), role: RoleField, createdAt: Type.String({ format: 'date-time' }) }),
  method: Type.Unsafe<'session' | 'token'>({ type: 'string', enum: ['session', 'token'], description: 'How this request was authenticated' }),
  csrfToken: Type.Union([Type.String(), Type.Null()], {
    description: 'Send as X-CSRF-Token on every non-GET request authenticated by the session cookie; null for bearer tokens',
  }),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the session expires unless used; null for bearer tokens' }),
});

const SignInBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100, description: 'User name' }),
    password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
  },
  { additionalProperties: false },
);

const iso = (t: number) => new Date(t).toISOString();
const presentUser = (user: User) => ({ id: user.id, name: user.name, role: user.role, createdAt: iso(user.createdAt) });

/**
 * Extensions for the dashboard: sign-in with a user name and password (an httpOnly session
 * cookie), the current session, sign-out, and setting a user's password (admin).
 */
export function sessionRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { store, clock } = deps;

  api.post(
    '/api/session',
    {
      config: { public: true },
      schema: {
        tags,
        summary: 'Sign in with a user name and password; sets the session cookie',
        description: `Failed sign-ins are limited to ${SIGN_IN_LIMIT_PER_NAME} per user name and ${SIGN_IN_LIMIT_PER_ADDRESS} per client address in ${SIGN_IN_WINDOW_MS / 60_000} minutes; beyond that the answer is 429 with Retry-After.`,
        body: SignInBody,
        response: { 200: Data(SessionJson), 400: ErrorBody, 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const now = clock.now();
      const { name, password } = request.body;
      const subjects = signInSubjects(name, request.ip);
      const failures = await store.signInFailures([subjects.name, subjects.address], now - SIGN_IN_WINDOW_MS);
      const waitMs = Math.max(
        retryAfterMs(failures.get(subjects.name) ?? [], SIGN_IN_LIMIT_PER_NAME, now),
        retryAfterMs(failures.get(subjects.address) ?? [], SIGN_IN_LIMIT_PER_ADDRESS, now),
      );
      if (waitMs > 0) {
        const seconds = Math.ceil(waitMs / 1000);
        request.log.warn({ user: name, ip: request.ip }, 'sign-in refused: too many failed attempts');
        return reply
          .status(429)
          .header('retry-after', String(seconds))
          .send({ error: { code: 'too_many_attempts', message: `too many failed sign-ins: try again in ${Math.ceil(seconds / 60)} minute(s)`, details: [] } });
      }

      const credentials = await store.findUserCredentials(name);
      const valid = credentials?.passwordHash ? await verifyPassword(password, credentials.passwordHash) : await verifyNothing(password);
      if (!credentials || !valid) {
        await store.recordSignInFailure([subjects.name, subjects.address], now, now - SIGN_IN_WINDOW_MS);
        request.log.warn({ user: name, ip: request.ip }, 'sign-in failed');
        throw new UnauthorizedError('wrong user name or password');
      }

      await store.clearSignInFailures(subjects.name);
      // Signing in again from the same browser replaces its session rather than adding one.
      const previous = sessionCookie(request);
      if (previous) await store.deleteSession(hashSessionId(previous));
      const sessionId = generateSessionId();
      // The expiry slides with use (up to the maximum age, which the cookie itself lasts).
      const expiresAt = slidingExpiry(now, now);
      await store.createSession({ idHash: hashSessionId(sessionId), userId: credentials.user.id, expiresAt }, now);
      store.deleteExpiredSessions(now).catch((error: unknown) => request.log.warn({ err: error }, 'could not sweep expired sessions'));
      setSessionCookie(request, reply, sessionId);
      request.log.info({ user: credentials.user.name }, 'signed in');
      return {
        data: { user: presentUser(credentials.user), method: 'session' as const, csrfToken: csrfTokenFor(sessionId), expiresAt: iso(expiresAt) },
      };
    },
  );

  api.get(
    '/api/session',
    {
      schema: { tags, security, summary: 'The current session (or token) and its user', response: { 200: Data(SessionJson), 401: ErrorBody } },
    },
    async (request) => {
      const session = request.session;
      return {
        data: {
          user: presentUser(request.user!),
          method: session ? ('session' as const) : ('token' as const),
          csrfToken: session?.csrfToken ?? null,
          expiresAt: session ? iso(session.expiresAt) : null,
        },
      };
    },
  );

  api.delete(
    '/api/session',
    {
      // Every role may sign out; with the cookie, the CSRF token is required like on any write.
      config: { role: 'viewer' },
      schema: {
        tags,
        security,
        summary: 'Sign out: ends the session and clears its cookie',
        response: { 200: Data(Type.Object({ signedOut: Type.Boolean({ description: 'false for a bearer token, which stays valid' }) })), 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const session = request.session;
      if (!session) return { data: { signedOut: false } };
      await store.deleteSession(session.idHash);
      clearSessionCookie(request, reply);
      request.log.info({ user: request.user?.name }, 'signed out');
      return { data: { signedOut: true } };
    },
  );

  api.put(
    '/api/users/:id/password',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['users'],
        security,
        summary: "Set a user's dashboard password (admin); ends the user's sessions",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        body: Type.Object({ password: Type.String({ maxLength: PASSWORD_MAX_LENGTH }) }, { additionalProperties: false }),
        response: {
          200: Data(Type.Object({ id: Type.String(), passwordSet: Type.Boolean() })),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      checkNewPassword(request.body.password);
      const set = await store.setUserPassword(request.params.id, await hashPassword(request.body.password));
      if (!set) throw new NotFoundError(`no user with id ${request.params.id}`);
      request.log.info({ userId: request.params.id, by: request.user?.name }, 'password set');
      return { data: { id: request.params.id, passwordSet: true } };
    },
  );
}

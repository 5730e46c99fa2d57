import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/domain/passwords.js';
import {
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  SIGN_IN_LIMIT_PER_ADDRESS,
  SIGN_IN_LIMIT_PER_PAIR,
  SIGN_IN_SLOWDOWN_AFTER,
  SIGN_IN_SLOWDOWN_BASE_MS,
  SIGN_IN_WINDOW_MS,
  slowDownMs,
} from '../../src/domain/sessions.js';
import type { Role } from '../../src/domain/types.js';
import type { TestApp } from '../support/test-app.js';
import { agentBody, call, expectError, useTestApp, type AgentJson, type ErrorJson } from './api-helpers.js';

/** Dashboard sign-in: POST/GET/DELETE /api/session, the session cookie, CSRF and rate limits. */

const PASSWORD = 'correct horse battery';

interface SessionJson {
  user: { id: string; name: string; role: Role; createdAt: string };
  method: 'session' | 'token';
  csrfToken: string | null;
  expiresAt: string | null;
}

interface InjectOptions {
  cookie?: string;
  csrf?: string;
  body?: unknown;
  ip?: string;
  headers?: Record<string, string>;
}

/** A response body as these tests read it: `data` of the type the route answers with (by default a session), or an error. */
interface ResponseBody<T> {
  data: T;
  error: ErrorJson['error'];
}

let t: TestApp;

/** A request as a browser of the dashboard sends it: no bearer token, maybe the cookie and the CSRF token. */
async function browser<T = SessionJson>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, options: InjectOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.cookie) headers.cookie = options.cookie;
  if (options.csrf) headers['x-csrf-token'] = options.csrf;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await t.app.server.inject({
    method,
    url,
    headers,
    remoteAddress: options.ip ?? '127.0.0.1',
    ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
  });
  const isJson = String(response.headers['content-type'] ?? '').includes('application/json');
  return {
    status: response.statusCode,
    headers: response.headers,
    text: response.body,
    body: (isJson ? JSON.parse(response.body) : undefined) as ResponseBody<T>,
    setCookie: ([] as string[]).concat(response.headers['set-cookie'] ?? []),
  };
}

/** The attributes of a Set-Cookie header: `HttpOnly`, `Path=/api`, ... */
function cookieAttributes(setCookie: string): string[] {
  return setCookie.split(';').map((a) => a.trim());
}

async function setPassword(name: string, password = PASSWORD): Promise<string> {
  const user = await t.app.store.findUserByName(name);
  if (!user) throw new Error(`no user ${name}`);
  expect(await t.app.store.setUserPassword(user.id, await hashPassword(password))).toBe(true);
  return user.id;
}

/** Signs in and returns the cookie to send back and the CSRF token. */
async function signIn(name: string, password = PASSWORD, ip?: string): Promise<{ cookie: string; csrf: string; session: SessionJson }> {
  const response = await browser('POST', '/api/session', { body: { name, password }, ip });
  expect(response.status, response.text).toBe(200);
  const cookie = response.setCookie[0]?.split(';')[0];
  expect(cookie).toMatch(/^cron_agents_session=[A-Za-z0-9_-]{43}$/);
  const session = response.body.data;
  return { cookie: cookie!, csrf: session.csrfToken!, session };
}

describe('sign-in', () => {
  useTestApp('each', async (app) => {
    t = app;
    await setPassword('member-user');
  });

  it('sets an httpOnly, SameSite=Strict session cookie scoped to /api, and answers the user and a CSRF token', async () => {
    const response = await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD } });
    expect(response.status, response.text).toBe(200);
    expect(response.setCookie).toHaveLength(1);
    const attributes = response.setCookie.flatMap(cookieAttributes);
    expect(attributes).toContain('HttpOnly');
    expect(attributes).toContain('SameSite=Strict');
    expect(attributes).toContain('Path=/api');
    expect(attributes).toContain(`Max-Age=${SESSION_MAX_MS / 1000}`);
    // Plain HTTP (no TLS on this request): a Secure cookie would never come back.
    expect(attributes).not.toContain('Secure');
    const data = response.body.data;
    expect(data.user).toMatchObject({ name: 'member-user', role: 'member' });
    expect(data.method).toBe('session');
    expect(data.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(data.expiresAt!)).toBe(t.clock.now() + SESSION_IDLE_MS);
    // The session id is not the CSRF token, and only its hash is stored.
    const sessionId = response.setCookie[0]!.split(';')[0]!.split('=')[1]!;
    expect(data.csrfToken).not.toBe(sessionId);
  });

  it('the cookie authenticates API reads, and GET /api/session gives the same CSRF token back', async () => {
    const { cookie, csrf } = await signIn('member-user');
    const agents = await browser('GET', '/api/agents', { cookie });
    expect(agents.status, agents.text).toBe(200);
    expect(agents.body).toEqual({ data: [] });
    const me = await browser<{ name: string }>('GET', '/api/me', { cookie });
    expect(me.body.data.name).toBe('member-user');
    const session = await browser('GET', '/api/session', { cookie });
    expect(session.status).toBe(200);
    expect(session.body.data).toMatchObject({ method: 'session', csrfToken: csrf, user: { name: 'member-user' } });
  });

  it.each([
    ['a wrong password', { name: 'member-user', password: 'not the password' }],
    ['an unknown user', { name: 'nobody', password: PASSWORD }],
    ['a user without a password', { name: 'viewer-user', password: PASSWORD }],
  ])('refuses %s with 401 and sets no cookie', async (_label, body) => {
    const response = await browser('POST', '/api/session', { body });
    expectError(response, 401, 'unauthorized');
    expect(response.body.error.message).toBe('wrong user name or password');
    expect(response.setCookie).toEqual([]);
  });

  it.each([
    ['no body', undefined, 'body'],
    ['no password', { name: 'member-user' }, 'password'],
    ['an empty name', { name: '', password: 'x' }, 'name'],
    ['an unknown field', { name: 'member-user', password: PASSWORD, remember: true }, 'remember'],
  ])('answers 400 for %s', async (_label, body, field) => {
    const response = await browser('POST', '/api/session', { body, headers: body === undefined ? { 'content-type': 'application/json' } : {} });
    expect(response.status, response.text).toBe(400);
    if (body !== undefined) expect(response.body.error.details.map((d) => d.field)).toContain(field);
  });

  it('a bearer token still works beside it, and an Authorization header wins over the cookie', async () => {
    const { cookie } = await signIn('member-user');
    const withBadBearer = await browser('GET', '/api/agents', { cookie, headers: { authorization: 'Bearer cat_wrong' } });
    expect(withBadBearer.status).toBe(401);
    const token = await call<{ data: SessionJson }>(t, 'GET', '/api/session', { as: 'viewer' });
    expect(token.status).toBe(200);
    expect(token.body.data).toMatchObject({ method: 'token', csrfToken: null, expiresAt: null, user: { name: 'viewer-user', role: 'viewer' } });
  });

  it('a made-up or malformed cookie is 401', async () => {
    for (const cookie of ['cron_agents_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'cron_agents_session=../../etc', 'other=1']) {
      expectError({ ...(await browser('GET', '/api/agents', { cookie })), headers: { 'content-type': 'application/json' } }, 401, 'unauthorized');
    }
  });
});

describe('CSRF protection of cookie sessions', () => {
  useTestApp('each', async (app) => {
    t = app;
    await setPassword('member-user');
  });

  it('refuses a write without the X-CSRF-Token header (403) and changes nothing', async () => {
    const { cookie } = await signIn('member-user');
    const response = await browser('POST', '/api/agents', { cookie, body: agentBody() });
    expect(response.status, response.text).toBe(403);
    expect(response.body.error.code).toBe('forbidden');
    expect(response.body.error.message).toMatch(/X-CSRF-Token/);
    const wrong = await browser('POST', '/api/agents', { cookie, csrf: 'not-the-token', body: agentBody() });
    expect(wrong.status).toBe(403);
    const agents = await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents');
    expect(agents.body.data).toEqual([]);
  });

  it('accepts writes that carry the token', async () => {
    const { cookie, csrf } = await signIn('member-user');
    const created = await browser<AgentJson>('POST', '/api/agents', { cookie, csrf, body: agentBody() });
    expect(created.status, created.text).toBe(200);
    expect(created.body.data.creator?.name).toBe('member-user');
    const patched = await browser('PATCH', `/api/agents/${created.body.data.id}`, { cookie, csrf, body: { enabled: false } });
    expect(patched.status, patched.text).toBe(200);
    const deleted = await browser('DELETE', `/api/agents/${created.body.data.id}`, { cookie, csrf });
    expect(deleted.status, deleted.text).toBe(200);
  });

  it('signing in again from the same browser ends the session it had', async () => {
    const first = await signIn('member-user');
    const again = await browser('POST', '/api/session', { cookie: first.cookie, body: { name: 'member-user', password: PASSWORD } });
    expect(again.status).toBe(200);
    expect((await browser('GET', '/api/agents', { cookie: first.cookie })).status).toBe(401);
    expect((await browser('GET', '/api/agents', { cookie: again.setCookie[0]!.split(';')[0] })).status).toBe(200);
  });

  it("another session's token does not do", async () => {
    const first = await signIn('member-user');
    const second = await signIn('member-user');
    expect(first.csrf).not.toBe(second.csrf);
    const response = await browser('POST', '/api/agents', { cookie: first.cookie, csrf: second.csrf, body: agentBody() });
    expect(response.status).toBe(403);
  });

  it('a viewer signed in by cookie may read but not write, token or not', async () => {
    await setPassword('viewer-user');
    const { cookie, csrf } = await signIn('viewer-user');
    expect((await browser('GET', '/api/agents', { cookie })).status).toBe(200);
    const response = await browser('POST', '/api/agents', { cookie, csrf, body: agentBody() });
    expect(response.status).toBe(403);
    expect(response.body.error.message).toMatch(/viewer role/);
  });
});

describe('sign-out and expiry', () => {
  useTestApp('each', async (app) => {
    t = app;
    await setPassword('member-user');
  });

  it('DELETE /api/session ends the session and clears the cookie; the cookie is refused from then on', async () => {
    const { cookie, csrf } = await signIn('member-user');
    const refused = await browser('DELETE', '/api/session', { cookie });
    expect(refused.status).toBe(403);
    const response = await browser('DELETE', '/api/session', { cookie, csrf });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({ data: { signedOut: true } });
    expect(response.setCookie[0]).toMatch(/^cron_agents_session=; Path=\/api; Max-Age=0; HttpOnly; SameSite=Strict/);
    expect((await browser('GET', '/api/agents', { cookie })).status).toBe(401);
    expect((await browser('GET', '/api/session', { cookie })).status).toBe(401);
  });

  it('a viewer may sign out too', async () => {
    await setPassword('viewer-user');
    const { cookie, csrf } = await signIn('viewer-user');
    expect((await browser('DELETE', '/api/session', { cookie, csrf })).status).toBe(200);
  });

  it('with a bearer token, DELETE /api/session ends nothing', async () => {
    const response = await call(t, 'DELETE', '/api/session', { as: 'viewer' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { signedOut: false } });
    expect((await call(t, 'GET', '/api/agents', { as: 'viewer' })).status).toBe(200);
  });

  // The fake clock jumps (it does not advance): days of scheduler polls would fire otherwise.
  it('expires after the idle time, and use slides the expiry', async () => {
    const { cookie } = await signIn('member-user');
    t.clock.jumpTo(t.clock.now() + SESSION_IDLE_MS - 60_000);
    const used = await browser('GET', '/api/session', { cookie });
    expect(used.status).toBe(200);
    expect(Date.parse(used.body.data.expiresAt!)).toBe(t.clock.now() + SESSION_IDLE_MS);
    t.clock.jumpTo(t.clock.now() + SESSION_IDLE_MS - 60_000);
    expect((await browser('GET', '/api/agents', { cookie })).status).toBe(200);
    t.clock.jumpTo(t.clock.now() + SESSION_IDLE_MS + 1);
    expect((await browser('GET', '/api/agents', { cookie })).status).toBe(401);
  });

  it('never outlives its maximum age, however often it is used', async () => {
    const { cookie } = await signIn('member-user');
    for (let day = 1; day < SESSION_MAX_MS / 86_400_000; day++) {
      t.clock.jumpTo(t.clock.now() + 86_400_000);
      expect((await browser('GET', '/api/agents', { cookie })).status, `day ${day}`).toBe(200);
    }
    t.clock.jumpTo(t.clock.now() + 86_400_000);
    expect((await browser('GET', '/api/agents', { cookie })).status).toBe(401);
  });
});

describe('rate limit on failed sign-ins', () => {
  useTestApp('each', async (app) => {
    t = app;
    await setPassword('member-user');
    await setPassword('admin-user');
  });

  it(`after ${SIGN_IN_LIMIT_PER_PAIR} failures for a name from one address, answers that address 429 with Retry-After, even to the right password`, async () => {
    for (let i = 0; i < SIGN_IN_LIMIT_PER_PAIR; i++) {
      t.clock.jumpTo(t.clock.now() + 1000);
      expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: `guess ${i}` } })).status).toBe(401);
    }
    const blocked = await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD } });
    expect(blocked.status, blocked.text).toBe(429);
    expect(blocked.body.error.code).toBe('too_many_attempts');
    expect(blocked.setCookie).toEqual([]);
    // The oldest failure leaves the window 15 minutes after it happened: 4 s have passed since.
    expect(Number(blocked.headers['retry-after'])).toBe(SIGN_IN_WINDOW_MS / 1000 - 4);
    // Case does not get around it.
    expect((await browser('POST', '/api/session', { body: { name: 'MEMBER-USER', password: 'x' } })).status).toBe(429);
    // Other names from the same address are not blocked.
    expect((await browser('POST', '/api/session', { body: { name: 'admin-user', password: PASSWORD } })).status).toBe(200);
    // Once the oldest failure has left the window, one more try is allowed.
    t.clock.jumpTo(t.clock.now() + SIGN_IN_WINDOW_MS);
    expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD } })).status).toBe(200);
  });

  it('a successful sign-in clears the failures of that name', async () => {
    for (let i = 0; i < SIGN_IN_LIMIT_PER_PAIR - 1; i++) {
      expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: 'wrong' } })).status).toBe(401);
    }
    await signIn('member-user');
    for (let i = 0; i < SIGN_IN_LIMIT_PER_PAIR - 1; i++) {
      expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: 'wrong' } })).status).toBe(401);
    }
    await signIn('member-user');
  });

  it(`after ${SIGN_IN_LIMIT_PER_ADDRESS} failures from one address, refuses every name from it (429), not from others`, async () => {
    for (let i = 0; i < SIGN_IN_LIMIT_PER_ADDRESS; i++) {
      const response = await browser('POST', '/api/session', { body: { name: `user-${i}`, password: 'x' }, ip: '198.51.100.7' });
      expect(response.status).toBe(401);
    }
    const blocked = await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ip: '198.51.100.7' });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ip: '198.51.100.8' })).status).toBe(200);
  });
});

describe('failed sign-ins for a name only slow it down: nobody can lock another out (issue 13)', () => {
  useTestApp('each', async (app) => {
    t = app;
    await setPassword('member-user');
  });

  const realPause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  /**
   * A sign-in whose `nameFailures` earlier failures slow it down by slowDownMs: it is still
   * unanswered when the fake clock has moved 1 ms less than that (and real time has passed for the
   * password check), and answered once it has moved the rest. The password check itself takes
   * real time (scrypt), never fake time.
   */
  async function slowedSignIn(name: string, password: string, ip: string, nameFailures: number, checkDelay = true) {
    let answered = false;
    const pending = browser('POST', '/api/session', { body: { name, password }, ip }).finally(() => {
      answered = true;
    });
    const delayMs = slowDownMs(nameFailures);
    if (delayMs > 0) {
      await t.idle();
      await t.advance(delayMs - 1);
      if (checkDelay) {
        await realPause(200);
        expect(answered, `answered before ${delayMs} ms had passed`).toBe(false);
      }
      await t.advance(1);
    }
    return pending;
  }

  it('the right password from an address that has not failed signs in, whatever other addresses tried', async () => {
    const failures = 2 * SIGN_IN_LIMIT_PER_PAIR;
    for (let i = 0; i < failures; i++) {
      const response = await slowedSignIn('member-user', `guess ${i}`, `203.0.113.${i + 1}`, i, false);
      expect(response.status, response.text).toBe(401);
    }
    const response = await slowedSignIn('member-user', PASSWORD, '198.51.100.99', failures, false);
    expect(response.status, response.text).toBe(200);
    expect(response.body.data.user.name).toBe('member-user');
  });

  it(`locks the (name, address) pair after ${SIGN_IN_LIMIT_PER_PAIR} failures, and no other pair`, async () => {
    for (let i = 0; i < SIGN_IN_LIMIT_PER_PAIR; i++) {
      expect((await slowedSignIn('member-user', `guess ${i}`, '203.0.113.5', i)).status).toBe(401);
    }
    // Refused at once, before any slowing down.
    const locked = await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ip: '203.0.113.5' });
    expect(locked.status, locked.text).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect((await slowedSignIn('member-user', PASSWORD, '203.0.113.6', SIGN_IN_LIMIT_PER_PAIR)).status).toBe(200);
  });

  it('slows attempts for a name down from the fifth failure, more with each, from every address alike; not other names', async () => {
    expect(slowDownMs(SIGN_IN_SLOWDOWN_AFTER - 1)).toBe(0);
    expect(slowDownMs(SIGN_IN_SLOWDOWN_AFTER)).toBe(SIGN_IN_SLOWDOWN_BASE_MS);
    for (let i = 0; i < SIGN_IN_SLOWDOWN_AFTER + 2; i++) {
      expect((await slowedSignIn('member-user', 'wrong', `203.0.113.${i + 1}`, i)).status).toBe(401);
    }
    expect((await slowedSignIn('member-user', PASSWORD, '203.0.113.50', SIGN_IN_SLOWDOWN_AFTER + 2)).status).toBe(200);
    // Other names are not slowed down; the right password cleared the name's failures.
    expect((await slowedSignIn('admin-user', 'wrong', '203.0.113.50', 0)).status).toBe(401);
    expect((await slowedSignIn('member-user', 'wrong', '203.0.113.50', 0)).status).toBe(401);
  });

  it('"MEMBER-USER " is member-user: it signs in as them and its failures count against the same pair', async () => {
    const signedIn = await slowedSignIn(' MEMBER-USER ', PASSWORD, '203.0.113.9', 0);
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(signedIn.body.data.user.name).toBe('member-user');
    for (let i = 0; i < SIGN_IN_LIMIT_PER_PAIR; i++) {
      const name = ['MEMBER-USER ', 'member-user', 'Member-User'][i % 3]!;
      expect((await slowedSignIn(name, 'wrong', '203.0.113.9', i)).status).toBe(401);
    }
    expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ip: '203.0.113.9' })).status).toBe(429);
  });
});

describe('behind a TLS-terminating proxy (CRON_AGENTS_TRUST_PROXY)', () => {
  const viaProxy = (forwardedFor: string) => ({ ip: '10.0.0.2', headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': forwardedFor } });

  describe('not trusted (the default)', () => {
    useTestApp('each', async (app) => {
      t = app;
      await setPassword('member-user');
    });

    it('ignores X-Forwarded-Proto: the cookie is not Secure, and failures count against the proxy', async () => {
      const response = await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ...viaProxy('203.0.113.1') });
      expect(response.status).toBe(200);
      expect(response.setCookie.flatMap(cookieAttributes)).not.toContain('Secure');
      for (let i = 0; i < SIGN_IN_LIMIT_PER_ADDRESS; i++) {
        await browser('POST', '/api/session', { body: { name: `user-${i}`, password: 'x' }, ...viaProxy(`203.0.113.${i + 10}`) });
      }
      // Every client behind the proxy looks like the proxy: all of them are now blocked.
      expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ...viaProxy('203.0.113.1') })).status).toBe(429);
    });
  });

  describe('trusted', () => {
    useTestApp(
      'each',
      async (app) => {
        t = app;
        await setPassword('member-user');
      },
      { trustProxy: ['10.0.0.0/8'] },
    );

    it('marks the session cookie Secure, when signing in and when signing out, for requests that came over HTTPS', async () => {
      const signedIn = await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ...viaProxy('203.0.113.1') });
      expect(signedIn.status).toBe(200);
      expect(signedIn.setCookie.flatMap(cookieAttributes)).toContain('Secure');
      const cookie = signedIn.setCookie[0]!.split(';')[0]!;
      const signedOut = await browser('DELETE', '/api/session', { cookie, csrf: signedIn.body.data.csrfToken!, ...viaProxy('203.0.113.1') });
      expect(signedOut.status).toBe(200);
      expect(signedOut.setCookie.flatMap(cookieAttributes)).toContain('Secure');
      // Plain HTTP through the same proxy: no Secure.
      const plain = await browser('POST', '/api/session', {
        body: { name: 'member-user', password: PASSWORD },
        ip: '10.0.0.2',
        headers: { 'x-forwarded-proto': 'http' },
      });
      expect(plain.setCookie.flatMap(cookieAttributes)).not.toContain('Secure');
    });

    it('limits failed sign-ins by the client address the proxy reports, not by the proxy', async () => {
      for (let i = 0; i < SIGN_IN_LIMIT_PER_ADDRESS; i++) {
        expect((await browser('POST', '/api/session', { body: { name: `user-${i}`, password: 'x' }, ...viaProxy('203.0.113.7') })).status).toBe(401);
      }
      expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ...viaProxy('203.0.113.7') })).status).toBe(429);
      expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ...viaProxy('203.0.113.8') })).status).toBe(200);
    });

    it('does not believe forwarded headers from an address outside the trusted ranges', async () => {
      const response = await browser('POST', '/api/session', {
        body: { name: 'member-user', password: PASSWORD },
        ip: '192.0.2.50',
        headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.1' },
      });
      expect(response.status).toBe(200);
      expect(response.setCookie.flatMap(cookieAttributes)).not.toContain('Secure');
    });
  });
});

describe('trusting the nearest proxy hop (CRON_AGENTS_TRUST_PROXY=1)', () => {
  useTestApp(
    'each',
    async (app) => {
      t = app;
      await setPassword('member-user');
    },
    { trustProxy: 1 },
  );

  it('takes the protocol from the nearest proxy and the client address from the last X-Forwarded-For entry', async () => {
    const headers = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.1, 203.0.113.9' };
    const response = await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ip: '192.0.2.50', headers });
    expect(response.setCookie.flatMap(cookieAttributes)).toContain('Secure');
    // A client can prepend what it likes to X-Forwarded-For; only the entry the proxy added counts.
    for (let i = 0; i < SIGN_IN_LIMIT_PER_ADDRESS; i++) {
      const spoofed = { 'x-forwarded-for': `10.9.9.${i}, 203.0.113.9` };
      expect((await browser('POST', '/api/session', { body: { name: `user-${i}`, password: 'x' }, ip: '192.0.2.50', headers: spoofed })).status).toBe(401);
    }
    expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD }, ip: '192.0.2.50', headers })).status).toBe(429);
  });
});

/** PUT with a role's bearer token (the shared `call` helper speaks the spec's methods only). */
async function putPassword(url: string, as: Role | null, body: unknown) {
  const response = await browser('PUT', url, { body, headers: as ? t.auth(as) : {} });
  return { ...response, headers: response.headers as Record<string, unknown> };
}

describe('PUT /api/users/:id/password', () => {
  useTestApp('each', (app) => {
    t = app;
  });

  it('lets an admin set a password, which signs the user out everywhere', async () => {
    const member = await t.app.store.findUserByName('member-user');
    const set = await putPassword(`/api/users/${member!.id}/password`, 'admin', { password: PASSWORD });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toEqual({ data: { id: member!.id, passwordSet: true } });
    const { cookie } = await signIn('member-user');
    expect((await browser('GET', '/api/agents', { cookie })).status).toBe(200);
    const reset = await putPassword(`/api/users/${member!.id}/password`, 'admin', { password: 'another password' });
    expect(reset.status).toBe(200);
    expect((await browser('GET', '/api/agents', { cookie })).status).toBe(401);
    expect((await browser('POST', '/api/session', { body: { name: 'member-user', password: PASSWORD } })).status).toBe(401);
    await signIn('member-user', 'another password');
  });

  it('refuses members (403), short passwords (400 naming password) and unknown users (404)', async () => {
    const member = await t.app.store.findUserByName('member-user');
    expectError(await putPassword(`/api/users/${member!.id}/password`, 'member', { password: PASSWORD }), 403, 'forbidden');
    expectError(await putPassword(`/api/users/${member!.id}/password`, 'admin', { password: 'short' }), 400, 'validation_error', 'password');
    expectError(await putPassword('/api/users/no-such-user/password', 'admin', { password: PASSWORD }), 404, 'not_found');
    expectError(await putPassword(`/api/users/${member!.id}/password`, null, { password: PASSWORD }), 401, 'unauthorized');
  });
});

import { timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import { ForbiddenError, UnauthorizedError } from '../domain/errors.js';
import { verifyNothing, verifyPassword } from '../domain/passwords.js';
import {
  SESSION_TOUCH_MS,
  SIGN_IN_LIMIT_PER_ADDRESS,
  SIGN_IN_LIMIT_PER_PAIR,
  SIGN_IN_WINDOW_MS,
  csrfTokenFor,
  generateSessionId,
  hashSessionId,
  retryAfterMs,
  signInSubjects,
  slidingExpiry,
  slowDownMs,
} from '../domain/sessions.js';
import { auditName, sessionCredential, signInEntry } from '../domain/audit.js';
import type { User } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';

/** A live dashboard session, as a request authenticated by it knows it. */
export interface ActiveSession {
  user: User;
  idHash: string;
  /** What a write signed in by this session must send back (the session's CSRF token). */
  csrfToken: string;
  expiresAt: number;
}

/** A sign-in attempt: the name and password typed, where it came from, and the session it replaces. */
export interface SignInAttempt {
  /** As typed: looked up without case and the spaces around it. */
  name: string;
  password: string;
  /** The client's address, for the per-address and per-(name, address) limits. */
  address: string;
  /** The session id the browser still holds, if any. */
  previousSessionId: string | null;
}

/** `refused`: too many failed attempts; try again in `retryAfterMs`. */
export type SignInResult = { outcome: 'refused'; retryAfterMs: number } | { outcome: 'signed_in'; sessionId: string; session: ActiveSession };

/** Constant-time comparison of two strings. */
function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Dashboard sign-in: failed attempts refused per (name, address) pair and per address, slowed
 * down per name (so that failures from elsewhere never refuse the right password from an address
 * that has not failed), the password checked in the same time whether or not the name exists,
 * and sessions that slide with use.
 */
export class SignIn {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  /** Signs in, or says how long to wait; an UnauthorizedError for a wrong name or password. */
  async signIn(attempt: SignInAttempt, log: Logger): Promise<SignInResult> {
    const { store } = this.deps;
    const name = attempt.name.trim();
    const subjects = signInSubjects(name, attempt.address);
    let now = this.deps.clock.now();
    const failures = await store.signInFailures([subjects.pair, subjects.name, subjects.address], now - SIGN_IN_WINDOW_MS);
    const waitMs = Math.max(
      retryAfterMs(failures.get(subjects.pair) ?? [], SIGN_IN_LIMIT_PER_PAIR, now),
      retryAfterMs(failures.get(subjects.address) ?? [], SIGN_IN_LIMIT_PER_ADDRESS, now),
    );
    if (waitMs > 0) {
      log.warn({ user: name, ip: attempt.address }, 'sign-in refused: too many failed attempts');
      return { outcome: 'refused', retryAfterMs: waitMs };
    }
    const delayMs = slowDownMs(failures.get(subjects.name)?.length ?? 0);
    if (delayMs > 0) {
      log.warn({ user: name, ip: attempt.address, delayMs }, 'sign-in slowed down: failed attempts for this name');
      await this.sleep(delayMs);
      now = this.deps.clock.now();
    }

    const credentials = await store.findUserCredentials(name);
    const valid = credentials?.passwordHash ? await verifyPassword(attempt.password, credentials.passwordHash) : await verifyNothing(attempt.password);
    if (!credentials || !valid) {
      // Recorded with the failure it counts (refusals of the rate limit above are not: they are bounded by it, and logged).
      const actor = { userId: credentials?.user.id ?? null, userName: auditName(name), address: attempt.address, credential: null };
      const entry = signInEntry('sign_in.failure', actor, now);
      await store.recordSignInFailure([subjects.pair, subjects.name, subjects.address], now, now - SIGN_IN_WINDOW_MS, entry);
      log.warn({ user: name, ip: attempt.address }, 'sign-in failed');
      throw new UnauthorizedError('wrong user name or password');
    }

    // The right password ends the guessing: the name is no longer slowed down, nor the pair refused.
    await store.clearSignInFailures(subjects.pair);
    await store.clearSignInFailures(subjects.name);
    // Signing in again from the same browser replaces its session rather than adding one.
    if (attempt.previousSessionId) await store.deleteSession(hashSessionId(attempt.previousSessionId));
    const sessionId = generateSessionId();
    const idHash = hashSessionId(sessionId);
    // The expiry slides with use (up to the maximum age, which the cookie itself lasts).
    const expiresAt = slidingExpiry(now, now);
    const { user } = credentials;
    const actor = { userId: user.id, userName: auditName(user.name), address: attempt.address, credential: sessionCredential(idHash) };
    await store.createSession({ idHash, userId: user.id, expiresAt }, now, signInEntry('sign_in.success', actor, now));
    store.deleteExpiredSessions(now).catch((error: unknown) => log.warn({ err: error }, 'could not sweep expired sessions'));
    log.info({ user: credentials.user.name }, 'signed in');
    return { outcome: 'signed_in', sessionId, session: { user: credentials.user, idHash, csrfToken: csrfTokenFor(sessionId), expiresAt } };
  }

  /**
   * The session with this id, or an UnauthorizedError. A request that changes something must
   * also carry the session's CSRF token (`csrfSent`): another site can make a browser send the
   * cookie, but cannot read the token. Use slides the expiry (written at most every few minutes).
   */
  async authenticate(sessionId: string, request: { write: boolean; csrfSent: string | null }, log: Logger): Promise<ActiveSession> {
    const now = this.deps.clock.now();
    const session = await this.deps.store.findSession(hashSessionId(sessionId), now);
    if (!session) throw new UnauthorizedError('the session has expired or was signed out: sign in again');
    const csrfToken = csrfTokenFor(sessionId);
    if (request.write && (request.csrfSent === null || !sameText(request.csrfSent, csrfToken))) {
      throw new ForbiddenError('missing or wrong X-CSRF-Token header: requests signed in by cookie must send the token GET /api/session gives');
    }
    let expiresAt = session.expiresAt;
    if (now - session.lastSeenAt >= SESSION_TOUCH_MS) {
      expiresAt = slidingExpiry(session.createdAt, now);
      this.deps.store.touchSession(session.idHash, now, expiresAt).catch((error: unknown) => log.warn({ err: error }, 'could not record session use'));
    }
    return { user: session.user, idHash: session.idHash, csrfToken, expiresAt };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.deps.clock.setTimer(resolve, ms));
  }

  /** Ends a session (sign-out). */
  async signOut(idHash: string): Promise<void> {
    await this.deps.store.deleteSession(idHash);
  }
}

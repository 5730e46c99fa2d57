import { createHash, randomBytes } from 'node:crypto';
import { userNameKey } from './user-name-key.js';

/**
 * Dashboard sessions: a random id in an httpOnly cookie, stored only as its SHA-256 hash, and a
 * CSRF token derived from the id (so it needs no storage, and a copy of the database yields
 * neither). Sign-in failures are limited per (user name, client address) pair and per address;
 * per name they only slow attempts down, so that no one can lock another out.
 */

/** The session cookie. Scoped to `/api`: the static dashboard files never need it. */
export const SESSION_COOKIE = 'cron_agents_session';
export const SESSION_COOKIE_PATH = '/api';
/** A session unused this long expires... */
export const SESSION_IDLE_MS = 7 * 24 * 3600_000;
/** ...and none lives longer than this, used or not. */
export const SESSION_MAX_MS = 30 * 24 * 3600_000;
/** Use of a session (and its sliding expiry) is written at most this often. */
export const SESSION_TOUCH_MS = 5 * 60_000;

/** The header that carries the CSRF token on every non-GET request authenticated by the cookie. */
export const CSRF_HEADER = 'x-csrf-token';

/** Failed sign-ins are counted over this sliding window. */
export const SIGN_IN_WINDOW_MS = 15 * 60_000;
/** Failures for one name from one address in the window before that pair is refused (guessing one password). */
export const SIGN_IN_LIMIT_PER_PAIR = 5;
/** Failures for a name, from any addresses, after which its attempts are slowed down... */
export const SIGN_IN_SLOWDOWN_AFTER = 5;
/** ...by this much, doubling with each further failure... */
export const SIGN_IN_SLOWDOWN_BASE_MS = 500;
/** ...up to this. */
export const SIGN_IN_SLOWDOWN_MAX_MS = 15_000;
/**
 * Failures per client address in the window (trying many names). Higher than per name: a team
 * behind one NAT address shares it, and one person's typos must not lock out the others.
 */
export const SIGN_IN_LIMIT_PER_ADDRESS = 20;

/** 32 random bytes. */
export function generateSessionId(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSessionId(sessionId: string): string {
  return createHash('sha256').update(sessionId, 'utf8').digest('hex');
}

/** The CSRF token of a session: only its holder (who can read the sign-in answer) knows it. */
export function csrfTokenFor(sessionId: string): string {
  return createHash('sha256').update(`csrf:${sessionId}`, 'utf8').digest('base64url');
}

/** When a session used at `now` expires: idle time from now, capped by its maximum age. */
export function slidingExpiry(createdAt: number, now: number): number {
  return Math.min(now + SESSION_IDLE_MS, createdAt + SESSION_MAX_MS);
}

/**
 * Rate-limit subjects of a sign-in attempt. Names are keyed as sign-in looks users up
 * (userNameKey), so `"BOB "` is `bob`. An address holds no space: the first one ends it.
 */
export function signInSubjects(name: string, address: string): { pair: string; name: string; address: string } {
  const key = userNameKey(name);
  return { pair: `pair:${address} ${key}`, name: `name:${key}`, address: `ip:${address}` };
}

/**
 * How long an attempt for a name waits before its password is checked, given the name's failures
 * in the window (from any address): nothing below SIGN_IN_SLOWDOWN_AFTER, then a delay doubling
 * with each failure up to SIGN_IN_SLOWDOWN_MAX_MS. Every attempt waits alike, right password or
 * wrong, so the wait tells nothing.
 */
export function slowDownMs(nameFailures: number): number {
  if (nameFailures < SIGN_IN_SLOWDOWN_AFTER) return 0;
  const doublings = Math.min(nameFailures - SIGN_IN_SLOWDOWN_AFTER, 30);
  return Math.min(SIGN_IN_SLOWDOWN_MAX_MS, SIGN_IN_SLOWDOWN_BASE_MS * 2 ** doublings);
}

/**
 * How long until another attempt is allowed, given the failure times in the window (oldest
 * first); 0 when one is allowed now. The window slides: the attempt is allowed again once
 * enough of the oldest failures have left it.
 */
export function retryAfterMs(failureTimes: readonly number[], limit: number, now: number, windowMs = SIGN_IN_WINDOW_MS): number {
  const recent = failureTimes.filter((t) => t > now - windowMs);
  if (recent.length < limit) return 0;
  const freeing = recent[recent.length - limit]!;
  return Math.max(1, freeing + windowMs - now);
}

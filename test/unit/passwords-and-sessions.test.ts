import { describe, expect, it } from 'vitest';
import { checkNewPassword, generatePassword, hashPassword, verifyNothing, verifyPassword } from '../../src/domain/passwords.js';
import { describeSchedule } from '../../src/domain/schedule-description.js';
import {
  SESSION_IDLE_MS,
  SESSION_MAX_MS,
  csrfTokenFor,
  generateSessionId,
  hashSessionId,
  retryAfterMs,
  signInSubjects,
  slowDownMs,
  slidingExpiry,
} from '../../src/domain/sessions.js';

describe('passwords', () => {
  it('hashes with scrypt and a random salt, and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(await hashPassword('correct horse')).not.toBe(hash);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horse ', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('treats Unicode forms of the same password alike', async () => {
    const hash = await hashPassword('caf\u00e9 au lait');
    expect(await verifyPassword('cafe\u0301 au lait', hash)).toBe(true);
  });

  it('refuses malformed or absurd stored hashes without throwing', async () => {
    for (const stored of [
      '',
      'plain',
      'bcrypt$x',
      'scrypt$1$2$3$4',
      'scrypt$abc$8$1$c2FsdA$aGFzaA',
      'scrypt$99999999$8$1$c2FsdA$aGFzaA',
      'scrypt$16384$8$1$c2FsdA$short',
    ]) {
      expect(await verifyPassword('x', stored), stored).toBe(false);
    }
    expect(await verifyNothing('x')).toBe(false);
  });

  it('checks the length of new passwords, naming the field', () => {
    expect(() => checkNewPassword('short')).toThrow(/password: must be at least 8 characters/);
    expect(() => checkNewPassword('x'.repeat(1025), 'newPassword')).toThrow(/newPassword: must be at most 1024/);
    expect(() => checkNewPassword('long enough')).not.toThrow();
  });

  it('generates random passwords of 24 URL-safe characters', () => {
    const a = generatePassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(generatePassword()).not.toBe(a);
  });
});

describe('sessions', () => {
  it('ids are random; the stored hash and the CSRF token are derived one-way and differ', () => {
    const id = generateSessionId();
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateSessionId()).not.toBe(id);
    expect(hashSessionId(id)).toMatch(/^[0-9a-f]{64}$/);
    expect(csrfTokenFor(id)).toBe(csrfTokenFor(id));
    expect(csrfTokenFor(id)).not.toBe(id);
    expect(csrfTokenFor(id)).not.toBe(hashSessionId(id));
  });

  it('the expiry slides with use up to the maximum age', () => {
    expect(slidingExpiry(0, 0)).toBe(SESSION_IDLE_MS);
    expect(slidingExpiry(0, 1000)).toBe(1000 + SESSION_IDLE_MS);
    expect(slidingExpiry(0, SESSION_MAX_MS - 1000)).toBe(SESSION_MAX_MS);
  });

  it('names rate-limit subjects without case', () => {
    expect(signInSubjects(' Alice ', '::1')).toEqual({ pair: 'pair:::1 alice', name: 'name:alice', address: 'ip:::1' });
  });

  it('slows a name down from its fifth failure, doubling up to the maximum', () => {
    expect([0, 4, 5, 6, 7, 9, 10, 1000].map(slowDownMs)).toEqual([0, 0, 500, 1000, 2000, 8000, 15_000, 15_000]);
  });

  it('computes how long to wait from the failures in the sliding window', () => {
    const window = 15 * 60_000;
    expect(retryAfterMs([], 5, 1_000_000, window)).toBe(0);
    expect(retryAfterMs([1, 2, 3, 4], 5, 1000, window)).toBe(0);
    // Five failures at 0..4 s: the first leaves the window at 15 min.
    expect(retryAfterMs([0, 1000, 2000, 3000, 4000], 5, 10_000, window)).toBe(window - 10_000);
    // Seven failures: the attempt is allowed once only four remain, when the third leaves.
    expect(retryAfterMs([0, 1000, 2000, 3000, 4000, 5000, 6000], 5, 10_000, window)).toBe(2000 + window - 10_000);
    // Failures older than the window do not count.
    expect(retryAfterMs([0, 1000, 2000, 3000, 4000], 5, window + 500, window)).toBe(0);
  });
});

describe('schedule descriptions', () => {
  it.each([
    ['0 9 * * *', 'At 09:00 AM'],
    ['0 9 * * 1-5', 'At 09:00 AM, Monday through Friday'],
    ['*/15 * * * *', 'Every 15 minutes'],
    ['@hourly', 'Every hour'],
    ['*/10 * * * * *', 'Every 10 seconds'],
  ])('%s is "%s"', (expression, words) => {
    expect(describeSchedule(expression)).toBe(words);
  });

  it('is null for what it cannot read', () => {
    expect(describeSchedule('')).toBeNull();
    expect(describeSchedule('every day')).toBeNull();
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.js';
import { dialectsUnderTest } from '../support/dialects.js';

/** The dashboard's sessions and sign-in failure counters, on every dialect. */

const T0 = Date.parse('2026-01-05T08:00:00.000Z');
const HOUR = 3600_000;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`sessions and sign-in (${dialect.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await dialect.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores a password hash and reads it back with the user', async () => {
      const user = await store.createUser({ name: 'alice', role: 'member' }, T0);
      expect(await store.findUserCredentials('alice')).toEqual({ user, passwordHash: null });
      expect(await store.setUserPassword(user.id, 'scrypt$hash')).toBe(true);
      expect(await store.findUserCredentials('alice')).toEqual({ user, passwordHash: 'scrypt$hash' });
      expect(await store.findUserCredentials('nobody')).toBeNull();
      expect(await store.setUserPassword('no-such-id', 'x')).toBe(false);
      const withPassword = await store.createUser({ name: 'bob', role: 'viewer', passwordHash: 'scrypt$bob' }, T0);
      expect((await store.findUserCredentials('bob'))?.passwordHash).toBe('scrypt$bob');
      expect(withPassword.name).toBe('bob');
    });

    it('finds a session until it expires, slides it, and deletes it', async () => {
      const user = await store.createUser({ name: 'alice', role: 'member' }, T0);
      await store.createSession({ idHash: 'h1', userId: user.id, expiresAt: T0 + HOUR }, T0);
      expect(await store.findSession('h1', T0 + 1)).toEqual({ idHash: 'h1', user, createdAt: T0, lastSeenAt: T0, expiresAt: T0 + HOUR });
      expect(await store.findSession('h2', T0)).toBeNull();
      expect(await store.findSession('h1', T0 + HOUR)).toBeNull();
      await store.touchSession('h1', T0 + HOUR / 2, T0 + 2 * HOUR);
      expect(await store.findSession('h1', T0 + HOUR)).toMatchObject({ lastSeenAt: T0 + HOUR / 2, expiresAt: T0 + 2 * HOUR });
      expect(await store.deleteSession('h1')).toBe(true);
      expect(await store.deleteSession('h1')).toBe(false);
      expect(await store.findSession('h1', T0)).toBeNull();
    });

    it('a new password ends all sessions of that user only', async () => {
      const alice = await store.createUser({ name: 'alice', role: 'member' }, T0);
      const bob = await store.createUser({ name: 'bob', role: 'member' }, T0);
      await store.createSession({ idHash: 'a1', userId: alice.id, expiresAt: T0 + HOUR }, T0);
      await store.createSession({ idHash: 'a2', userId: alice.id, expiresAt: T0 + HOUR }, T0);
      await store.createSession({ idHash: 'b1', userId: bob.id, expiresAt: T0 + HOUR }, T0);
      await store.setUserPassword(alice.id, 'new');
      expect(await store.findSession('a1', T0)).toBeNull();
      expect(await store.findSession('a2', T0)).toBeNull();
      expect(await store.findSession('b1', T0)).not.toBeNull();
    });

    it('sweeps expired sessions', async () => {
      const user = await store.createUser({ name: 'alice', role: 'member' }, T0);
      await store.createSession({ idHash: 'old', userId: user.id, expiresAt: T0 + HOUR }, T0);
      await store.createSession({ idHash: 'new', userId: user.id, expiresAt: T0 + 3 * HOUR }, T0);
      expect(await store.deleteExpiredSessions(T0 + 2 * HOUR)).toBe(1);
      expect(await store.findSession('new', T0 + 2 * HOUR)).not.toBeNull();
    });

    it('counts sign-in failures per subject in a window, forgets old ones, and clears a subject', async () => {
      await store.recordSignInFailure(['name:alice', 'ip:1.2.3.4'], T0, T0 - HOUR);
      await store.recordSignInFailure(['name:alice', 'ip:1.2.3.4'], T0 + 1000, T0 - HOUR);
      await store.recordSignInFailure(['name:bob', 'ip:1.2.3.4'], T0 + 2000, T0 - HOUR);
      const failures = await store.signInFailures(['name:alice', 'ip:1.2.3.4', 'name:carol'], T0);
      expect(failures.get('name:alice')).toEqual([T0, T0 + 1000]);
      expect(failures.get('ip:1.2.3.4')).toEqual([T0, T0 + 1000, T0 + 2000]);
      expect(failures.has('name:carol')).toBe(false);
      expect((await store.signInFailures(['name:alice'], T0 + 500)).get('name:alice')).toEqual([T0 + 1000]);
      await store.clearSignInFailures('name:alice');
      expect((await store.signInFailures(['name:alice', 'ip:1.2.3.4'], T0)).has('name:alice')).toBe(false);
      // Recording a later failure forgets those before the window.
      await store.recordSignInFailure(['name:dave'], T0 + 2 * HOUR, T0 + HOUR);
      expect((await store.signInFailures(['ip:1.2.3.4', 'name:bob'], 0)).size).toBe(0);
      expect(await store.signInFailures([], 0)).toEqual(new Map());
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, UnauthorizedError, ValidationError } from '../../src/domain/errors.js';
import { hashToken } from '../../src/domain/tokens.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { Access } from '../../src/services/access.js';
import { OPERATOR } from '../../src/services/actor.js';
import { bootstrapAdmin } from '../../src/services/bootstrap-admin.js';
import type { Store } from '../../src/store/store.js';
import { dialectsUnderTest } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';

/** Users, tokens and the first admin, through the access service, on every dialect. */

/** A logger that keeps the messages of its warnings. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { ...silentLogger, warn: (_obj, msg) => void warnings.push(msg ?? ''), warnings };
}

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`access (${dialect.name})`, () => {
    let store: Store;
    let clock: FakeClock;
    let access: Access;
    beforeEach(async () => {
      store = await dialect.open();
      clock = new FakeClock();
      access = new Access({ store, clock });
    });
    afterEach(async () => {
      await store.close();
    });

    it('issues a token that authenticates its user, storing only its hash and a short prefix', async () => {
      const user = await access.createUser({ name: 'alice', role: 'member' });
      const { token, info } = await access.issueToken(user, 'laptop');
      expect(token).toMatch(/^cat_[A-Za-z0-9_-]{43}$/);
      expect(info).toMatchObject({ userId: user.id, userName: 'alice', label: 'laptop', prefix: token.slice(0, 10), revokedAt: null });
      expect(await store.findTokenByHash(hashToken(token))).toEqual(info);
      expect(await access.authenticateToken(token, silentLogger)).toEqual(user);
    });

    it('issues by user name, and names the field when there is no such user', async () => {
      await access.createUser({ name: 'bob', role: 'viewer' });
      expect((await access.issueTokenByName('bob', 'cli')).info.userName).toBe('bob');
      const refused = await access.issueTokenByName('nobody', 'cli').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ValidationError);
      expect(refused).toMatchObject({ details: [{ field: 'user', message: 'no user named "nobody"' }] });
    });

    it('revokes a token once; a revoked or unknown token does not authenticate', async () => {
      const user = await access.createUser({ name: 'carol', role: 'admin' });
      const { token, info } = await access.issueToken(user, 'x');
      await access.revokeToken(info.id);
      await expect(access.revokeToken(info.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(access.authenticateToken(token, silentLogger)).rejects.toBeInstanceOf(UnauthorizedError);
      await expect(access.authenticateToken('cat_unknown', silentLogger)).rejects.toBeInstanceOf(UnauthorizedError);
    });

    it('hashes a new password, checks its length, and refuses an unknown user', async () => {
      const user = await access.createUser({ name: 'dan', role: 'member', password: 'first password' });
      expect((await store.findUserCredentials('dan'))?.passwordHash).toMatch(/^scrypt\$/);
      await expect(access.setPassword(user.id, 'short', OPERATOR)).rejects.toBeInstanceOf(ValidationError);
      await expect(access.setPassword('no-such-id', 'long enough', OPERATOR)).rejects.toBeInstanceOf(NotFoundError);
      await access.setPassword(user.id, 'second password', OPERATOR);
      expect((await store.findUserCredentials('dan'))?.passwordHash).toMatch(/^scrypt\$/);
    });

    it('user names are unique without regard to case, and found without it', async () => {
      const alice = await access.createUser({ name: 'alice', role: 'member' });
      await expect(access.createUser({ name: 'ALICE', role: 'viewer' })).rejects.toThrow('a user named "ALICE" already exists');
      expect(await access.findUser('Alice')).toEqual(alice);
      expect((await access.issueTokenByName('ALICE', 'cli')).info.userName).toBe('alice');
      expect((await store.findUserCredentials('aLiCe'))?.user).toEqual(alice);
      expect((await access.listUsers()).map((u) => u.name)).toEqual(['alice']);
    });

    describe('the first admin', () => {
      it('on an empty database, creates "admin" with a token printed once, and nothing the next time', async () => {
        const printed: string[] = [];
        const deps = { store, clock, logger: silentLogger, print: (text: string) => void printed.push(text) };
        await bootstrapAdmin(deps, null);
        const token = /^\s+(cat_\S+)$/m.exec(printed.join('\n'))?.[1];
        expect(token).toBeDefined();
        expect(await access.authenticateToken(token!, silentLogger)).toMatchObject({ name: 'admin', role: 'admin' });
        await bootstrapAdmin(deps, null);
        expect(printed).toHaveLength(1);
        expect(await access.listTokens()).toHaveLength(1);
      });

      it('with CRON_AGENTS_ADMIN_TOKEN, registers it once, and leaves it revoked once revoked', async () => {
        const logger = recordingLogger();
        const deps = { store, clock, logger, print: () => expect.fail('nothing is printed') };
        const given = `given-${'x'.repeat(40)}`;
        await bootstrapAdmin(deps, given);
        await bootstrapAdmin(deps, given);
        const tokens = await access.listTokens();
        expect(tokens.map((t) => [t.userName, t.label])).toEqual([['admin', 'CRON_AGENTS_ADMIN_TOKEN']]);
        expect(await access.authenticateToken(given, silentLogger)).toMatchObject({ name: 'admin', role: 'admin' });

        await access.revokeToken(tokens[0]!.id);
        await bootstrapAdmin(deps, given);
        await expect(access.authenticateToken(given, silentLogger)).rejects.toBeInstanceOf(UnauthorizedError);
        expect(logger.warnings).toEqual(['CRON_AGENTS_ADMIN_TOKEN was revoked and stays revoked; set a new one']);
      });

      it('a changed CRON_AGENTS_ADMIN_TOKEN revokes the token of its previous value, and only that', async () => {
        const logger = recordingLogger();
        const deps = { store, clock, logger, print: () => {} };
        const previous = `previous-${'p'.repeat(40)}`;
        const next = `next-${'n'.repeat(40)}`;
        await bootstrapAdmin(deps, previous);
        const admin = (await access.findUser('admin'))!;
        const cliToken = await access.issueToken(admin, 'laptop');
        clock.jumpTo(clock.now() + 60_000);

        await bootstrapAdmin(deps, next);
        await expect(access.authenticateToken(previous, silentLogger)).rejects.toBeInstanceOf(UnauthorizedError);
        expect(await access.authenticateToken(next, silentLogger)).toMatchObject({ name: 'admin' });
        expect(await access.authenticateToken(cliToken.token, silentLogger)).toMatchObject({ name: 'admin' });
        expect(logger.warnings).toEqual(['CRON_AGENTS_ADMIN_TOKEN changed: the token of its previous value is revoked']);

        // An instance still started with the previous value finds it revoked, and revokes nothing newer.
        await bootstrapAdmin(deps, previous);
        expect(await access.authenticateToken(next, silentLogger)).toMatchObject({ name: 'admin' });
        // Unsetting the variable revokes nothing: the token stays until revoked by hand.
        await bootstrapAdmin(deps, null);
        expect(await access.authenticateToken(next, silentLogger)).toMatchObject({ name: 'admin' });
      });

      it('warns when the user "admin" holding the token is not an admin', async () => {
        await access.createUser({ name: 'admin', role: 'viewer' });
        const logger = recordingLogger();
        await bootstrapAdmin({ store, clock, logger, print: () => {} }, `given-${'y'.repeat(40)}`);
        expect(logger.warnings).toEqual(['CRON_AGENTS_ADMIN_TOKEN belongs to a user "admin" who is not an admin']);
      });
    });
  });
}

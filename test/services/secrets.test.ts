import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../src/domain/errors.js';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { generateSecretKey, SecretCipher, SecretUnreadableError } from '../../src/domain/secret-cipher.js';
import { SECRETS_PER_AGENT_MAX } from '../../src/domain/secret-fields.js';
import { silentLogger } from '../../src/logger.js';
import type { Actor } from '../../src/services/actor.js';
import { Secrets } from '../../src/services/secrets.js';
import { openPostgresStore } from '../../src/store/postgres/open-postgres-store.js';
import { SqlStore } from '../../src/store/sql/sql-store.js';
import type { Store } from '../../src/store/store.js';
import { dialectsUnderTest, TEST_DATABASE_URL } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * Agents' secrets as the services keep them: encrypted in the store, listed without values,
 * decrypted only for a run, gone with their agent; on PostgreSQL, shared by instances that hold
 * the same key.
 */

const VALUE = 'ghp_the-actual-secret-value-0123456789';

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`secrets (${dialect.name})`, () => {
    let store: Store;
    let clock: FakeClock;
    let cipher: SecretCipher;
    let secrets: Secrets;
    let logged: string[];
    let actor: Actor;
    beforeEach(async () => {
      store = await dialect.open();
      clock = new FakeClock();
      cipher = new SecretCipher(generateSecretKey());
      secrets = new Secrets({ store, clock, cipher });
      logged = [];
      const record = (obj: object, msg?: string) => void logged.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
      actor = { user: null, log: { ...silentLogger, info: record, warn: record } };
    });
    afterEach(async () => {
      await store.close();
    });

    async function newAgent(name = 'worker'): Promise<string> {
      const { fields, nextFireAt } = planNewAgent({ name, schedule: '0 9 * * *', prompt: 'Work.', enabled: false }, clock.now());
      return (await store.createAgent(fields, null, nextFireAt, clock.now())).id;
    }

    /** Every row of the table as the database holds it. */
    async function rawRows(): Promise<Record<string, unknown>[]> {
      if (!(store instanceof SqlStore)) throw new Error('a SqlStore was expected');
      return (await sql<Record<string, unknown>>`select * from agent_secrets`.execute(store.db)).rows;
    }

    it('sets, replaces, lists by name and deletes; values only ever encrypted at rest and never logged', async () => {
      const agentId = await newAgent();
      expect(await secrets.list(agentId)).toEqual([]);
      const set = await secrets.set(agentId, 'GITHUB_TOKEN', VALUE, actor);
      expect(set).toEqual({ name: 'GITHUB_TOKEN', updatedAt: clock.now() });
      await clock.advance(1_000);
      await secrets.set(agentId, 'A_FIRST', 'a', actor);
      await secrets.set(agentId, 'Z_LAST', 'z', actor);
      await secrets.set(agentId, 'AB', 'ab', actor);
      await secrets.set(agentId, 'A_B', 'a_b', actor);
      // Byte order: `_` (0x5F) after the letters, whatever the database's collation.
      expect((await secrets.list(agentId)).map((s) => s.name)).toEqual(['AB', 'A_B', 'A_FIRST', 'GITHUB_TOKEN', 'Z_LAST']);

      await clock.advance(1_000);
      const replaced = await secrets.set(agentId, 'GITHUB_TOKEN', `${VALUE}-v2`, actor);
      expect(replaced.updatedAt).toBe(clock.now());
      expect((await secrets.list(agentId)).find((s) => s.name === 'GITHUB_TOKEN')).toEqual(replaced);
      expect((await secrets.forAgent(agentId)).GITHUB_TOKEN).toBe(`${VALUE}-v2`);

      const rows = await rawRows();
      expect(rows).toHaveLength(5);
      const raw = JSON.stringify(rows);
      expect(raw).not.toContain(VALUE);
      for (const row of rows) expect(String(row.encrypted_value)).toMatch(new RegExp(`^v1:${cipher.keyId}:`));

      expect(await secrets.delete(agentId, 'A_FIRST', actor)).toEqual({ name: 'A_FIRST' });
      await expect(secrets.delete(agentId, 'A_FIRST', actor)).rejects.toThrow(NotFoundError);
      expect((await secrets.list(agentId)).map((s) => s.name)).toEqual(['AB', 'A_B', 'GITHUB_TOKEN', 'Z_LAST']);
      expect(logged.join('\n')).not.toContain(VALUE);
      expect(logged.some((line) => line.includes('secret set') && line.includes('GITHUB_TOKEN'))).toBe(true);
    });

    it("decrypts for a run only the agent's own secrets", async () => {
      const mine = await newAgent('mine');
      const theirs = await newAgent('theirs');
      await secrets.set(mine, 'TOKEN', 'mine', actor);
      await secrets.set(mine, 'EMPTY', '', actor);
      await secrets.set(theirs, 'TOKEN', 'theirs', actor);
      expect(await secrets.forAgent(mine)).toEqual({ TOKEN: 'mine', EMPTY: '' });
      expect(await secrets.forAgent(theirs)).toEqual({ TOKEN: 'theirs' });
      expect(await secrets.forAgent('no-such-agent')).toEqual({});
    });

    it('refuses unknown agents, bad names and values, and more than the most an agent may hold', async () => {
      await expect(secrets.list('nope')).rejects.toThrow(NotFoundError);
      await expect(secrets.set('nope', 'TOKEN', 'v', actor)).rejects.toThrow(NotFoundError);
      await expect(secrets.delete('nope', 'TOKEN', actor)).rejects.toThrow(NotFoundError);
      const agentId = await newAgent();
      await expect(secrets.set(agentId, 'PATH', 'v', actor)).rejects.toThrow(ValidationError);
      await expect(secrets.set(agentId, 'bad-name', 'v', actor)).rejects.toThrow(ValidationError);
      await expect(secrets.set(agentId, 'TOKEN', 'x'.repeat(65_537), actor)).rejects.toThrow(/value: must be at most 65536 bytes/);
      for (let i = 0; i < SECRETS_PER_AGENT_MAX; i++) await secrets.set(agentId, `S${i}`, 'v', actor);
      await expect(secrets.set(agentId, 'ONE_MORE', 'v', actor)).rejects.toThrow(/the most it may have/);
      // Replacing one is still allowed.
      await secrets.set(agentId, 'S0', 'new', actor);
      expect((await secrets.forAgent(agentId)).S0).toBe('new');
      expect(await rawRows()).toHaveLength(SECRETS_PER_AGENT_MAX);
    });

    it('deleting the agent deletes its secrets', async () => {
      const gone = await newAgent('gone');
      const kept = await newAgent('kept');
      await secrets.set(gone, 'TOKEN', VALUE, actor);
      await secrets.set(gone, 'OTHER', VALUE, actor);
      await secrets.set(kept, 'TOKEN', 'kept', actor);
      expect(await store.deleteAgent(gone)).toMatchObject({ id: gone });
      const rows = await rawRows();
      expect(rows.map((r) => r.agent_id)).toEqual([kept]);
      expect(await store.readSecrets(gone)).toEqual([]);
      expect(await store.putSecret(gone, { name: 'TOKEN', encryptedValue: 'v1:x:y' }, clock.now())).toBeNull();
      expect(await rawRows()).toHaveLength(1);
    });

    it('a value moved to another agent or name in the database, or read under another key, fails naming the secret', async () => {
      const a = await newAgent('a');
      const b = await newAgent('b');
      await secrets.set(a, 'TOKEN', VALUE, actor);
      const [stored] = await store.readSecrets(a);
      await store.putSecret(b, { name: 'TOKEN', encryptedValue: stored?.encryptedValue ?? '' }, clock.now());
      await store.putSecret(a, { name: 'MOVED', encryptedValue: stored?.encryptedValue ?? '' }, clock.now());
      await expect(secrets.forAgent(b)).rejects.toThrow(/secret TOKEN cannot be decrypted/);
      await expect(secrets.forAgent(a)).rejects.toThrow(/secret MOVED cannot be decrypted/);

      const otherKey = new Secrets({ store, clock, cipher: new SecretCipher(generateSecretKey()) });
      const error: unknown = await otherKey.forAgent(b).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(SecretUnreadableError);
      expect(String(error)).toContain('secret TOKEN cannot be decrypted: it was stored under secret key');
      expect(String(error)).not.toContain(VALUE);
    });
  });
}

describe.skipIf(!TEST_DATABASE_URL)('secrets shared by instances on one PostgreSQL database', () => {
  const postgres = dialectsUnderTest().find((d) => d.name === 'postgres');
  let first: Store | null = null;
  let second: Store | null = null;
  afterEach(async () => {
    await second?.close();
    await first?.close();
    first = second = null;
  });

  it("instances holding the same key read each other's secrets; one with another key cannot, and says so", async () => {
    if (!postgres || !TEST_DATABASE_URL) throw new Error('PostgreSQL is not configured');
    const opened = await postgres.open();
    first = opened;
    if (!(opened instanceof SqlStore)) throw new Error('a SqlStore was expected');
    const schema = (await sql<{ s: string }>`select current_schema() as s`.execute(opened.db)).rows[0]?.s;
    second = openPostgresStore(TEST_DATABASE_URL, { schema, maxConnections: 2 });
    const clock = new FakeClock();
    const key = generateSecretKey();
    const actor: Actor = { user: null, log: silentLogger };
    const one = new Secrets({ store: opened, clock, cipher: new SecretCipher(key) });
    const two = new Secrets({ store: second, clock, cipher: new SecretCipher(Buffer.from(key)) });
    const { fields, nextFireAt } = planNewAgent({ name: 'shared', schedule: '0 9 * * *', prompt: 'Work.', enabled: false }, clock.now());
    const agentId = (await opened.createAgent(fields, null, nextFireAt, clock.now())).id;

    await one.set(agentId, 'FROM_ONE', 'one', actor);
    await two.set(agentId, 'FROM_TWO', 'two', actor);
    expect(await one.forAgent(agentId)).toEqual({ FROM_ONE: 'one', FROM_TWO: 'two' });
    expect(await two.forAgent(agentId)).toEqual({ FROM_ONE: 'one', FROM_TWO: 'two' });
    expect((await two.list(agentId)).map((s) => s.name)).toEqual(['FROM_ONE', 'FROM_TWO']);

    const stranger = new Secrets({ store: second, clock, cipher: new SecretCipher(generateSecretKey()) });
    await expect(stranger.forAgent(agentId)).rejects.toThrow(/secret FROM_ONE cannot be decrypted: it was stored under secret key/);
  });
});

import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { NewAuditEntry } from '../../domain/audit.js';
import { ConflictError } from '../../domain/errors.js';
import type { Role, User } from '../../domain/types.js';
import { num, numOrNull, type DialectTraits } from '../dialect.js';
import type { Database, UsersTable } from '../schema.js';
import type { NewToken, TokenHolder, TokenInfo, UserCredentials, UsersTokensStore } from '../store.js';
import { withAudit, writeAudit } from './audit.js';
import { precompiled } from './precompiled.js';

/** Users, their passwords, and their API tokens. */
export class SqlUsersTokens implements UsersTokensStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly traits: DialectTraits,
  ) {}

  async createUser(input: { name: string; role: Role; passwordHash?: string | null }, now: number, audit?: NewAuditEntry): Promise<User> {
    const row = { id: randomUUID(), name: input.name, role: input.role, password_hash: input.passwordHash ?? null, created_at: now };
    try {
      await withAudit(
        this.db,
        audit && { ...audit, targetId: row.id },
        (db) => db.insertInto('users').values(row).execute(),
        () => true,
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`a user named "${input.name}" already exists`);
      throw error;
    }
    return toUser(row);
  }

  async findUserByName(name: string): Promise<User | null> {
    const row = await this.userByName(name).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async findUserCredentials(name: string): Promise<UserCredentials | null> {
    const row = await this.userByName(name).executeTakeFirst();
    return row ? { user: toUser(row), passwordHash: row.password_hash } : null;
  }

  /** Names compare without case, by the database's own lower() on both sides: the unique index of migration 0008 serves it. */
  private userByName(name: string) {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where(sql`lower(name)`, '=', sql`lower(${name})`);
  }

  async setUserPassword(userId: string, passwordHash: string | null, audit?: NewAuditEntry): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) return false;
      // A new password signs the user out everywhere: whoever knew the old one loses access.
      await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
      if (audit) await writeAudit(trx, audit);
      return true;
    });
  }

  async listUsers(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('name').execute();
    return rows.map(toUser);
  }

  async countUsers(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return num(row.n);
  }

  async createToken(input: NewToken, now: number, audit?: NewAuditEntry): Promise<TokenInfo> {
    const id = randomUUID();
    const insert = (db: Kysely<Database>) =>
      db
        .insertInto('api_tokens')
        .values({
          id,
          user_id: input.userId,
          label: input.label,
          token_hash: input.tokenHash,
          prefix: input.prefix,
          created_at: now,
          last_used_at: null,
          revoked_at: null,
          from_env: input.fromEnv ? 1 : 0,
        })
        .execute();
    await withAudit(this.db, audit && { ...audit, targetId: id }, insert, () => true);
    const token = await this.tokenQuery().where('t.id', '=', id).executeTakeFirstOrThrow();
    return toTokenInfo(token);
  }

  /** Authentication's lookup, on every API request: compiled once, and read synchronously where the dialect can. */
  private readonly tokenHolderQuery = precompiled(
    1,
    (tokenHash) =>
      this.db
        .selectFrom('api_tokens as t')
        .innerJoin('users as u', 'u.id', 't.user_id')
        .select(['t.id as token_id', 't.token_hash', 't.last_used_at', 'u.id', 'u.name', 'u.role', 'u.created_at'])
        .where('t.token_hash', '=', tokenHash)
        .where('t.revoked_at', 'is', null),
    (executor, text, parameters) => this.traits.readNow?.(executor, text, parameters) ?? null,
  );

  async findTokenHolder(tokenHash: string): Promise<TokenHolder | null> {
    const row = (await this.tokenHolderQuery(this.db, tokenHash)).rows[0];
    if (!row) return null;
    return { tokenId: row.token_id, tokenHash: row.token_hash, lastUsedAt: numOrNull(row.last_used_at), user: toUser(row) };
  }

  async findTokenByHash(tokenHash: string): Promise<TokenInfo | null> {
    const row = await this.tokenQuery().where('t.token_hash', '=', tokenHash).executeTakeFirst();
    return row ? toTokenInfo(row) : null;
  }

  async touchToken(tokenId: string, now: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', tokenId).execute();
  }

  async revokeToken(tokenId: string, now: number, audit?: NewAuditEntry): Promise<boolean> {
    const revoke = async (db: Kysely<Database>) => {
      const result = await db.updateTable('api_tokens').set({ revoked_at: now }).where('id', '=', tokenId).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    };
    return withAudit(this.db, audit, revoke, (revoked) => revoked);
  }

  async markEnvToken(tokenId: string): Promise<void> {
    await this.db.updateTable('api_tokens').set({ from_env: 1 }).where('id', '=', tokenId).where('from_env', '=', 0).execute();
  }

  async revokeEarlierEnvTokens(current: { id: string; createdAt: number }, now: number): Promise<string[]> {
    const rows = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now })
      .where('from_env', '=', 1)
      .where('revoked_at', 'is', null)
      .where('id', '!=', current.id)
      .where('created_at', '<=', current.createdAt)
      .returning('id')
      .execute();
    return rows.map((row) => row.id);
  }

  async listTokens(): Promise<TokenInfo[]> {
    const rows = await this.tokenQuery().orderBy('t.created_at').orderBy('t.id').execute();
    return rows.map(toTokenInfo);
  }

  private tokenQuery() {
    return this.db
      .selectFrom('api_tokens as t')
      .innerJoin('users as u', 'u.id', 't.user_id')
      .select(['t.id', 't.user_id', 'u.name as user_name', 't.label', 't.prefix', 't.created_at', 't.last_used_at', 't.revoked_at']);
  }
}

/** A user from the columns of a `users` row (alone or joined). */
export function toUser(row: Pick<Selectable<UsersTable>, 'id' | 'name' | 'role' | 'created_at'>): User {
  return { id: row.id, name: row.name, role: row.role, createdAt: num(row.created_at) };
}

interface TokenRow {
  id: string;
  user_id: string;
  user_name: string;
  label: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

function toTokenInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    userId: row.user_id,
    userName: row.user_name,
    label: row.label,
    prefix: row.prefix,
    createdAt: num(row.created_at),
    lastUsedAt: numOrNull(row.last_used_at),
    revokedAt: numOrNull(row.revoked_at),
  };
}

/** A UNIQUE constraint refused the write, on either dialect. */
function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error ? error.code : undefined;
  const message = 'message' in error ? error.message : undefined;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505' || (typeof message === 'string' && /UNIQUE constraint failed/.test(message));
}

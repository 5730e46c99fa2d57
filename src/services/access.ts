import type { Clock } from '../clock.js';
import { NotFoundError, UnauthorizedError, ValidationError } from '../domain/errors.js';
import { checkNewPassword, hashPassword } from '../domain/passwords.js';
import { displayPrefix, generateToken, hashToken, sameHash } from '../domain/tokens.js';
import type { Role, User } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { Store, TokenInfo } from '../store/store.js';
import type { Actor } from './actor.js';
import { auditEntry } from './audit.js';

/** last_used_at is written at most once a minute per token, so reads do not turn into writes. */
const TOKEN_TOUCH_INTERVAL_MS = 60_000;

/** A token just issued: the secret (shown once, never stored) and what is stored about it. */
export interface IssuedToken {
  token: string;
  info: TokenInfo;
}

export interface NewUser {
  name: string;
  role: Role;
  /** A dashboard password, checked and hashed here; none: the user signs in with tokens only. */
  password?: string | null;
}

/** Users, their API tokens and dashboard passwords, for the API and the CLI alike. */
export class Access {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  listUsers(): Promise<User[]> {
    return this.deps.store.listUsers();
  }

  findUser(name: string): Promise<User | null> {
    return this.deps.store.findUserByName(name);
  }

  /** `by`: who creates the user, for the audit trail (none: nothing is recorded, as for tests' fixtures). */
  async createUser(input: NewUser, by?: Actor): Promise<User> {
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    const now = this.deps.clock.now();
    const details = { role: input.role, password: passwordHash !== null };
    const entry = by && auditEntry(by, now, 'user.create', { targetType: 'user', targetName: input.name }, details);
    return this.deps.store.createUser({ name: input.name, role: input.role, passwordHash }, now, entry);
  }

  /** Sets a user's dashboard password, which ends all their sessions; a NotFoundError for an unknown id. */
  async setPassword(userId: string, password: string, by: Actor): Promise<void> {
    checkNewPassword(password);
    const entry = auditEntry(by, this.deps.clock.now(), 'user.set_password', { targetType: 'user', targetId: userId });
    const set = await this.deps.store.setUserPassword(userId, await hashPassword(password), entry);
    if (!set) throw new NotFoundError(`no user with id ${userId}`);
    by.log.info({ userId, by: by.user?.name }, 'password set');
  }

  listTokens(): Promise<TokenInfo[]> {
    return this.deps.store.listTokens();
  }

  /**
   * The one place a token is made: only its hash and a display prefix are stored. `token` is a
   * new random one unless the operator brings their own (CRON_AGENTS_ADMIN_TOKEN, `fromEnv`).
   */
  async issueToken(
    user: { id: string; name?: string },
    label: string,
    token: string = generateToken(),
    options: { fromEnv?: boolean; by?: Actor } = {},
  ): Promise<IssuedToken> {
    const now = this.deps.clock.now();
    const forUser = { id: user.id, name: user.name ?? null };
    const details = { user: forUser, fromEnv: options.fromEnv ?? false };
    const entry = options.by && auditEntry(options.by, now, 'token.create', { targetType: 'token', targetName: label }, details);
    const info = await this.deps.store.createToken(
      { userId: user.id, label, tokenHash: hashToken(token), prefix: displayPrefix(token), fromEnv: options.fromEnv ?? false },
      now,
      entry,
    );
    return { token, info };
  }

  /** Issues a token to the user named `userName`; a ValidationError naming `user` when there is none. */
  async issueTokenByName(userName: string, label: string, by?: Actor): Promise<IssuedToken> {
    const user = await this.findUser(userName);
    if (!user) throw ValidationError.field('user', `no user named "${userName}"`);
    return this.issueToken(user, label, generateToken(), by ? { by } : {});
  }

  /** A NotFoundError when no active token has this id. */
  async revokeToken(tokenId: string, by?: Actor): Promise<void> {
    const now = this.deps.clock.now();
    const revoked = await this.deps.store.revokeToken(tokenId, now, by && auditEntry(by, now, 'token.revoke', { targetType: 'token', targetId: tokenId }));
    if (!revoked) throw new NotFoundError(`no active token with id ${tokenId}`);
  }

  /** The holder of a valid bearer token, or an UnauthorizedError. Records the token's use now and then. */
  async authenticateToken(token: string, log: Logger): Promise<User> {
    return (await this.authenticateBearer(token, log)).user;
  }

  /** As authenticateToken, with the token's id (the credential the audit trail names). */
  async authenticateBearer(token: string, log: Logger): Promise<{ user: User; tokenId: string }> {
    const hash = hashToken(token);
    const holder = await this.deps.store.findTokenHolder(hash);
    if (!holder || !sameHash(holder.tokenHash, hash)) throw new UnauthorizedError('invalid or revoked token');
    const now = this.deps.clock.now();
    if (holder.lastUsedAt === null || now - holder.lastUsedAt >= TOKEN_TOUCH_INTERVAL_MS) {
      this.deps.store.touchToken(holder.tokenId, now).catch((error: unknown) => log.warn({ err: error }, 'could not record token use'));
    }
    return { user: holder.user, tokenId: holder.tokenId };
  }
}

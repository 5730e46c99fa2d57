import type { Clock } from '../clock.js';
import { NotFoundError, UnauthorizedError, ValidationError } from '../domain/errors.js';
import { checkNewPassword, hashPassword } from '../domain/passwords.js';
import { displayPrefix, generateToken, hashToken, sameHash } from '../domain/tokens.js';
import type { Role, User } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { Store, TokenInfo } from '../store/store.js';
import type { Actor } from './actor.js';

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

  async createUser(input: NewUser): Promise<User> {
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    return this.deps.store.createUser({ name: input.name, role: input.role, passwordHash }, this.deps.clock.now());
  }

  /** Sets a user's dashboard password, which ends all their sessions; a NotFoundError for an unknown id. */
  async setPassword(userId: string, password: string, by: Actor): Promise<void> {
    checkNewPassword(password);
    const set = await this.deps.store.setUserPassword(userId, await hashPassword(password));
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
  async issueToken(user: { id: string }, label: string, token: string = generateToken(), options: { fromEnv?: boolean } = {}): Promise<IssuedToken> {
    const info = await this.deps.store.createToken(
      { userId: user.id, label, tokenHash: hashToken(token), prefix: displayPrefix(token), fromEnv: options.fromEnv ?? false },
      this.deps.clock.now(),
    );
    return { token, info };
  }

  /** Issues a token to the user named `userName`; a ValidationError naming `user` when there is none. */
  async issueTokenByName(userName: string, label: string): Promise<IssuedToken> {
    const user = await this.findUser(userName);
    if (!user) throw ValidationError.field('user', `no user named "${userName}"`);
    return this.issueToken(user, label);
  }

  /** A NotFoundError when no active token has this id. */
  async revokeToken(tokenId: string): Promise<void> {
    const revoked = await this.deps.store.revokeToken(tokenId, this.deps.clock.now());
    if (!revoked) throw new NotFoundError(`no active token with id ${tokenId}`);
  }

  /** The holder of a valid bearer token, or an UnauthorizedError. Records the token's use now and then. */
  async authenticateToken(token: string, log: Logger): Promise<User> {
    const hash = hashToken(token);
    const holder = await this.deps.store.findTokenHolder(hash);
    if (!holder || !sameHash(holder.tokenHash, hash)) throw new UnauthorizedError('invalid or revoked token');
    const now = this.deps.clock.now();
    if (holder.lastUsedAt === null || now - holder.lastUsedAt >= TOKEN_TOUCH_INTERVAL_MS) {
      this.deps.store.touchToken(holder.tokenId, now).catch((error: unknown) => log.warn({ err: error }, 'could not record token use'));
    }
    return holder.user;
  }
}

import type { Clock } from '../clock.js';
import { hashToken } from '../domain/tokens.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { Access } from './access.js';
import type { Actor } from './actor.js';
import { Audit } from './audit.js';

export const ADMIN_NAME = 'admin';

/** The service itself, as the audit trail records what it does at start-up. */
const SERVICE: Actor = { user: null, log: silentLogger, credential: 'system' };

/**
 * Makes sure someone can sign in. With CRON_AGENTS_ADMIN_TOKEN, ensures (idempotently) a user
 * `admin` holding that token, and revokes the tokens of the variable's earlier values: changing
 * the variable and restarting rotates the token. Without it, on an empty database, creates
 * `admin` with a random token and prints it once.
 */
export async function bootstrapAdmin(
  deps: { store: Store; clock: Clock; logger: Logger; print: (text: string) => void },
  adminToken: string | null,
): Promise<void> {
  const { store, logger, print } = deps;
  const access = new Access(deps);
  if (adminToken) {
    const admin = (await access.findUser(ADMIN_NAME)) ?? (await access.createUser({ name: ADMIN_NAME, role: 'admin' }, SERVICE));
    if (admin.role !== 'admin') {
      logger.warn({ user: ADMIN_NAME, role: admin.role }, 'CRON_AGENTS_ADMIN_TOKEN belongs to a user "admin" who is not an admin');
    }
    const existing = await store.findTokenByHash(hashToken(adminToken));
    let current = existing;
    if (!existing) {
      current = (await access.issueToken(admin, 'CRON_AGENTS_ADMIN_TOKEN', adminToken, { fromEnv: true, by: SERVICE })).info;
      logger.info({ user: ADMIN_NAME }, 'admin token from CRON_AGENTS_ADMIN_TOKEN registered');
    } else if (existing.revokedAt !== null) {
      // Also what an instance still started with an old value finds: it revokes nothing newer.
      logger.warn({ tokenId: existing.id }, 'CRON_AGENTS_ADMIN_TOKEN was revoked and stays revoked; set a new one');
      return;
    } else if (existing.userId !== admin.id) {
      logger.warn({ tokenId: existing.id }, 'CRON_AGENTS_ADMIN_TOKEN already belongs to another user');
      return;
    } else {
      await store.markEnvToken(existing.id);
    }
    if (!current) return;
    const revoked = await store.revokeEarlierEnvTokens(current, deps.clock.now());
    if (revoked.length > 0) logger.warn({ tokenIds: revoked }, 'CRON_AGENTS_ADMIN_TOKEN changed: the token of its previous value is revoked');
    // Right after the revoke (one statement for every earlier value): an entry per token.
    const audit = new Audit(deps);
    const reason = { reason: 'CRON_AGENTS_ADMIN_TOKEN changed' };
    for (const tokenId of revoked) await audit.record(SERVICE, 'token.revoke', { targetType: 'token', targetId: tokenId }, reason);
    return;
  }
  if ((await store.countUsers()) > 0) return;
  const admin = await access.createUser({ name: ADMIN_NAME, role: 'admin' }, SERVICE);
  const { token } = await access.issueToken(admin, 'initial admin token', undefined, { by: SERVICE });
  print(
    [
      '',
      'Created the first user, "admin", with this API token (it is shown only once; store it now):',
      '',
      `    ${token}`,
      '',
      'Use it as:  curl -H "Authorization: Bearer <token>" http://HOST:PORT/api/agents',
      'More tokens and users: npx cron-agents user add NAME --role member; npx cron-agents token create NAME',
      '',
    ].join('\n'),
  );
}

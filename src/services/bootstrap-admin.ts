import type { Clock } from '../clock.js';
import { hashToken } from '../domain/tokens.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { Access } from './access.js';

export const ADMIN_NAME = 'admin';

/**
 * Makes sure someone can sign in. With CRON_AGENTS_ADMIN_TOKEN, ensures (idempotently) a user
 * `admin` holding that token. Without it, on an empty database, creates `admin` with a random
 * token and prints it once.
 */
export async function bootstrapAdmin(
  deps: { store: Store; clock: Clock; logger: Logger; print: (text: string) => void },
  adminToken: string | null,
): Promise<void> {
  const { store, logger, print } = deps;
  const access = new Access(deps);
  if (adminToken) {
    const admin = (await access.findUser(ADMIN_NAME)) ?? (await access.createUser({ name: ADMIN_NAME, role: 'admin' }));
    if (admin.role !== 'admin') {
      logger.warn({ user: ADMIN_NAME, role: admin.role }, 'CRON_AGENTS_ADMIN_TOKEN belongs to a user "admin" who is not an admin');
    }
    const existing = await store.findTokenByHash(hashToken(adminToken));
    if (!existing) {
      await access.issueToken(admin, 'CRON_AGENTS_ADMIN_TOKEN', adminToken);
      logger.info({ user: ADMIN_NAME }, 'admin token from CRON_AGENTS_ADMIN_TOKEN registered');
    } else if (existing.revokedAt !== null) {
      logger.warn({ tokenId: existing.id }, 'CRON_AGENTS_ADMIN_TOKEN was revoked and stays revoked; set a new one');
    } else if (existing.userId !== admin.id) {
      logger.warn({ tokenId: existing.id }, 'CRON_AGENTS_ADMIN_TOKEN already belongs to another user');
    }
    return;
  }
  if ((await store.countUsers()) > 0) return;
  const admin = await access.createUser({ name: ADMIN_NAME, role: 'admin' });
  const { token } = await access.issueToken(admin, 'initial admin token');
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

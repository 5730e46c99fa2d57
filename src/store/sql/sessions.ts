import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { NewAuditEntry } from '../../domain/audit.js';
import { num } from '../dialect.js';
import type { Database } from '../schema.js';
import type { SessionHolder, SessionsStore } from '../store.js';
import { withAudit, writeAudit } from './audit.js';
import { toUser } from './users-tokens.js';

/** Dashboard sessions and the failed sign-ins that rate limiting counts. */
export class SqlSessions implements SessionsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async createSession(session: { idHash: string; userId: string; expiresAt: number }, now: number, audit?: NewAuditEntry): Promise<void> {
    const row = { id_hash: session.idHash, user_id: session.userId, created_at: now, last_seen_at: now, expires_at: session.expiresAt };
    await withAudit(
      this.db,
      audit,
      (db) => db.insertInto('sessions').values(row).execute(),
      () => true,
    );
  }

  async findSession(idHash: string, now: number): Promise<SessionHolder | null> {
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.id_hash', 's.created_at as session_created_at', 's.last_seen_at', 's.expires_at', 'u.id', 'u.name', 'u.role', 'u.created_at'])
      .where('s.id_hash', '=', idHash)
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    if (!row) return null;
    return {
      idHash: row.id_hash,
      user: toUser(row),
      createdAt: num(row.session_created_at),
      lastSeenAt: num(row.last_seen_at),
      expiresAt: num(row.expires_at),
    };
  }

  async touchSession(idHash: string, now: number, expiresAt: number): Promise<void> {
    await this.db.updateTable('sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id_hash', '=', idHash).execute();
  }

  async deleteSession(idHash: string): Promise<boolean> {
    const result = await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    const result = await this.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async recordSignInFailure(subjects: string[], now: number, forgetBefore: number, audit?: NewAuditEntry): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (audit) await writeAudit(trx, audit);
      await trx.deleteFrom('sign_in_failures').where('failed_at', '<', forgetBefore).execute();
      if (subjects.length === 0) return;
      await trx
        .insertInto('sign_in_failures')
        .values(subjects.map((subject) => ({ id: randomUUID(), subject, failed_at: now })))
        .execute();
    });
  }

  async signInFailures(subjects: string[], since: number): Promise<Map<string, number[]>> {
    const failures = new Map<string, number[]>();
    if (subjects.length === 0) return failures;
    const rows = await this.db
      .selectFrom('sign_in_failures')
      .select(['subject', 'failed_at'])
      .where('subject', 'in', subjects)
      .where('failed_at', '>=', since)
      .orderBy('failed_at')
      .execute();
    for (const row of rows) {
      const times = failures.get(row.subject) ?? [];
      times.push(num(row.failed_at));
      failures.set(row.subject, times);
    }
    return failures;
  }

  async clearSignInFailures(subject: string): Promise<void> {
    await this.db.deleteFrom('sign_in_failures').where('subject', '=', subject).execute();
  }
}

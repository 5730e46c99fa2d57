import { sql, type Kysely } from 'kysely';
import type { NewAuditEntry } from '../../domain/audit.js';
import { bigint, num, type DialectTraits } from '../dialect.js';
import type { Database } from '../schema.js';
import type { EncryptedSecret, SecretInfo, SecretsStore } from '../store.js';
import { withAudit } from './audit.js';

/** Per-agent secrets, as the services encrypted them. Their agent's delete takes them along (on delete cascade). */
export class SqlSecrets implements SecretsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly traits: DialectTraits,
  ) {}

  async listSecrets(agentId: string): Promise<SecretInfo[]> {
    const rows = await this.db
      .selectFrom('agent_secrets')
      .select(['name', 'updated_at'])
      .where('agent_id', '=', agentId)
      // Byte order on both databases, whatever PostgreSQL's collation makes of `_`.
      .orderBy(this.traits.name === 'postgres' ? sql`name collate "C"` : sql`name`)
      .execute();
    return rows.map((row) => ({ name: row.name, updatedAt: num(row.updated_at) }));
  }

  async readSecrets(agentId: string): Promise<EncryptedSecret[]> {
    const rows = await this.db.selectFrom('agent_secrets').select(['name', 'encrypted_value']).where('agent_id', '=', agentId).execute();
    return rows.map((row) => ({ name: row.name, encryptedValue: row.encrypted_value }));
  }

  async putSecret(agentId: string, secret: EncryptedSecret, now: number, audit?: NewAuditEntry): Promise<SecretInfo | null> {
    try {
      return await withAudit(
        this.db,
        audit,
        (db) => this.upsertSecret(db, agentId, secret, now),
        (info) => info !== null,
      );
    } catch (error) {
      // The agent was deleted between the read of the statement and its foreign key check.
      if (!(await this.agentExists(agentId))) return null;
      throw error;
    }
  }

  /** One statement: the row is written only if the agent exists, inserted or replaced. */
  private async upsertSecret(db: Kysely<Database>, agentId: string, secret: EncryptedSecret, now: number): Promise<SecretInfo | null> {
    const result = await db
      .insertInto('agent_secrets')
      .columns(['agent_id', 'name', 'encrypted_value', 'updated_at'])
      .expression((eb) =>
        eb
          .selectFrom('agents')
          .select([
            'id',
            sql<string>`cast(${secret.name} as text)`.as('name'),
            sql<string>`cast(${secret.encryptedValue} as text)`.as('encrypted_value'),
            bigint(now).as('updated_at'),
          ])
          .where('id', '=', agentId),
      )
      .onConflict((oc) =>
        oc
          .columns(['agent_id', 'name'])
          .doUpdateSet((eb) => ({ encrypted_value: eb.ref('excluded.encrypted_value'), updated_at: eb.ref('excluded.updated_at') })),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0 ? { name: secret.name, updatedAt: now } : null;
  }

  async deleteSecret(agentId: string, name: string, audit?: NewAuditEntry): Promise<boolean> {
    return withAudit(
      this.db,
      audit,
      async (db) => {
        const result = await db.deleteFrom('agent_secrets').where('agent_id', '=', agentId).where('name', '=', name).executeTakeFirst();
        return Number(result.numDeletedRows) > 0;
      },
      (deleted) => deleted,
    );
  }

  private async agentExists(agentId: string): Promise<boolean> {
    return (await this.db.selectFrom('agents').select('id').where('id', '=', agentId).executeTakeFirst()) !== undefined;
  }
}

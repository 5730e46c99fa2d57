import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditEntry, AuditQuery, NewAuditEntry } from '../../domain/audit.js';
import { bigint, num } from '../dialect.js';
import type { AuditLogTable, Database } from '../schema.js';
import type { AuditStore } from '../store.js';

/**
 * The audit trail. A change that is a transaction of the store writes its entry in that
 * transaction (writeAudit, or withAudit around a change of one statement), so an entry is there
 * exactly when its change is; `recordAudit` is for changes made elsewhere, right after them.
 */
export class SqlAudit implements AuditStore {
  constructor(private readonly db: Kysely<Database>) {}

  async recordAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    return writeAudit(this.db, entry);
  }

  async listAudit(query: AuditQuery): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (query.agentId !== undefined) q = q.where('agent_id', '=', query.agentId);
    else if (query.agentsOnly) q = q.where('agent_id', 'is not', null);
    if (query.userId !== undefined) q = q.where('actor_id', '=', query.userId);
    if (query.action !== undefined) q = q.where('action', '=', query.action);
    if (query.before !== undefined) q = q.where('at', '<', query.before);
    if (query.after) q = q.where(sql<boolean>`(at, id) < (${bigint(query.after.at)}, ${query.after.id})`);
    const rows = await q.orderBy('at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(toAuditEntry);
  }

  async pruneAuditBatch(before: number, limit: number): Promise<number> {
    const oldest = this.db.selectFrom('audit_log').select('id').where('at', '<', before).orderBy('at').limit(limit);
    const result = await this.db.deleteFrom('audit_log').where('id', 'in', oldest).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** Writes one entry in `db`: the store's, or the transaction of the change it records. */
export async function writeAudit(db: Kysely<Database>, entry: NewAuditEntry): Promise<AuditEntry> {
  const id = sequentialId(entry.at);
  await db
    .insertInto('audit_log')
    .values({
      id,
      at: entry.at,
      action: entry.action,
      actor_id: entry.actor.userId,
      actor_name: entry.actor.userName,
      address: entry.actor.address,
      credential: entry.actor.credential,
      agent_id: entry.agentId,
      target_type: entry.targetType,
      target_id: entry.targetId,
      target_name: entry.targetName,
      details: JSON.stringify(entry.details),
    })
    .execute();
  return { ...entry, id };
}

/**
 * Runs `change` and, when `happened` says it changed something, writes `entry` (as `complete`
 * finishes it from the result) in the same transaction. Without an entry, `change` runs on `db`
 * as it always did, in no transaction of its own.
 */
export async function withAudit<T>(
  db: Kysely<Database>,
  entry: NewAuditEntry | undefined,
  change: (db: Kysely<Database>) => Promise<T>,
  happened: (result: T) => boolean,
  complete: (entry: NewAuditEntry, result: T) => NewAuditEntry = (e) => e,
): Promise<T> {
  if (!entry) return change(db);
  return db.transaction().execute(async (trx) => {
    const result = await change(trx);
    if (happened(result)) await writeAudit(trx, complete(entry, result));
    return result;
  });
}

let lastMs = 0;
let counter = 0;

/**
 * A UUID version 7 whose 12 bits after the time count up within a millisecond (RFC 9562's
 * "fixed-length dedicated counter"): entries one instance writes in the same millisecond list in
 * the order they were written, as the trail is read by (at, id).
 */
function sequentialId(at: number): string {
  if (at > lastMs) {
    lastMs = at;
    counter = 0;
  } else if (++counter > 0xfff) {
    lastMs++;
    counter = 0;
  }
  const bytes = randomBytes(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (counter >> 8);
  bytes[7] = counter & 0xff;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function toAuditEntry(row: Selectable<AuditLogTable>): AuditEntry {
  const details: unknown = JSON.parse(row.details);
  return {
    id: row.id,
    at: num(row.at),
    action: row.action,
    actor: { userId: row.actor_id, userName: row.actor_name, address: row.address, credential: row.credential },
    agentId: row.agent_id,
    targetType: row.target_type,
    targetId: row.target_id,
    targetName: row.target_name,
    details: typeof details === 'object' && details !== null && !Array.isArray(details) ? { ...details } : {},
  };
}

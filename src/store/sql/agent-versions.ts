import type { Kysely, Selectable } from 'kysely';
import { makesNewVersion, versionedFields, type AgentVersion, type AgentVersionQuery, type VersionedFields } from '../../domain/agent-versions.js';
import { changedFields, type AuditActor } from '../../domain/audit.js';
import type { Agent, AgentFields } from '../../domain/types.js';
import { num } from '../dialect.js';
import type { AgentVersionsTable, Database } from '../schema.js';
import type { AgentVersionsStore } from '../store.js';
import { writeAudit } from './audit.js';

/**
 * Agents' versions (domain/agent-versions.ts), and the audit entries of agents' creates, updates
 * and deletes: both are written by sql/agents.ts in the transaction of the change, through the
 * functions below, so a version and an entry exist exactly when their change does.
 */
export class SqlAgentVersions implements AgentVersionsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async listAgentVersions(agentId: string, query: AgentVersionQuery): Promise<AgentVersion[]> {
    let q = this.db.selectFrom('agent_versions').selectAll().where('agent_id', '=', agentId);
    if (query.before !== undefined) q = q.where('version', '<', query.before);
    const rows = await q.orderBy('version', 'desc').limit(query.limit).execute();
    return rows.map(toAgentVersion);
  }
}

/** Version 1 of a new agent, and (with `by`) the entry of its creation; in the create's transaction. */
export async function recordAgentCreated(trx: Kysely<Database>, agentId: string, fields: AgentFields, now: number, by: AuditActor | undefined): Promise<void> {
  await insertVersion(trx, agentId, 1, versionedFields(fields), now, by);
  if (!by) return;
  await writeAudit(trx, {
    at: now,
    action: 'agent.create',
    actor: by,
    agentId,
    targetType: 'agent',
    targetId: agentId,
    targetName: fields.name,
    details: { fields, version: 1 },
  });
}

/**
 * After an update of `current` to `next` in `trx`: the next version when a versioned field
 * changed, and (with `by`) the entry of the change, unless nothing changed. Enabling or
 * disabling and nothing else is `agent.enable` / `agent.disable`; anything more is `agent.update`
 * with every changed field, old and new.
 */
export async function recordAgentUpdated(trx: Kysely<Database>, current: Agent, next: AgentFields, now: number, by: AuditActor | undefined): Promise<void> {
  const changes = changedFields(current, next);
  const changed = Object.keys(changes);
  if (changed.length === 0) return;
  let version: number | null = null;
  if (makesNewVersion(changed)) {
    const row = await trx
      .updateTable('agents')
      .set((eb) => ({ version: eb('version', '+', 1) }))
      .where('id', '=', current.id)
      .returning('version')
      .executeTakeFirstOrThrow();
    version = num(row.version);
    await insertVersion(trx, current.id, version, versionedFields(next), now, by);
  }
  if (!by) return;
  const toggle = changed.length === 1 && changed[0] === 'enabled';
  await writeAudit(trx, {
    at: now,
    action: toggle ? (next.enabled ? 'agent.enable' : 'agent.disable') : 'agent.update',
    actor: by,
    agentId: current.id,
    targetType: 'agent',
    targetId: current.id,
    targetName: next.name,
    details: version === null ? { changes } : { changes, version },
  });
}

async function insertVersion(
  trx: Kysely<Database>,
  agentId: string,
  version: number,
  fields: VersionedFields,
  now: number,
  by: AuditActor | undefined,
): Promise<void> {
  const creator = by?.userId ? { created_by_id: by.userId, created_by_name: by.userName } : { created_by_id: null, created_by_name: null };
  await trx
    .insertInto('agent_versions')
    .values({ agent_id: agentId, version, created_at: now, ...creator, fields: JSON.stringify(fields) })
    .execute();
}

function toAgentVersion(row: Selectable<AgentVersionsTable>): AgentVersion {
  const fields: unknown = JSON.parse(row.fields);
  return {
    agentId: row.agent_id,
    version: num(row.version),
    createdAt: num(row.created_at),
    createdBy: row.created_by_id !== null && row.created_by_name !== null ? { id: row.created_by_id, name: row.created_by_name } : null,
    fields: typeof fields === 'object' && fields !== null ? { ...fields } : {},
  };
}

import type { Clock } from '../clock.js';
import { LIMITS } from '../defaults.js';
import type { AgentVersion } from '../domain/agent-versions.js';
import {
  auditName,
  CLI_ACTOR,
  type AuditAction,
  type AuditActor,
  type AuditCursor,
  type AuditEntry,
  type AuditTargetType,
  type NewAuditEntry,
} from '../domain/audit.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import type { User } from '../domain/types.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';

/** What an entry is about: the agent (if any), and the target's kind, id and name. */
export interface AuditSubject {
  agentId?: string | null;
  targetType: AuditTargetType;
  targetId?: string | null;
  targetName?: string | null;
}

/** Who acted, as the audit trail records it: the user, the request's address and credential; `cli` for the operator. */
export function auditActor(by: Actor): AuditActor {
  if (by.user === null && by.ip === undefined) return { ...CLI_ACTOR, credential: by.credential ?? CLI_ACTOR.credential };
  return {
    userId: by.user?.id ?? null,
    userName: by.user ? auditName(by.user.name) : null,
    address: by.ip ?? null,
    credential: by.credential ?? null,
  };
}

/**
 * The entry of `action` by `by` at `at`: what a service hands the store with a change, to be
 * written in the change's transaction. The budget service builds its `budget.update` entry here
 * and passes it to its store method, which writes it with `writeAudit(trx, entry)` (store/sql/audit.ts).
 */
export function auditEntry(by: Actor, at: number, action: AuditAction, subject: AuditSubject, details: Record<string, unknown> = {}): NewAuditEntry {
  return {
    at,
    action,
    actor: auditActor(by),
    agentId: subject.agentId ?? null,
    targetType: subject.targetType,
    targetId: subject.targetId ?? null,
    targetName: subject.targetName === undefined || subject.targetName === null ? null : auditName(subject.targetName),
    details,
  };
}

/** A page of the audit trail, newest first; `nextCursor` null on the last page. */
export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
}

/** The filters of GET /api/audit, after schema validation. */
export interface AuditListQuery {
  agentId?: string;
  userId?: string;
  action?: AuditAction;
  before?: number;
  cursor?: string;
  limit?: number;
}

/**
 * The audit trail and agents' versions, read. Entries are written by the store with the changes
 * they record (the services hand it `auditEntry(...)`); `record` is for a change the store made
 * without one, right after it.
 */
export class Audit {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  /**
   * Entries newest first, a page at a time. Admins read every entry; other roles only entries
   * about agents, without the address and credential of whoever made them (those identify people
   * and their tokens, which only admins manage).
   */
  async list(query: AuditListQuery, reader: User | null): Promise<AuditPage> {
    const admin = reader === null || reader.role === 'admin';
    const limit = query.limit ?? LIMITS.auditLimitDefault;
    const after = query.cursor === undefined ? null : decodeAuditCursor(query.cursor);
    const rows = await this.deps.store.listAudit({
      ...(query.agentId !== undefined ? { agentId: query.agentId } : {}),
      ...(query.userId !== undefined ? { userId: query.userId } : {}),
      ...(query.action !== undefined ? { action: query.action } : {}),
      ...(query.before !== undefined ? { before: query.before } : {}),
      agentsOnly: !admin,
      after,
      limit: limit + 1,
    });
    const entries = rows.slice(0, limit).map((entry) => (admin ? entry : { ...entry, actor: { ...entry.actor, address: null, credential: null } }));
    const last = entries.at(-1);
    return { entries, nextCursor: rows.length > limit && last ? encodeAuditCursor({ at: last.at, id: last.id }) : null };
  }

  /** The agent's versions, newest first; a NotFoundError for an unknown agent. */
  async versions(agentId: string, query: { before?: number; limit?: number } = {}): Promise<AgentVersion[]> {
    if (!(await this.deps.store.getAgent(agentId))) throw new NotFoundError(`agent ${agentId} not found`);
    const limit = query.limit ?? LIMITS.versionsLimitDefault;
    return this.deps.store.listAgentVersions(agentId, { limit, ...(query.before !== undefined ? { before: query.before } : {}) });
  }

  /** Records a change made without its entry, right after it (prefer the change's own transaction: auditEntry). */
  record(by: Actor, action: AuditAction, subject: AuditSubject, details: Record<string, unknown> = {}): Promise<AuditEntry> {
    return this.deps.store.recordAudit(auditEntry(by, this.deps.clock.now(), action, subject, details));
  }
}

export function encodeAuditCursor(cursor: AuditCursor): string {
  return Buffer.from(JSON.stringify([cursor.at, cursor.id]), 'utf8').toString('base64url');
}

/** The cursor a token stands for, or a ValidationError naming `cursor`. */
export function decodeAuditCursor(token: string): AuditCursor {
  let value: unknown = null;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    // not JSON: refused below
  }
  const parts: unknown[] = Array.isArray(value) ? value : [];
  const [at, id] = parts;
  if (parts.length !== 2 || typeof at !== 'number' || !Number.isSafeInteger(at) || typeof id !== 'string') {
    throw ValidationError.field('cursor', 'is not a cursor this list gave (use nextCursor as it is)');
  }
  return { at, id };
}

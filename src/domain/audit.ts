/**
 * Glossary
 *
 * - audit entry: one change someone made (or tried: a failed sign-in), recorded with who made it
 *   (user id and name), when, from which address and by which credential. Written by the store in
 *   the transaction of the change wherever the change is one (sql/audit.ts), so a change is never
 *   without its entry, nor an entry without its change.
 * - credential: what authenticated the change: `token:<token id>`, `session:<prefix of the
 *   session's id hash>` (never of the id itself: the cookie is a secret), `cli` for the operator at
 *   the command line, `system` for the service itself (the admin of CRON_AGENTS_ADMIN_TOKEN).
 * - changes: for an update, each field that changed with its old and new value; agents' secrets
 *   appear only by name, never with a value (their values never reach the store unencrypted).
 */

/** Every action the audit trail records. */
export const AUDIT_ACTIONS = [
  'agent.create',
  'agent.update',
  'agent.enable',
  'agent.disable',
  'agent.delete',
  'agent.run',
  'agent.cancel',
  'secret.set',
  'secret.delete',
  'webhook.create',
  'webhook.update',
  'webhook.delete',
  'webhook.rotate_secret',
  'user.create',
  'user.set_password',
  'token.create',
  'token.revoke',
  'sign_in.success',
  'sign_in.failure',
  'budget.update',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** What an entry is about. */
export const AUDIT_TARGETS = ['agent', 'secret', 'webhook', 'user', 'token', 'session', 'budget'] as const;
export type AuditTargetType = (typeof AUDIT_TARGETS)[number];

/** Who made a change, from where, and how they were authenticated. */
export interface AuditActor {
  /** Null for the operator at the command line, the service itself, or an unknown name at sign-in. */
  userId: string | null;
  /** The user's name; at a failed sign-in, the name typed. */
  userName: string | null;
  /** The client's address (as the service sees it: mind CRON_AGENTS_TRUST_PROXY); null at the command line. */
  address: string | null;
  credential: string | null;
}

/** The operator at the command line. */
export const CLI_ACTOR: Readonly<AuditActor> = Object.freeze({ userId: null, userName: null, address: null, credential: 'cli' });

/** The service itself (start-up work such as the admin of CRON_AGENTS_ADMIN_TOKEN). */
export const SYSTEM_ACTOR: Readonly<AuditActor> = Object.freeze({ userId: null, userName: null, address: null, credential: 'system' });

/** A session as the audit trail names it: by a prefix of its id's hash (the id itself is the cookie's secret). */
export function sessionCredential(idHash: string): string {
  return `session:${idHash.slice(0, 12)}`;
}

/** The entry of a sign-in: about the session it made (its credential), or none. */
export function signInEntry(action: 'sign_in.success' | 'sign_in.failure', actor: AuditActor, at: number): NewAuditEntry {
  return { at, action, actor, agentId: null, targetType: 'session', targetId: actor.credential, targetName: null, details: {} };
}

/** An API token as the audit trail names it. */
export function tokenCredential(tokenId: string): string {
  return `token:${tokenId}`;
}

/** A field's value before and after an update. */
export interface FieldChange {
  old: unknown;
  new: unknown;
}

/** An entry to write. */
export interface NewAuditEntry {
  at: number;
  action: AuditAction;
  actor: AuditActor;
  /** The agent the entry is about (its secrets' entries too); null for entries about no agent. Kept after the agent is deleted. */
  agentId: string | null;
  targetType: AuditTargetType;
  targetId: string | null;
  targetName: string | null;
  /** What the action did: `changes` of an update, the `fields` of a create, the `version` it made... JSON. */
  details: Record<string, unknown>;
}

/** An entry as recorded. */
export interface AuditEntry extends NewAuditEntry {
  id: string;
}

/** Which entries to list: newest first, before the cursor. */
export interface AuditQuery {
  agentId?: string;
  userId?: string;
  action?: AuditAction;
  /** Only entries made before this instant. */
  before?: number;
  /** Only entries about an agent (what non-admins may read). */
  agentsOnly?: boolean;
  /** Where the previous page ended. */
  after?: AuditCursor | null;
  limit: number;
}

/** Where a page of the audit trail ended: its last entry's time and id (entries are listed by both, newest first). */
export interface AuditCursor {
  at: number;
  id: string;
}

/** The fields a name-like target carries into the entry: values this long are cut (a sign-in's typed name is anyone's text). */
export const AUDIT_NAME_MAX = 200;

export function auditName(name: string): string {
  return name.length > AUDIT_NAME_MAX ? `${name.slice(0, AUDIT_NAME_MAX)}…` : name;
}

/**
 * JSON with object keys sorted at every depth: two values that mean the same compare equal as
 * text whatever order their keys were written in (a stored mcpServers object against a request's).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys((value as Record<string, unknown>)[key]);
  return sorted;
}

/**
 * The fields whose values differ between `before` and `after`, with both values, over every key
 * either has: generic, so a field added to a record later is covered without a change here.
 */
export function fieldChanges<T extends object>(before: T, after: T, skip: readonly string[] = []): Record<string, FieldChange> {
  const changes: Record<string, FieldChange> = {};
  const a = before as Record<string, unknown>;
  const b = after as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (skip.includes(key)) continue;
    if (canonicalJson(a[key]) !== canonicalJson(b[key])) changes[key] = { old: a[key] ?? null, new: b[key] ?? null };
  }
  return changes;
}

/** The fields of `next` whose values differ in `current` (a record that has them and maybe more: an Agent against its AgentFields). */
export function changedFields<T extends object>(current: T, next: Partial<T>): Record<string, FieldChange> {
  const before: Record<string, unknown> = Object.fromEntries(Object.keys(next).map((key) => [key, current[key as keyof T]]));
  const after: Record<string, unknown> = { ...next };
  return fieldChanges(before, after);
}

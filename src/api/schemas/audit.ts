import { Type, type Static } from 'typebox';
import { LIMITS } from '../../defaults.js';
import { AUDIT_ACTIONS, AUDIT_TARGETS } from '../../domain/audit.js';
import { Instant, OrNull, StringEnum } from './common.js';

/** The audit trail and agents' versions (domain/audit.ts, domain/agent-versions.ts). */

export const AuditQueryParams = Type.Object(
  {
    agentId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Only entries about this agent (its secrets too)' })),
    userId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Only entries of changes this user made' })),
    action: Type.Optional(StringEnum(AUDIT_ACTIONS, { description: 'Only entries of this action' })),
    before: Type.Optional(Type.String({ format: 'date-time', description: 'Only entries made before this instant' })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 500, description: "The previous page's nextCursor" })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.auditLimitMax, description: `Entries per page. Default: ${LIMITS.auditLimitDefault}` })),
  },
  { additionalProperties: false },
);
export type AuditQueryParams = Static<typeof AuditQueryParams>;

const AuditActorJson = Type.Object({
  id: OrNull(Type.String(), { description: "The user's id; null for the operator at the command line, the service, or an unknown name at sign-in" }),
  name: OrNull(Type.String(), { description: "The user's name (at a failed sign-in: the name typed)" }),
  address: OrNull(Type.String(), { description: "The client's address; null at the command line, and for readers who are not admins" }),
  credential: OrNull(Type.String(), {
    description:
      '`token:<token id>`, `session:<prefix of the session id hash>`, `cli` or `system`; null for a failed sign-in, and for readers who are not admins',
  }),
});

export const AuditEntryJson = Type.Object(
  {
    id: Type.String(),
    at: Instant,
    action: StringEnum(AUDIT_ACTIONS),
    actor: AuditActorJson,
    agentId: OrNull(Type.String(), { description: 'The agent the entry is about, if any (kept after the agent is deleted)' }),
    target: Type.Object({
      type: StringEnum(AUDIT_TARGETS),
      id: OrNull(Type.String()),
      name: OrNull(Type.String()),
    }),
    details: Type.Unsafe<Record<string, unknown>>({
      type: 'object',
      additionalProperties: true,
      description:
        'What the action did: an update\'s `changes` ({"field": {"old", "new"}}, secrets only by name), a create\'s `fields`, the `version` an agent change made, a run\'s `runId`...',
    }),
  },
  { $id: 'AuditEntry' },
);
export type AuditEntryJson = Static<typeof AuditEntryJson>;

export const AuditPageJson = Type.Object({
  data: Type.Array(AuditEntryJson),
  nextCursor: OrNull(Type.String(), { description: 'The cursor of the next page; null on the last' }),
});
export type AuditPageJson = Static<typeof AuditPageJson>;

export const VersionsQuery = Type.Object(
  {
    before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only versions below this one (the next page: the last version listed)' })),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: LIMITS.versionsLimitMax, description: `Versions per page. Default: ${LIMITS.versionsLimitDefault}` }),
    ),
  },
  { additionalProperties: false },
);

export const AgentVersionJson = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    createdAt: Instant,
    createdBy: OrNull(Type.Object({ id: Type.String(), name: Type.String() }), {
      description: 'Null: made by the operator (CLI), the service, or the upgrade',
    }),
    fields: Type.Unsafe<Record<string, unknown>>({
      type: 'object',
      additionalProperties: true,
      description: "The agent's fields in this version: every field of an agent but name, description and enabled",
    }),
  },
  { $id: 'AgentVersion' },
);
export type AgentVersionJson = Static<typeof AgentVersionJson>;

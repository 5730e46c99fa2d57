import type { AgentFields, UserRef } from './types.js';

/**
 * Glossary
 *
 * - version: a numbered snapshot of what an agent's runs do: its prompt, schedule and timezone,
 *   its limits (turns, budgets, model, retries, overlap...), its tools and run options. Version 1
 *   is made with the agent; each change of any of these fields makes the next one, in the
 *   change's transaction. Each run records the version it ran (`agentVersion`), so a run's output
 *   can be read beside the prompt that produced it.
 *
 * Every field of AgentFields is versioned but those that name, describe or switch the agent:
 * a field added to AgentFields later is versioned without a change here.
 */
export const UNVERSIONED_FIELDS = ['name', 'description', 'enabled'] as const satisfies readonly (keyof AgentFields)[];
type UnversionedField = (typeof UNVERSIONED_FIELDS)[number];

/** What a version holds. */
export type VersionedFields = Omit<AgentFields, UnversionedField>;

/** One version of an agent, as listed. `fields` is as it was written then: a version made before a field existed lacks it. */
export interface AgentVersion {
  agentId: string;
  version: number;
  createdAt: number;
  /** Null for a version the operator (CLI), the service itself or the upgrade to versions made. */
  createdBy: UserRef | null;
  fields: Partial<VersionedFields>;
}

/** Which versions to list: newest first, those below `before` (a version number), at most `limit`. */
export interface AgentVersionQuery {
  before?: number;
  limit: number;
}

/** The versioned part of an agent's fields. */
export function versionedFields(fields: AgentFields): VersionedFields {
  const versioned: Partial<AgentFields> = { ...fields };
  for (const key of UNVERSIONED_FIELDS) delete versioned[key];
  return versioned as VersionedFields;
}

/** Whether a change of these fields (as fieldChanges names them) makes a new version. */
export function makesNewVersion(changedFields: readonly string[]): boolean {
  const unversioned: readonly string[] = UNVERSIONED_FIELDS;
  return changedFields.some((field) => !unversioned.includes(field));
}

import { ValidationError } from './errors.js';

/**
 * Where a page of the agents list ends: the last agent's name and id (the list's order is by
 * name without case, then by name, then by id). Clients get it as an opaque token.
 */
export interface AgentCursor {
  name: string;
  id: string;
}

export function encodeAgentCursor(cursor: AgentCursor): string {
  return Buffer.from(JSON.stringify([cursor.name, cursor.id]), 'utf8').toString('base64url');
}

/** The cursor a token stands for, or a ValidationError naming `cursor`. */
export function decodeAgentCursor(token: string): AgentCursor {
  let value: unknown = null;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    // not JSON: refused below
  }
  const parts: unknown[] = Array.isArray(value) ? value : [];
  const [name, id] = parts;
  if (parts.length !== 2 || typeof name !== 'string' || typeof id !== 'string') {
    throw ValidationError.field('cursor', 'is not a cursor this list gave (use nextCursor as it is)');
  }
  return { name, id };
}

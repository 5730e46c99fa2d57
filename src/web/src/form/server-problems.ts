import { ApiError } from '../api';
import { FIELDS, type ErrorKey, type FieldErrors } from './form-fields';

/** Where the server's complaints about an agent go: each beside the control it names. */

const WORKSPACE_PARTS: Record<string, ErrorKey> = {
  'workspace.git': 'gitUrl',
  'workspace.git.url': 'gitUrl',
  'workspace.git.ref': 'gitRef',
  'workspace.git.depth': 'gitDepth',
  'workspace.hostPath': 'hostPath',
  'workspace.readOnly': 'hostReadOnly',
};

/** The fields whose entries are lines of a text box: a problem with entry i is on line i + 1. */
const LINE_FIELDS: readonly ErrorKey[] = ['allowedTools', 'disallowedTools', 'allowedDomains'];

/**
 * The control a field path names, and what of the path the message must still say:
 * `workspace.git.url` -> gitUrl; `mcpServers.docs.url` -> mcpServers, "docs.url";
 * `allowedDomains[1]` -> allowedDomains, "Line 2". Null: the form as a whole.
 */
function placeOf(path: string): { key: ErrorKey; where: string | null } | null {
  const field = path.replace(/^body\.?/, '');
  const part = WORKSPACE_PARTS[field];
  if (part) return { key: part, where: null };
  const head = field.split(/[.[]/)[0];
  const key = FIELDS.find((name) => name === head);
  if (!key) return null;
  const rest = field.slice(key.length);
  const line = /^\[(\d+)\]$/.exec(rest);
  if (line && LINE_FIELDS.includes(key)) return { key, where: `Line ${Number(line[1]) + 1}` };
  return { key, where: rest.startsWith('.') ? rest.slice(1) : null };
}

/** The API's message as a sentence; its schema wording for an empty required field, in plain words. */
function sentence(message: string, where: string | null): string {
  const text = /fewer than 1 character|must not be empty or blank|is required/i.test(message) && where === null ? 'Required: this must not be empty' : message;
  const full = where === null ? text.charAt(0).toUpperCase() + text.slice(1) : `${where}: ${text}`;
  return full + (/[.!?]$/.test(full) ? '' : '.');
}

/** A failed save as errors beside their fields, and the rest for the form as a whole. */
export function problemsOf(error: unknown): { errors: FieldErrors; formError: string | null } {
  if (!(error instanceof ApiError) || error.details.length === 0) {
    return { errors: {}, formError: error instanceof Error ? error.message : String(error) };
  }
  const errors: FieldErrors = {};
  const rest: string[] = [];
  for (const detail of error.details) {
    const place = placeOf(detail.field);
    if (place && !errors[place.key]) errors[place.key] = sentence(detail.message, place.where);
    else if (!place) rest.push(`${detail.field} ${detail.message}`);
  }
  return { errors, formError: rest.length > 0 ? rest.join('; ') : null };
}

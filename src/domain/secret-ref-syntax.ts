import { ValidationError } from './errors.js';
import { SECRET_NAME_PATTERN } from './secret-fields.js';

const OPENING = '${secret:';
const REFERENCE = new RegExp(`^\\$\\{secret:${SECRET_NAME_PATTERN.slice(1, -1)}\\}`);

/**
 * Refuses a value in which `${secret:` does not start a well-formed `${secret:NAME}`: such a
 * reference would never be resolved (secret-refs.ts matches whole references only), and the run
 * would get the text as it is instead of the secret its author meant.
 */
export function checkSecretRefSyntax(text: string, field: string): void {
  for (let at = text.indexOf(OPENING); at !== -1; at = text.indexOf(OPENING, at + OPENING.length)) {
    if (!REFERENCE.test(text.slice(at))) {
      throw ValidationError.field(field, 'has a malformed secret reference: write ${secret:NAME}, NAME of capital letters, digits and _ (at most 64)');
    }
  }
}

/** Refuses `${secret:` where no reference is resolved (a stdio server's command, a host path). */
export function checkNoSecretRef(text: string, field: string): void {
  if (text.includes(OPENING)) throw ValidationError.field(field, 'cannot hold a secret reference (they are resolved in env, headers, args and url only)');
}

/**
 * The URL's protocol, with each secret reference standing for text the parser must accept
 * wherever it appears (a token in the user info, the query...); null when it does not parse.
 */
export function urlProtocol(url: string): string | null {
  try {
    return new URL(url.replace(/\$\{secret:[A-Z0-9_]+\}/g, 'secret')).protocol;
  } catch {
    return null;
  }
}

/**
 * Secrets inside text, both ways: `${secret:NAME}` references resolved to values where an
 * agent's settings carry them (MCP servers' env, headers, args and url; a git workspace's URL),
 * and values replaced by `[secret:NAME]` in whatever a run leaves behind (its output, its error
 * messages, what is logged of it).
 */

/** The agent's secrets for one run: name -> value. */
export type SecretValues = Readonly<Record<string, string>>;

const REF = /\$\{secret:([A-Z_][A-Z0-9_]{0,63})\}/g;

/** A `${secret:NAME}` names a secret the agent does not have. */
export class UnknownSecretError extends Error {
  constructor(readonly secretName: string) {
    super(`\${secret:${secretName}} names a secret this agent does not have (set it with PUT /api/agents/:id/secrets/${secretName})`);
    this.name = 'UnknownSecretError';
  }
}

/** The secret names `text` refers to as `${secret:NAME}`, each once, in order of appearance. */
export function secretRefsIn(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(REF), (match) => match[1] ?? ''))];
}

/** `text` with every `${secret:NAME}` replaced by the secret's value; an UnknownSecretError for a name not in `secrets`. */
export function resolveSecretRefs(text: string, secrets: SecretValues): string {
  return text.replace(REF, (_ref, name: string) => {
    if (!Object.hasOwn(secrets, name)) throw new UnknownSecretError(name);
    return secrets[name] ?? '';
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `text` with every secret value replaced by `[secret:NAME]`: the value as it is, and as it
 * looks URL-encoded (a token in a git URL) or inside a JSON string (a tool result). One pass,
 * longest value first, so a value that contains another is replaced whole, and no replacement is
 * replaced again. Empty values are skipped (they would match everywhere).
 */
export function redactSecrets(text: string, secrets: SecretValues): string {
  return secretRedactor(secrets)(text);
}

/** redactSecrets for many texts with the same secrets: the pattern is built once. */
export function secretRedactor(secrets: SecretValues): (text: string) => string {
  const nameByForm = new Map<string, string>();
  for (const name of Object.keys(secrets).sort()) {
    const value = secrets[name] ?? '';
    for (const form of [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]) {
      if (form !== '' && !nameByForm.has(form)) nameByForm.set(form, name);
    }
  }
  if (nameByForm.size === 0) return (text) => text;
  const forms = [...nameByForm.keys()].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(forms.map(escapeRegExp).join('|'), 'g');
  return (text) => (text === '' ? text : text.replace(pattern, (found) => `[secret:${nameByForm.get(found) ?? '?'}]`));
}

/** A JSON value with `redact` applied to every string in it, keys included (a new value; `value` is left as it is). */
export function redactJsonValue(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item: unknown) => redactJsonValue(item, redact));
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) copy[redact(key)] = redactJsonValue(item, redact);
  return copy;
}

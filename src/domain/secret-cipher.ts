import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Agents' secrets at rest: AES-256-GCM (node:crypto) under the service's 32-byte secret key.
 * Stored as `v1:<key id>:<base64 of IV | tag | ciphertext>`:
 * - a fresh random 12-byte IV per value, so equal values never look alike;
 * - the agent's id and the secret's name are authenticated with the value (GCM's additional
 *   data), so a stored value copied to another agent or name does not decrypt;
 * - the key id (the start of the key's SHA-256) tells "stored under another key" apart from
 *   "altered", so an operator whose instances hold different keys is told so.
 */

/** The key's length: AES-256. */
export const SECRET_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** A 32-byte key from its text: hex (64 characters) or base64 / base64url (43 or 44); null for anything else. */
export function parseSecretKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (!/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return null;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === SECRET_KEY_BYTES ? key : null;
}

/** A new random key. */
export function generateSecretKey(): Buffer {
  return randomBytes(SECRET_KEY_BYTES);
}

/** Why a stored secret could not be read; names the secret, never its value. */
export class SecretUnreadableError extends Error {
  constructor(
    readonly secretName: string,
    reason: string,
  ) {
    super(`secret ${secretName} cannot be decrypted: ${reason}`);
    this.name = 'SecretUnreadableError';
  }
}

function additionalData(agentId: string, name: string): Buffer {
  return Buffer.from(`cron-agents secret\0${agentId}\0${name}`, 'utf8');
}

/** Encrypts and decrypts the secrets of agents under one key. */
export class SecretCipher {
  /** Identifies the key (not secret: 32 bits of its hash), in stored values and in messages. */
  readonly keyId: string;
  // A private field: the key never shows in a log line or a JSON dump of this object.
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== SECRET_KEY_BYTES) throw new Error(`a secret key has ${SECRET_KEY_BYTES} bytes, got ${key.length}`);
    this.#key = Buffer.from(key);
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 8);
  }

  encrypt(agentId: string, name: string, value: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(agentId, name));
    const ciphertext = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    return `${VERSION}:${this.keyId}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64')}`;
  }

  /** The value stored for this agent and name; a SecretUnreadableError when it cannot be. */
  decrypt(agentId: string, name: string, stored: string): string {
    const [version, keyId, payload, ...rest] = stored.split(':');
    if (version !== VERSION || keyId === undefined || payload === undefined || rest.length > 0) {
      throw new SecretUnreadableError(name, `its stored form is not one this version knows (${version ?? 'empty'})`);
    }
    if (keyId !== this.keyId) {
      throw new SecretUnreadableError(
        name,
        `it was stored under secret key ${keyId}, and this instance has key ${this.keyId} ` +
          '(give every instance the same CRON_AGENTS_SECRET_KEY, or set the secret again)',
      );
    }
    const bytes = Buffer.from(payload, 'base64');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretUnreadableError(name, 'its stored value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(additionalData(agentId, name));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnreadableError(name, 'its stored value was altered, or belongs to another agent or name');
    }
  }
}

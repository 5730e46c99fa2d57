import type { Clock } from '../clock.js';
import { NotFoundError, ValidationError } from '../domain/errors.js';
import type { SecretCipher } from '../domain/secret-cipher.js';
import { checkSecretName, checkSecretValue, SECRETS_PER_AGENT_MAX } from '../domain/secret-fields.js';
import type { RunSecrets } from '../engine/run-secrets.js';
import type { SecretInfo, Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { auditEntry } from './audit.js';

/** What the secrets service is built from (the cipher holds the key: secret-key.ts, app.ts). */
export interface SecretsDeps {
  store: Store;
  clock: Clock;
  cipher: SecretCipher;
}

/**
 * Agents' secrets, write-only: set (or replace), list their names, delete. A value is encrypted
 * before it reaches the store and decrypted only for a run (`forAgent`, the executor's
 * RunSecrets); no other method returns one, and none is ever logged.
 */
export class Secrets implements RunSecrets {
  constructor(private readonly deps: SecretsDeps) {}

  /** The agent's secrets by name, without values; a NotFoundError for an unknown agent. */
  async list(agentId: string): Promise<SecretInfo[]> {
    if (!(await this.deps.store.getAgent(agentId))) throw new NotFoundError(`agent ${agentId} not found`);
    return this.deps.store.listSecrets(agentId);
  }

  async set(agentId: string, name: string, value: string, by: Actor): Promise<SecretInfo> {
    checkSecretName(name);
    checkSecretValue(value);
    const existing = await this.list(agentId);
    const replaced = existing.some((secret) => secret.name === name);
    if (!replaced && existing.length >= SECRETS_PER_AGENT_MAX) {
      throw ValidationError.field('name', `the agent has ${SECRETS_PER_AGENT_MAX} secrets, the most it may have: delete one first`);
    }
    const encryptedValue = this.deps.cipher.encrypt(agentId, name, value);
    const now = this.deps.clock.now();
    // By name only: the value never reaches the audit trail.
    const entry = auditEntry(by, now, 'secret.set', { agentId, targetType: 'secret', targetName: name }, { replaced });
    const info = await this.deps.store.putSecret(agentId, { name, encryptedValue }, now, entry);
    if (!info) throw new NotFoundError(`agent ${agentId} not found`);
    by.log.info({ agentId, secret: name, replaced }, 'secret set');
    return info;
  }

  async delete(agentId: string, name: string, by: Actor): Promise<{ name: string }> {
    if (!(await this.deps.store.getAgent(agentId))) throw new NotFoundError(`agent ${agentId} not found`);
    const entry = auditEntry(by, this.deps.clock.now(), 'secret.delete', { agentId, targetType: 'secret', targetName: name });
    if (!(await this.deps.store.deleteSecret(agentId, name, entry))) throw new NotFoundError(`agent ${agentId} has no secret ${name}`);
    by.log.info({ agentId, secret: name }, 'secret deleted');
    return { name };
  }

  /** The agent's secrets, decrypted, for one run; a SecretUnreadableError naming one that cannot be read. */
  async forAgent(agentId: string): Promise<Record<string, string>> {
    const stored = await this.deps.store.readSecrets(agentId);
    return Object.fromEntries(stored.map((secret) => [secret.name, this.deps.cipher.decrypt(agentId, secret.name, secret.encryptedValue)]));
  }
}

import type { User } from '../domain/types.js';
import { silentLogger, type Logger } from '../logger.js';

/**
 * Who asks a service for something, and where the lines logged on their behalf go (a request's
 * logger, so they carry its id). `user` is null for the operator at the command line. A request is
 * an Actor as it is: `ip` is Fastify's client address, `credential` what src/api/auth.ts
 * authenticated it by; both go into the audit trail (services/audit.ts).
 */
export interface Actor {
  user: User | null;
  log: Logger;
  /** The client's address; absent at the command line. */
  ip?: string;
  /** `token:<token id>` or `session:<prefix of its id hash>` (domain/audit.ts); absent: `cli` when `user` is null. */
  credential?: string | null;
}

/** The operator at the command line: the CLI prints what it did, so nothing more is logged. */
export const OPERATOR: Actor = { user: null, log: silentLogger, credential: 'cli' };

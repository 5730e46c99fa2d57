import type { User } from '../domain/types.js';
import { silentLogger, type Logger } from '../logger.js';

/**
 * Who asks a service for something, and where the lines logged on their behalf go (a request's
 * logger, so they carry its id). `user` is null for the operator at the command line.
 */
export interface Actor {
  user: User | null;
  log: Logger;
}

/** The operator at the command line: the CLI prints what it did, so nothing more is logged. */
export const OPERATOR: Actor = { user: null, log: silentLogger };

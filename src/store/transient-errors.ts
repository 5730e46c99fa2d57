/**
 * Whether a database error is one that passes: SQLite busy or locked by another connection (past
 * `busy_timeout`), or PostgreSQL unreachable, restarting, out of connections, or aborting a
 * transaction for a deadlock or serialization conflict. Asking again shortly can succeed; it says
 * nothing wrong about the request.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error ? error.code : undefined;
  const message = error instanceof Error ? error.message : '';
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
    if (NETWORK_CODES.has(code)) return true;
    // SQLSTATE: connection exceptions (08), insufficient resources (53), operator intervention
    // such as a shutdown or a server still starting (57P01-57P03), deadlock and serialization failure.
    if (/^(08|53)[0-9A-Z]{3}$/.test(code) || ['57P01', '57P02', '57P03', '40001', '40P01'].includes(code)) return true;
  }
  return PG_CONNECTION_MESSAGES.some((text) => message.includes(text));
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** What `pg` throws, without a code, when a connection goes or cannot be had. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
];

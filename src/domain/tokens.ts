import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Tokens look like `cat_<43 base64url chars>`: 32 random bytes, and a prefix that says what they are. */
export const TOKEN_PREFIX = 'cat_';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Tokens carry 256 bits of entropy, so one SHA-256 is the right hash (no password stretching needed). */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The part of a token shown in listings. */
export function displayPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + 6);
}

/** Constant-time comparison of two hex digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The Standard Webhooks signature scheme (https://www.standardwebhooks.com), which the `standard`
 * format follows exactly: a secret is `whsec_` + base64 of random bytes; a message is signed with
 * HMAC-SHA256 under the secret's decoded bytes, over `<webhook-id>.<webhook-timestamp>.<body>`,
 * and the `webhook-signature` header carries `v1,` + the base64 digest (several, space-separated,
 * while a secret is being rotated).
 */

export const SECRET_PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** A new signing secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

function secretBytes(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
}

/** The `webhook-signature` value for one message. `timestamp` is in Unix seconds. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const digest = createHmac('sha256', secretBytes(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
  return `v1,${digest}`;
}

/** How far a message's timestamp may be from the receiver's clock (the spec's suggestion). */
export const TIMESTAMP_TOLERANCE_S = 5 * 60;

/**
 * A receiver's check, as the spec describes it: one of the `v1` signatures matches (compared in
 * constant time) and the timestamp is within the tolerance of `nowSeconds`.
 */
export function verifyWebhook(secret: string, headers: { id: string; timestamp: string; signature: string }, body: string, nowSeconds: number): boolean {
  const timestamp = Number(headers.timestamp);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > TIMESTAMP_TOLERANCE_S) return false;
  const expected = Buffer.from(signWebhook(secret, headers.id, timestamp, body));
  return headers.signature.split(' ').some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

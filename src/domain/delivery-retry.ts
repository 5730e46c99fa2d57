/**
 * When a failed delivery is tried again: 6 attempts in all, the waits between them growing as
 * base x 1, 6, 24, 120, 720 (with the default base of 5 s: 5 s, 30 s, 2 min, 10 min, 1 h), each
 * spread by up to 10% either way so that receivers coming back up are not hit by every sender
 * at the same instant.
 */
export const DELIVERY_ATTEMPTS = 6;
export const RETRY_FACTORS: readonly number[] = [1, 6, 24, 120, 720];
const JITTER = 0.1;

/** The wait after the `attempts`-th attempt failed, or null when that was the last one. */
export function retryDelayMs(attempts: number, baseMs: number, random: () => number = Math.random): number | null {
  if (attempts >= DELIVERY_ATTEMPTS) return null;
  const factor = RETRY_FACTORS[attempts - 1] ?? RETRY_FACTORS[RETRY_FACTORS.length - 1] ?? 1;
  return Math.round(baseMs * factor * (1 - JITTER + 2 * JITTER * random()));
}

/** A webhook whose deliveries fail this many times in a row (each after all its attempts) is disabled. */
export const CONSECUTIVE_FAILURES_LIMIT = 20;

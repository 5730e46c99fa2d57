import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from './schema.js';

/**
 * What differs between the SQL dialects the store speaks: sqlite/ and postgres/ each build one
 * and hand it to the shared SQL of sql/.
 */
export interface DialectTraits {
  name: 'sqlite' | 'postgres';
  /** Whether `FOR UPDATE SKIP LOCKED` exists (PostgreSQL); SQLite serialises writers instead. */
  skipLocked: boolean;
  /** Runs the migrations under whatever lock the dialect needs when instances start together. */
  withMigrationLock?: <T>(db: Kysely<Database>, body: () => Promise<T>) => Promise<T>;
  /** Closes what the dialect opened besides the Kysely instance. */
  onClose?: () => Promise<void>;
  /** Cross-instance cancel signals; absent where one process owns the database. */
  cancelChannel?: CancelChannel;
  /** A synchronous path for the hottest point reads, where the dialect has one. */
  readNow?: ReadNow;
}

/** Carries "stop these runs" from the instance that was asked to the one executing them. */
export interface CancelChannel {
  publish(runIds: string[]): Promise<void>;
  subscribe(listener: (runIds: string[]) => void): Promise<() => Promise<void>>;
}

/**
 * Runs a read at once, synchronously, when the dialect can do so without changing what it
 * sees (SQLite outside any transaction); null means "go through Kysely".
 */
export type ReadNow = (executor: unknown, sql: string, parameters: readonly unknown[]) => unknown[] | null;

// ---------------------------------------------------------------- the clock in SQL
// Instants are epoch milliseconds in BIGINT columns on both dialects, so time arithmetic in SQL
// is integer arithmetic: these helpers write it the one way both databases read alike.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** A parameter typed for a BIGINT column (PostgreSQL types untyped SELECT parameters as text). */
export function bigint<T extends number | null>(value: T): RawBuilder<T> {
  return sql<T>`cast(${value} as bigint)`;
}

/** A run's duration when it ends at `now`: from its start, or from its queueing if it never started. */
export function durationUntil(now: number): RawBuilder<number> {
  return sql<number>`${now} - coalesce(${sql.ref('started_at')}, ${sql.ref('queued_at')})`;
}

/** PostgreSQL's driver hands BIGINT back as strings unless told otherwise; accept both. */
export function num(value: number | string | bigint): number {
  return typeof value === 'number' ? value : Number(value);
}

export function numOrNull(value: number | string | bigint | null | undefined): number | null {
  return value === null || value === undefined ? null : num(value);
}

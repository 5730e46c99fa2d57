import { parseSchedule } from '../domain/cron.js';
import { ConflictError, ValidationError } from '../domain/errors.js';
import { formatDuration, shortestInterval } from '../domain/schedule-interval.js';

/**
 * The limits a shared deployment puts on members (admins and the CLI are exempt): how many agents
 * one may create (CRON_AGENTS_MAX_AGENTS_PER_USER) and how often a schedule they set may fire
 * (CRON_AGENTS_MIN_INTERVAL).
 */
export interface AgentLimits {
  /** Agents a member may have created. */
  maxAgentsPerUser: number;
  /** The shortest time between two fires of a schedule a member may set; 0: any. */
  minIntervalMs: number;
}

/**
 * Refuses (a ValidationError naming `schedule`) a schedule two of whose next fires are closer
 * than `minIntervalMs`: judged by when it fires, not by how it is written (`0,1 * * * *` fires a
 * minute apart although no field says "every minute").
 */
export function checkMinInterval(schedule: string, timezone: string, now: number, minIntervalMs: number): void {
  if (minIntervalMs <= 0) return;
  const shortest = shortestInterval(parseSchedule(schedule, timezone), now, minIntervalMs);
  if (shortest !== null && shortest < minIntervalMs) {
    throw ValidationError.field(
      'schedule',
      `fires ${formatDuration(shortest)} apart; the shortest interval between two fires a member may schedule is ${formatDuration(minIntervalMs)} (CRON_AGENTS_MIN_INTERVAL)`,
    );
  }
}

/** The answer when a member already has as many agents as they may. */
export function agentCapError(agents: number, max: number): ConflictError {
  return new ConflictError(`you have ${agents} agents, the most a member may have (CRON_AGENTS_MAX_AGENTS_PER_USER=${max}): delete one first, or ask an admin`);
}

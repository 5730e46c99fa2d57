import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import { DEFAULTS } from '../defaults.js';
import { iso } from '../domain/run-json.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { BackgroundLoop } from './background-loop.js';
import type { EngineMetrics } from './engine-metrics.js';

/** Rows per delete statement: short statements, so a prune never holds a lock for long. */
export const PRUNE_BATCH_ROWS = 500;

/** The lease that makes the hourly prune once per deployment rather than once per instance. */
const LEASE_NAME = 'retention';

export interface RetentionOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** CRON_AGENTS_RETENTION: runs that ended longer ago go, with their events; 0 keeps every run. */
  retentionMs: number;
  /** CRON_AGENTS_AUDIT_RETENTION: audit entries made longer ago go; 0 (the default here) keeps them all. */
  auditRetentionMs?: number;
  /** Names this instance as the lease's holder. */
  instanceId: string;
  /** How often to offer to prune; default DEFAULTS.retentionIntervalMs (an hour). */
  intervalMs?: number;
  /** Rows per statement; default PRUNE_BATCH_ROWS. */
  batchRows?: number;
  /** Failed prunes as database errors (/metrics); default: none. */
  metrics?: Pick<EngineMetrics, 'loopFailed'>;
}

/** What one prune deleted, and its cutoff. */
export interface PruneResult {
  runs: number;
  events: number;
  /** Runs that ended before this instant were deleted. */
  endedBefore: number;
  /** Audit entries deleted (made longer ago than the audit retention). */
  auditEntries: number;
}

/**
 * Deletes runs that ended longer ago than the retention, and their events, in small batches. On
 * its loop it offers to prune once per interval; whichever instance of the deployment claims the
 * lease for that interval prunes, the others pass. The hourly totals keep the deleted runs, so the
 * global stats stay right; the per-agent stats read the runs, which is why the retention is longer
 * than the longest stats period (config.ts refuses less).
 */
export class Retention {
  private readonly loop: BackgroundLoop;
  private readonly intervalMs: number;
  private stopping = false;

  constructor(private readonly options: RetentionOptions) {
    this.intervalMs = options.intervalMs ?? DEFAULTS.retentionIntervalMs;
    this.loop = new BackgroundLoop({
      clock: options.clock,
      logger: options.logger,
      name: 'retention prune',
      round: () => this.round(),
      intervalMs: this.intervalMs,
      // Instances restarted more often than hourly (deploys) would otherwise never prune.
      roundAtStart: true,
      metrics: options.metrics,
    });
  }

  get enabled(): boolean {
    return this.options.retentionMs > 0 || (this.options.auditRetentionMs ?? 0) > 0;
  }

  start(): void {
    if (!this.enabled) return;
    this.stopping = false;
    this.loop.start();
  }

  /** Returns once a prune in flight has stopped at its next batch. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop.stop();
  }

  /** Deletes what is older than the retention now, whatever the lease says (the CLI's `prune`). */
  async prune(): Promise<PruneResult> {
    const { store, clock, retentionMs } = this.options;
    const endedBefore = clock.now() - retentionMs;
    const total: PruneResult = { runs: 0, events: 0, endedBefore, auditEntries: 0 };
    if (!this.enabled) return total;
    const rows = this.options.batchRows ?? PRUNE_BATCH_ROWS;
    const auditRetentionMs = this.options.auditRetentionMs ?? 0;
    if (auditRetentionMs > 0) total.auditEntries = await this.pruneAudit(clock.now() - auditRetentionMs, rows);
    if (retentionMs === 0) return total;
    while (!this.stopping) {
      const batch = await store.pruneRunsBatch(endedBefore, rows);
      if (batch.runs === 0 && batch.events === 0) break;
      total.runs += batch.runs;
      total.events += batch.events;
      // Requests and runs get the event loop (and, on SQLite, the one connection) between batches.
      await nextTurn();
    }
    // Webhook events as old go too, with their deliveries, once none is pending (not counted in the result).
    while (!this.stopping && (await store.pruneOutboxBatch(endedBefore, rows)) > 0) await nextTurn();
    return total;
  }

  /** Audit entries made before `before`, a batch per statement. */
  private async pruneAudit(before: number, rows: number): Promise<number> {
    let deleted = 0;
    while (!this.stopping) {
      const batch = await this.options.store.pruneAuditBatch(before, rows);
      deleted += batch;
      if (batch < rows) break;
      await nextTurn();
    }
    return deleted;
  }

  private async round(): Promise<void> {
    const { store, clock, logger, instanceId } = this.options;
    const now = clock.now();
    if (!(await store.claimLease(LEASE_NAME, instanceId, now, now + this.intervalMs))) return;
    const result = await this.prune();
    if (result.runs > 0 || result.events > 0) {
      logger.info({ runs: result.runs, events: result.events, endedBefore: iso(result.endedBefore) }, 'pruned runs past the retention');
    }
    if (result.auditEntries > 0) logger.info({ entries: result.auditEntries }, 'pruned audit entries past CRON_AGENTS_AUDIT_RETENTION');
  }
}

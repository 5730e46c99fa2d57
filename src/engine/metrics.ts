import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import { RUN_STATUSES, RUN_TRIGGERS, type FinalRunStatus, type RunOutcome, type RunTrigger } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { DeliveryAttempt, DeploymentCounts, Store, TickResult } from '../store/store.js';
import type { EngineMetrics } from './engine-metrics.js';

export interface MetricsOptions {
  clock: Clock;
  logger: Logger;
  /** Where the deployment-wide gauges come from. */
  store: Pick<Store, 'deploymentCounts'>;
  /** The deployment-wide gauges are read from the database at most this often. Default: DEPLOYMENT_READ_INTERVAL_MS. */
  deploymentReadIntervalMs?: number;
}

/** Prometheus scrapes every 15-60 s; several instances scraped each time must not add up to a load on the database. */
export const DEPLOYMENT_READ_INTERVAL_MS = 15_000;

/**
 * Run durations in seconds: from a seconds-cron agent's one-turn run (about a second) to a
 * long daily job (four hours).
 */
export const RUN_DURATION_BUCKETS_S = [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400];

/**
 * Fire lateness in seconds (a scheduled run's start minus its slot): tens of milliseconds on an
 * idle instance, seconds behind a busy executor, up to the catch-up window after downtime.
 */
export const FIRE_LATENESS_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400];

/** The kinds of tokens counted: uncached input, output, and the two kinds of cache input, which add up to all tokens. */
const TOKEN_KINDS = ['input', 'output', 'cache_read', 'cache_creation'] as const;

/** The statuses an executed run can end with (a `skipped` run never reaches an executor). */
const ENDED_STATUSES = RUN_STATUSES.filter((status): status is FinalRunStatus => status !== 'queued' && status !== 'running' && status !== 'skipped');

const DELIVERY_RESULTS: readonly (DeliveryAttempt['outcome'] | 'error')[] = ['delivered', 'retry', 'failed', 'abandoned', 'error'];

let processMetrics: Registry | null = null;

/**
 * The default process metrics, collected once per process and shared by every Metrics: they
 * describe the process, however many Apps it holds (tests hold many), and prom-client's
 * observers behind them (GC, event-loop delay) cannot be stopped, so one set is all there is.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * The service's Prometheus metrics: a prom-client Registry of its own (not the global one: every
 * App in a process, as in tests, counts apart), merged with the process's. Per instance, the
 * engine's hooks (EngineMetrics) move the counters; deployment-wide gauges are read from the
 * database on a scrape, at most every `deploymentReadIntervalMs`. Names start with
 * `cron_agents_`; the default process metrics keep their standard names (`process_*`,
 * `nodejs_*`) so the usual Node.js dashboards work unchanged.
 */
export class Metrics implements EngineMetrics {
  /** Every metric /metrics shows: this instance's and the process's. */
  readonly registry: Registry;
  private readonly runsStarted: Counter<'trigger'>;
  private readonly runsEnded: Counter<'status' | 'trigger'>;
  private readonly costUsd: Counter;
  private readonly tokens: Counter<'kind'>;
  private readonly runDuration: Histogram<'status'>;
  private readonly fireLateness: Histogram;
  private readonly runsRunning: Gauge;
  private readonly ticksClaimed: Counter;
  private readonly ticksSkipped: Counter<'reason'>;
  private readonly deliveries: Counter<'result'>;
  private readonly leaseExpiries: Counter;
  private readonly databaseErrors: Counter<'loop'>;
  private deployment: { readAt: number; counts: DeploymentCounts | null } | null = null;
  private deploymentRead: Promise<DeploymentCounts | null> | null = null;

  constructor(private readonly options: MetricsOptions) {
    const own = new Registry();
    const registers = [own];
    this.runsStarted = new Counter({
      name: 'cron_agents_runs_started_total',
      help: 'Runs this instance started, by trigger',
      labelNames: ['trigger'],
      registers,
    });
    this.runsEnded = new Counter({
      name: 'cron_agents_runs_ended_total',
      help: 'Runs this instance executed that ended, by status and trigger',
      labelNames: ['status', 'trigger'],
      registers,
    });
    this.costUsd = new Counter({
      name: 'cron_agents_cost_usd_total',
      help: 'Cost in USD of the runs this instance executed, as the Agent SDK reported it',
      registers,
    });
    this.tokens = new Counter({
      name: 'cron_agents_tokens_total',
      help: 'Tokens of the runs this instance executed, by kind (input: uncached input; the kinds add up to all tokens)',
      labelNames: ['kind'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'cron_agents_run_duration_seconds',
      help: 'How long the runs this instance executed took, from start to end, by status',
      labelNames: ['status'],
      buckets: RUN_DURATION_BUCKETS_S,
      registers,
    });
    this.fireLateness = new Histogram({
      name: 'cron_agents_fire_lateness_seconds',
      help: 'How late scheduled runs started: the start minus the slot that fired',
      buckets: FIRE_LATENESS_BUCKETS_S,
      registers,
    });
    this.runsRunning = new Gauge({ name: 'cron_agents_runs_running', help: 'Runs this instance is executing now', registers });
    this.ticksClaimed = new Counter({ name: 'cron_agents_ticks_claimed_total', help: 'Ticks this instance claimed that queued a run', registers });
    this.ticksSkipped = new Counter({
      name: 'cron_agents_ticks_skipped_total',
      help: 'Ticks this instance claimed that queued no run, by reason (overlap: the previous run was still active; stale: missed beyond the catch-up window)',
      labelNames: ['reason'],
      registers,
    });
    this.deliveries = new Counter({
      name: 'cron_agents_webhook_deliveries_total',
      help: 'Webhook delivery attempts this instance made, by result (error: it could not be sent or recorded)',
      labelNames: ['result'],
      registers,
    });
    this.leaseExpiries = new Counter({
      name: 'cron_agents_lease_expiries_total',
      help: 'Runs this instance ended because their executor stopped renewing its lease',
      registers,
    });
    this.databaseErrors = new Counter({
      name: 'cron_agents_database_errors_total',
      help: 'Failed rounds of background work (scheduler, executor, reaper, webhooks, retention, metrics reads), nearly always the database refusing or unreachable',
      labelNames: ['loop'],
      registers,
    });
    this.deploymentGauges(registers);
    this.zeroKnownSeries();
    this.registry = Registry.merge([processRegistry(), own]);
  }

  /** The Content-Type of `render()`'s text (the Prometheus text format, version 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format. */
  async render(): Promise<string> {
    // Read first, so a failed read shows in this scrape's error counter (it is written before the gauges).
    await this.deploymentCounts();
    return this.registry.metrics();
  }

  runStarted({ trigger, scheduledFor, startedAt }: { trigger: RunTrigger; scheduledFor: number | null; startedAt: number }): void {
    this.runsStarted.inc({ trigger });
    this.runsRunning.inc();
    // Clocks of two instances may disagree by a little: a start "before" its slot is on time.
    if (trigger === 'schedule' && scheduledFor !== null) this.fireLateness.observe(Math.max(0, startedAt - scheduledFor) / 1000);
  }

  runEnded({ trigger, outcome, durationMs }: { trigger: RunTrigger; outcome: RunOutcome; durationMs: number }): void {
    this.runsRunning.dec();
    this.runsEnded.inc({ status: outcome.status, trigger });
    this.runDuration.observe({ status: outcome.status }, Math.max(0, durationMs) / 1000);
    if (outcome.costUsd > 0) this.costUsd.inc(outcome.costUsd);
    // The SDK's input count includes both kinds of cache input; counted apart, the kinds add up.
    const uncached = outcome.inputTokens - outcome.cacheReadInputTokens - outcome.cacheCreationInputTokens;
    this.tokens.inc({ kind: 'input' }, Math.max(0, uncached));
    this.tokens.inc({ kind: 'output' }, Math.max(0, outcome.outputTokens));
    this.tokens.inc({ kind: 'cache_read' }, Math.max(0, outcome.cacheReadInputTokens));
    this.tokens.inc({ kind: 'cache_creation' }, Math.max(0, outcome.cacheCreationInputTokens));
  }

  tickClaimed(result: TickResult): void {
    // A lost tick was claimed by another instance (or an edit), which counts it.
    if (result === 'lost') return;
    if (result === 'fired') this.ticksClaimed.inc();
    else this.ticksSkipped.inc({ reason: result.replace(/^skipped_/, '') });
  }

  deliveryAttempted(result: DeliveryAttempt['outcome'] | 'error'): void {
    this.deliveries.inc({ result });
  }

  leasesExpired(count: number): void {
    if (count > 0) this.leaseExpiries.inc(count);
  }

  loopFailed(loop: string): void {
    this.databaseErrors.inc({ loop });
  }

  /** The gauges of the whole deployment, each set from one cached read when Prometheus scrapes. */
  private deploymentGauges(registers: Registry[]): void {
    const counts = () => this.deploymentCounts();
    new Gauge({
      name: 'cron_agents_agents_enabled',
      help: 'Enabled agents in the deployment (read from the database at most every 15 s)',
      registers,
      async collect() {
        const read = await counts();
        if (read) this.set(read.agentsEnabled);
      },
    });
    new Gauge({
      name: 'cron_agents_runs_queued',
      help: 'Runs queued in the deployment, waiting for an executor (read from the database at most every 15 s)',
      registers,
      async collect() {
        const read = await counts();
        if (read) this.set(read.runsQueued);
      },
    });
    this.spendGauges(registers, counts);
  }

  /**
   * The deployment's spend per UTC window, and the share of each cap it has used (only for a
   * window that has a cap): what an alert on a cap nearly spent watches.
   */
  private spendGauges(registers: Registry[], counts: () => Promise<DeploymentCounts | null>): void {
    const windows = (read: DeploymentCounts) => [
      { window: 'day', spent: read.spend.todayUsd, cap: read.spend.dailyCapUsd },
      { window: 'month', spent: read.spend.monthUsd, cap: read.spend.monthlyCapUsd },
    ];
    new Gauge({
      name: 'cron_agents_budget_spent_usd',
      help: 'Spend in USD in the current UTC day or month (ended runs, and what runs in progress accrued and reserved)',
      labelNames: ['scope', 'window'],
      registers,
      async collect() {
        const read = await counts();
        if (read) for (const { window, spent } of windows(read)) this.set({ scope: 'deployment', window }, spent);
      },
    });
    new Gauge({
      name: 'cron_agents_budget_spent_ratio',
      help: 'Share of a spend cap used in the current UTC day or month (1 = used up); only windows that have a cap',
      labelNames: ['scope', 'window'],
      registers,
      async collect() {
        const read = await counts();
        if (!read) return;
        // A cap removed since the last scrape leaves no stale series behind.
        this.reset();
        for (const { window, spent, cap } of windows(read)) {
          if (cap !== null) this.set({ scope: 'deployment', window }, cap > 0 ? spent / cap : 1);
        }
      },
    });
  }

  /**
   * The deployment's counts, read at most every interval (one read shared by concurrent
   * scrapes). A failed read is counted as a database error and leaves the last values; it is
   * tried again after the interval, not on every scrape.
   */
  private deploymentCounts(): Promise<DeploymentCounts | null> {
    const { clock, store, logger } = this.options;
    const interval = this.options.deploymentReadIntervalMs ?? DEPLOYMENT_READ_INTERVAL_MS;
    const cached = this.deployment;
    if (cached && clock.now() - cached.readAt < interval) return Promise.resolve(cached.counts);
    this.deploymentRead ??= (async () => {
      const readAt = clock.now();
      try {
        const counts = await store.deploymentCounts(readAt);
        this.deployment = { readAt, counts };
      } catch (error) {
        this.loopFailed('metrics');
        logger.warn({ err: error }, 'metrics: could not read the deployment gauges from the database');
        this.deployment = { readAt, counts: cached?.counts ?? null };
      }
      return this.deployment.counts;
    })().finally(() => {
      this.deploymentRead = null;
    });
    return this.deploymentRead;
  }

  /**
   * Series of known labels exist from the start at 0, so `increase()` and `rate()` see the first
   * event of each (a series born at 1 hides it) and alert rules find their series.
   */
  private zeroKnownSeries(): void {
    for (const trigger of RUN_TRIGGERS) {
      this.runsStarted.inc({ trigger }, 0);
      for (const status of ENDED_STATUSES) this.runsEnded.inc({ status, trigger }, 0);
    }
    for (const kind of TOKEN_KINDS) this.tokens.inc({ kind }, 0);
    for (const result of DELIVERY_RESULTS) this.deliveries.inc({ result }, 0);
    for (const reason of ['overlap', 'stale']) this.ticksSkipped.inc({ reason }, 0);
  }
}

import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger as PinoLogger } from 'pino';
import { buildServer } from './api/server.js';
import { bootstrapAdmin } from './services/bootstrap-admin.js';
import { loadSecretKey } from './services/secret-key.js';
import { Secrets } from './services/secrets.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { DEFAULTS } from './defaults.js';
import { ClaudeRunner } from './claude/claude-runner.js';
import { hasModelCredentials } from './claude/environment.js';
import { missingSandboxPackages, sandboxUnavailableMessage } from './claude/sandbox.js';
import { SecretCipher } from './domain/secret-cipher.js';
import type { AgentRunner } from './engine/agent-runner.js';
import { LeaseReaper } from './engine/lease-reaper.js';
import { Metrics } from './engine/metrics.js';
import { OutboxSender, type OutboxSenderOptions } from './engine/outbox-sender.js';
import { Retention } from './engine/retention.js';
import { RunExecutor } from './engine/run-executor.js';
import { ON_TIME_TOLERANCE_MS, Scheduler } from './engine/scheduler.js';
import { openStore } from './store/open-store.js';
import type { Store } from './store/store.js';

/** What a test or benchmark may swap; production passes none of these. */
export interface AppParts {
  clock?: Clock;
  runner?: AgentRunner;
  store?: Store;
  logger?: PinoLogger;
  /** Where the first admin token is printed. */
  print?: (text: string) => void;
}

/**
 * The composition root: builds store -> scheduler -> executor -> api from one config, and
 * starts and stops them in order.
 */
export class App {
  readonly server: FastifyInstance;
  private started: Promise<void> | null = null;
  private stopped: Promise<void> | null = null;

  private constructor(
    readonly config: Readonly<Config>,
    readonly store: Store,
    readonly scheduler: Scheduler,
    readonly executor: RunExecutor | null,
    readonly logger: PinoLogger,
    server: FastifyInstance,
    private readonly clock: Clock,
    private readonly print: (text: string) => void,
    private readonly runner: AgentRunner | null,
    /** Sends webhook deliveries from the outbox. */
    readonly outbox: OutboxSender,
    /** What GET /metrics shows; the engine's parts report to it. */
    readonly metrics: Metrics,
  ) {
    this.server = server;
    this.reaper = new LeaseReaper({ store, clock, logger, intervalMs: config.heartbeatMs, runner, metrics });
    const { retentionMs, auditRetentionMs, instanceId } = config;
    this.retention = new Retention({ store, clock, logger, retentionMs, auditRetentionMs, instanceId, metrics });
  }

  private readonly reaper: LeaseReaper;
  private readonly retention: Retention;

  static async create(config: Readonly<Config>, parts: AppParts = {}): Promise<App> {
    const logger = parts.logger ?? pino({ level: config.logLevel });
    const clock = parts.clock ?? systemClock;
    // The key first: a key file that holds no key stops the start before anything is opened.
    const sharedDatabase = parts.store ? parts.store.dialect === 'postgres' : config.databaseUrl !== null;
    const cipher = new SecretCipher(loadSecretKey({ key: config.secretKey, dataDir: config.dataDir, sharedDatabase }, logger));
    const store = parts.store ?? (await openStore(config));
    const metrics = new Metrics({ clock, logger, store });
    const agentPolicy = {
      memberTools: config.memberTools,
      allowedHostPaths: config.allowedHostPaths,
      dataDir: config.dataDir,
      maxAgentsPerUser: config.maxAgentsPerUser,
      minIntervalMs: config.minIntervalMs,
    };
    let executor: RunExecutor | null = null;
    const runner = config.runnerEnabled ? (parts.runner ?? claudeRunner(config, logger)) : null;
    if (runner) {
      executor = new RunExecutor({
        store,
        runner,
        clock,
        logger,
        instanceId: config.instanceId,
        maxConcurrentRuns: config.maxConcurrentRuns,
        leaseMs: config.leaseMs,
        heartbeatMs: config.heartbeatMs,
        pollMs: config.executorPollMs,
        workspacesDir: path.join(config.dataDir, 'workspaces'),
        secrets: new Secrets({ store, clock, cipher }),
        hostPaths: agentPolicy,
        metrics,
      });
    }
    const runExecutor = executor;
    const scheduler = new Scheduler({
      store,
      clock,
      logger,
      catchupWindowMs: config.catchupWindowMs,
      pollMs: config.schedulerPollMs,
      onRunQueued: () => runExecutor?.wake(),
      onCancelRequested: (runIds) => runExecutor?.cancelLocal(runIds),
      metrics,
    });
    const server = await buildServer(
      {
        store,
        clock,
        scheduler,
        executor,
        cipher,
        agentPolicy,
        runEvents: executor?.runEvents ?? null,
        webhookPolicy: { allowPrivate: config.webhookAllowPrivate },
        health: () => store.ping(),
      },
      { logger, trustProxy: config.trustProxy, sandbox: config.sandbox, metrics: { source: metrics, token: config.metricsToken } },
    );
    const print = parts.print ?? ((text: string) => process.stdout.write(`${text}\n`));
    const outbox = outboxSender(config, { store, clock, logger, cipher, metrics });
    return new App(config, store, scheduler, executor, logger, server, clock, print, runner, outbox, metrics);
  }

  /** The address the server listens on, once started. */
  get url(): string {
    const address = this.server.server.address();
    if (!address || typeof address === 'string') return `http://${this.config.host}:${this.config.port}`;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Migrates, recovers runs a dead process left behind, ensures an admin, then serves and schedules. */
  start(): Promise<void> {
    this.started ??= this.doStart();
    return this.started;
  }

  private async doStart(): Promise<void> {
    const { store, logger, config } = this;
    await store.migrate();
    // The embedded database has one process: whatever it finds active, a dead process left.
    // SQLite belongs to this one process: whatever it finds active, a dead process left. On a
    // shared PostgreSQL database other live instances own their runs: only expired leases end.
    // Queued runs stay queued (they lost nothing) but scheduled ones whose slot is now too old to
    // catch up: those become one skipped row per agent, keyed by this instant like the slots the
    // scheduler finds missed (issue 11).
    const restartedAt = this.clock.now();
    const catchup = { staleSlotsBefore: restartedAt - Math.max(config.catchupWindowMs, ON_TIME_TOLERANCE_MS), catchupWindowMs: config.catchupWindowMs };
    const recovered = await store.endAbandonedRuns(restartedAt, { everything: store.dialect === 'sqlite', ...catchup });
    if (recovered.length > 0) {
      logger.warn({ runIds: recovered }, 'ended runs left active by a process that stopped');
      const stopped = await this.runner?.stopAbandoned?.(recovered);
      if (stopped) logger.warn({ processes: stopped }, 'stopped processes those runs left behind');
    }
    await bootstrapAdmin({ store, clock: this.clock, logger, print: this.print }, config.adminToken);
    if (config.runnerEnabled && !hasModelCredentials(process.env)) {
      logger.warn('no ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN / CLAUDE_CODE_OAUTH_TOKEN) in the environment: runs will end as errors ("Not logged in")');
    }
    if (config.runnerEnabled) this.checkSandbox();
    await this.server.listen({ port: config.port, host: config.host });
    this.scheduler.start(restartedAt);
    this.executor?.start();
    this.reaper.start();
    this.retention.start();
    this.outbox.start();
    logger.info(
      { url: this.url, instanceId: config.instanceId, database: store.dialect, runner: config.runnerEnabled, maxConcurrentRuns: config.maxConcurrentRuns },
      'cron-agents is serving',
    );
  }

  /** Says at start what the runs' sandbox lacks, or that there is none. */
  private checkSandbox(): void {
    const { config, logger } = this;
    if (config.sandbox === 'off') {
      logger.warn('the sandbox is off (CRON_AGENTS_SANDBOX=off): runs can read and write what this service can, and see the model key');
      return;
    }
    const missing = missingSandboxPackages(process.env.PATH);
    if (missing.length > 0) logger.error({ missing }, `${sandboxUnavailableMessage(missing)} Until then every run ends as an error.`);
  }

  /**
   * Stops scheduling, lets running runs finish for the grace period, cancels and records the
   * rest, then closes the server and the database. Safe to call twice.
   */
  stop(): Promise<void> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<void> {
    await this.started?.catch(() => {});
    await this.scheduler.stop();
    await this.reaper.stop();
    await this.retention.stop();
    await this.executor?.stop(this.config.shutdownGraceMs);
    // After the runs: the events of runs ended by the shutdown are written, and go out on the next start (or another instance).
    await this.outbox.stop();
    await this.server.close();
    await this.store.close();
  }
}

/** The production runner: each agent's home and config under `<data dir>/agents`, the run boundary from the config. */
function claudeRunner(config: Readonly<Config>, logger: PinoLogger): ClaudeRunner {
  return new ClaudeRunner({
    logger,
    agentsDir: path.join(config.dataDir, 'agents'),
    sandbox: config.sandbox,
    runEnv: config.runEnv,
    allowPrivateAddresses: config.runAllowPrivate,
    protectedPaths: [config.dataDir],
  });
}

/** The webhook sender, as the config sets it up. */
function outboxSender(config: Readonly<Config>, parts: Pick<OutboxSenderOptions, 'store' | 'clock' | 'logger' | 'cipher' | 'metrics'>): OutboxSender {
  return new OutboxSender({
    ...parts,
    instanceId: config.instanceId,
    publicUrl: config.publicUrl,
    retryBaseMs: config.webhookRetryBaseMs,
    allowPrivate: config.webhookAllowPrivate,
    pollMs: DEFAULTS.outboxPollMs,
    concurrency: DEFAULTS.webhookConcurrency,
    timeoutMs: DEFAULTS.webhookTimeoutMs,
    maxResponseBytes: DEFAULTS.webhookResponseBytes,
    claimMs: DEFAULTS.webhookClaimMs,
  });
}

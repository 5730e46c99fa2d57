import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger as PinoLogger } from 'pino';
import { buildServer } from './api/server.js';
import { bootstrapAdmin } from './services/bootstrap-admin.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { ClaudeRunner } from './claude/claude-runner.js';
import { defaultClaudeEnv, hasModelCredentials } from './claude/environment.js';
import type { AgentRunner } from './engine/agent-runner.js';
import { LeaseReaper } from './engine/lease-reaper.js';
import { RunExecutor } from './engine/run-executor.js';
import { Scheduler } from './engine/scheduler.js';
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
  ) {
    this.server = server;
    this.reaper = new LeaseReaper({ store, clock, logger, intervalMs: config.heartbeatMs, runner });
  }

  private readonly reaper: LeaseReaper;

  static async create(config: Readonly<Config>, parts: AppParts = {}): Promise<App> {
    const logger = parts.logger ?? pino({ level: config.logLevel });
    const clock = parts.clock ?? systemClock;
    const store = parts.store ?? (await openStore(config));
    let executor: RunExecutor | null = null;
    const runner = config.runnerEnabled ? (parts.runner ?? new ClaudeRunner({ logger, env: defaultClaudeEnv(config.dataDir) })) : null;
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
    });
    const server = await buildServer({ store, clock, scheduler, executor, health: () => store.ping() }, { logger, trustProxy: config.trustProxy });
    const print = parts.print ?? ((text: string) => process.stdout.write(`${text}\n`));
    return new App(config, store, scheduler, executor, logger, server, clock, print, runner);
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
    const recovered = await store.endAbandonedRuns(this.clock.now(), { everything: store.dialect === 'sqlite' });
    if (recovered.length > 0) {
      logger.warn({ runIds: recovered }, 'ended runs left active by a process that stopped');
      const stopped = await this.runner?.stopAbandoned?.(recovered);
      if (stopped) logger.warn({ processes: stopped }, 'stopped processes those runs left behind');
    }
    await bootstrapAdmin({ store, clock: this.clock, logger, print: this.print }, config.adminToken);
    if (config.runnerEnabled && !hasModelCredentials(process.env)) {
      logger.warn('no ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN / CLAUDE_CODE_OAUTH_TOKEN) in the environment: runs will end as errors ("Not logged in")');
    }
    await this.server.listen({ port: config.port, host: config.host });
    this.scheduler.start();
    this.executor?.start();
    this.reaper.start();
    logger.info(
      { url: this.url, instanceId: config.instanceId, database: store.dialect, runner: config.runnerEnabled, maxConcurrentRuns: config.maxConcurrentRuns },
      'cron-agents is serving',
    );
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
    await this.executor?.stop(this.config.shutdownGraceMs);
    await this.server.close();
    await this.store.close();
  }
}

import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { isServiceVariable, PER_RUN_VARIABLES } from './claude/environment.js';
import type { SandboxMode } from './claude/sandbox.js';
import { DEFAULTS, LIMITS } from './defaults.js';
import { parseSecretKey } from './domain/secret-cipher.js';
import { PERIOD_MS } from './domain/types.js';

/** The service's configuration, read and validated once at start-up, then frozen. */
export interface Config {
  port: number;
  host: string;
  /** Absolute path holding the SQLite file and the agents' working directories. */
  dataDir: string;
  /** PostgreSQL URL; null means SQLite in `dataDir`. */
  databaseUrl: string | null;
  maxConcurrentRuns: number;
  catchupWindowMs: number;
  shutdownGraceMs: number;
  leaseMs: number;
  heartbeatMs: number;
  schedulerPollMs: number;
  executorPollMs: number;
  /** Whether this instance executes runs (it always serves the API and schedules). */
  runnerEnabled: boolean;
  adminToken: string | null;
  /** CRON_AGENTS_METRICS_TOKEN: the one bearer token GET /metrics accepts; null: any user's API token. */
  metricsToken: string | null;
  /** Names this instance as the executor of the runs it claims. */
  instanceId: string;
  logLevel: string;
  /**
   * Which proxies in front of the service to believe about the client's address and protocol
   * (`X-Forwarded-For`, `X-Forwarded-Proto`): none (`false`), any (`true`), the nearest N hops,
   * or these addresses and CIDR ranges. Fastify's `trustProxy`.
   */
  trustProxy: boolean | number | string[];
  /**
   * The 32-byte key agents' secrets are encrypted with (CRON_AGENTS_SECRET_KEY); null: the key
   * file in the data dir, created on first start (services/secret-key.ts).
   */
  secretKey: Buffer | null;
  /** The permission rules members may put in allowedTools (CRON_AGENTS_MEMBER_TOOLS); null: any. */
  memberTools: string[] | null;
  /** Absolute folders a workspace's hostPath (or local repository) may be under; empty: none. */
  allowedHostPaths: string[];
  /** CRON_AGENTS_SANDBOX: tool commands run in Claude Code's sandbox, or (`off`) unconfined. */
  sandbox: SandboxMode;
  /** CRON_AGENTS_RUN_ENV: names of this service's environment passed on to every run (e.g. HTTPS_PROXY). */
  runEnv: string[];
  /** CRON_AGENTS_RUN_ALLOW_PRIVATE: runs may reach loopback, private and metadata addresses. */
  runAllowPrivate: boolean;
  /** CRON_AGENTS_RETENTION: runs that ended longer ago are deleted with their events; 0 keeps every run. */
  retentionMs: number;
  /** CRON_AGENTS_AUDIT_RETENTION: audit entries older than this are deleted; 0 keeps them all. Never shorter than retentionMs. */
  auditRetentionMs: number;
  /** CRON_AGENTS_MAX_AGENTS_PER_USER: agents a member may have created; admins are exempt. */
  maxAgentsPerUser: number;
  /** CRON_AGENTS_MIN_INTERVAL: the shortest time between two fires of a schedule a member may set; 0: any. */
  minIntervalMs: number;
  /** CRON_AGENTS_PUBLIC_URL: the dashboard's address as people reach it (no trailing slash), for the links notifications carry. */
  publicUrl: string;
  /** CRON_AGENTS_WEBHOOK_RETRY_BASE_MS: the first wait after a failed webhook delivery. */
  webhookRetryBaseMs: number;
  /** CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE: webhooks may be sent to loopback, private and metadata addresses. */
  webhookAllowPrivate: boolean;
}

/** Thrown for invalid configuration; the CLI prints its message as one line and exits. */
export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3600_000 };

/** A duration such as `90s`, `30m`, `1h` or `500ms`; a bare number means seconds. */
function duration(env: Env, name: string, fallbackMs: number, maxMs: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallbackMs;
  const match = /^(\d+)\s*(ms|s|m|h)?$/.exec(raw.trim());
  if (!match) throw new ConfigError(`${name} must be a duration such as 30m, 1h or 90s, got "${raw}"`);
  const value = Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 1000);
  if (value > maxMs) throw new ConfigError(`${name} must be at most ${maxMs / 3600_000}h, got "${raw}"`);
  return value;
}

/** The words a true/false setting accepts, in any case. */
const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (TRUE_WORDS.includes(raw)) return true;
  if (FALSE_WORDS.includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

/** Names of address ranges Fastify's `trustProxy` understands besides addresses and CIDRs. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `false`, `true`, a hop count, or a comma-separated list of addresses, CIDR ranges and the
 * names `loopback`, `linklocal`, `uniquelocal`.
 */
function trustProxy(env: Env, name: string): boolean | number | string[] {
  const raw = env[name]?.trim() ?? '';
  if (raw === '' || FALSE_WORDS.includes(raw.toLowerCase())) return false;
  // A number is a hop count ("1" is one hop, not "true"); the other true words trust any proxy.
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 32) throw new ConfigError(`${name} must be at most 32 hops, got ${hops}`);
    return hops;
  }
  if (TRUE_WORDS.includes(raw.toLowerCase())) return true;
  const entries = raw.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (PROXY_RANGE_NAMES.includes(entry)) continue;
    const [address = '', bits, ...rest] = entry.split('/');
    const family = net.isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const bitsOk = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
    if (family === 0 || !bitsOk || rest.length > 0) {
      throw new ConfigError(`${name} must be true, false, a hop count, or comma-separated IP addresses, CIDR ranges (10.0.0.0/8) or loopback, got "${entry}"`);
    }
  }
  return entries;
}

/** CRON_AGENTS_SECRET_KEY: 32 bytes as base64 or hex, or unset. */
function secretKey(env: Env, name: string): Buffer | null {
  const raw = env[name]?.trim() ?? '';
  if (raw === '') return null;
  const key = parseSecretKey(raw);
  // The message never quotes the value: it is a secret even when malformed.
  if (!key) throw new ConfigError(`${name} must be 32 bytes written as base64 (44 characters) or hex (64 characters); make one with: openssl rand -base64 32`);
  return key;
}

/** A comma-separated list; empty entries are dropped, an empty list is null. */
function list(env: Env, name: string): string[] | null {
  const entries = (env[name] ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.length > 0 ? entries : null;
}

/** CRON_AGENTS_MEMBER_TOOLS: permission rules such as `Read,Grep,mcp__*` (a trailing `*` is a wildcard). */
function memberTools(env: Env, name: string): string[] | null {
  const rules = list(env, name);
  const tooLong = rules?.find((rule) => rule.length > LIMITS.allowedToolLength);
  if (tooLong !== undefined) throw new ConfigError(`${name}: a rule is at most ${LIMITS.allowedToolLength} characters, got "${tooLong.slice(0, 40)}..."`);
  return rules;
}

/** CRON_AGENTS_ALLOWED_HOST_PATHS: absolute folders, normalized (no trailing slash, no `..`). */
function hostPaths(env: Env, name: string): string[] {
  const paths = list(env, name) ?? [];
  const relative = paths.find((entry) => !path.isAbsolute(entry));
  if (relative !== undefined) throw new ConfigError(`${name} must list absolute paths, got "${relative}"`);
  return paths.map((entry) => path.resolve(entry));
}

/** CRON_AGENTS_SANDBOX: `required` or `off`, in any case. */
function sandboxMode(env: Env, name: string): SandboxMode {
  const raw = env[name]?.trim().toLowerCase() ?? '';
  if (raw === '') return DEFAULTS.sandbox;
  if (raw === 'required' || raw === 'off') return raw;
  throw new ConfigError(`${name} must be required or off, got "${env[name]}"`);
}

/** CRON_AGENTS_RUN_ENV: variable names; never the service's own settings, nor those set per agent. */
function runEnvNames(env: Env, name: string): string[] {
  const names = list(env, name) ?? [];
  for (const entry of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(entry)) throw new ConfigError(`${name} must be comma-separated variable names, got "${entry}"`);
    if (isServiceVariable(entry)) throw new ConfigError(`${name} may not name ${entry}: the service's settings and database never reach a run`);
    if (PER_RUN_VARIABLES.includes(entry)) throw new ConfigError(`${name} may not name ${entry}: the service sets it for each agent`);
  }
  return [...new Set(names)];
}

/** The shortest retention: a day more than the longest stats period, since the per-agent stats read the runs themselves. */
const MIN_RETENTION_DAYS = Math.max(...Object.values(PERIOD_MS)) / 86_400_000 + 1;

/** CRON_AGENTS_RETENTION: a number of days (`90d`), or `0` to keep every run. */
function retention(env: Env, name: string): number {
  const raw = env[name]?.trim() ?? '';
  if (raw === '') return DEFAULTS.retentionMs;
  const match = /^(\d+)\s*d$|^0$/.exec(raw);
  if (!match) throw new ConfigError(`${name} must be a number of days such as 90d, or 0 to keep every run, got "${raw}"`);
  const days = Number(match[1] ?? 0);
  if (days === 0) return 0;
  if (days < MIN_RETENTION_DAYS) {
    throw new ConfigError(
      `${name} must be at least ${MIN_RETENTION_DAYS}d (the per-agent stats of the last ${MIN_RETENTION_DAYS - 1} days read the runs themselves), or 0 to keep every run, got "${raw}"`,
    );
  }
  if (days > 36_500) throw new ConfigError(`${name} must be at most 36500d, got "${raw}"`);
  return days * 86_400_000;
}

/**
 * CRON_AGENTS_AUDIT_RETENTION: days (`365d`) or `0` (keep every entry). The audit trail explains
 * runs, so it is kept at least as long as they are: shorter than CRON_AGENTS_RETENTION is refused,
 * and the default is 365d, or the runs' retention when that is longer (0 when runs are kept for ever).
 */
function auditRetention(env: Env, name: string, runsMs: number): number {
  const raw = env[name]?.trim() ?? '';
  if (raw === '') return runsMs === 0 ? 0 : Math.max(DEFAULTS.auditRetentionMs, runsMs);
  const match = /^(\d+)\s*d$|^0$/.exec(raw);
  if (!match) throw new ConfigError(`${name} must be a number of days such as 365d, or 0 to keep every entry, got "${raw}"`);
  const days = Number(match[1] ?? 0);
  if (days > 36_500) throw new ConfigError(`${name} must be at most 36500d, got "${raw}"`);
  const ms = days * 86_400_000;
  if (ms !== 0 && (runsMs === 0 || ms < runsMs)) {
    const runs = runsMs === 0 ? 'runs are kept for ever (CRON_AGENTS_RETENTION=0): use 0' : `at least CRON_AGENTS_RETENTION (${runsMs / 86_400_000}d)`;
    throw new ConfigError(`${name} keeps audit entries no shorter than runs: ${runs}, got "${raw}"`);
  }
  return ms;
}

/** CRON_AGENTS_PUBLIC_URL: an http(s) URL without query or fragment; default: the address the service listens on. */
function publicUrl(env: Env, name: string, host: string, port: number): string {
  const raw = env[name]?.trim() ?? '';
  if (raw === '') return `http://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // Reported below.
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError(`${name} must be the dashboard's http:// or https:// address, such as https://agents.example.com, got "${raw}"`);
  }
  return url.href.replace(/\/+$/, '');
}

/** Reads the configuration from the environment. Throws ConfigError naming the first problem. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const host = env.HOST?.trim() || DEFAULTS.host;
  const databaseUrl = env.DATABASE_URL?.trim() || null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`DATABASE_URL must be a postgres:// URL (unset it to use SQLite), got "${databaseUrl}"`);
  }
  const adminToken = env.CRON_AGENTS_ADMIN_TOKEN?.trim() || null;
  if (adminToken !== null && adminToken.length < 32) {
    throw new ConfigError('CRON_AGENTS_ADMIN_TOKEN must be at least 32 characters long');
  }
  const metricsToken = env.CRON_AGENTS_METRICS_TOKEN?.trim() || null;
  if (metricsToken !== null && (metricsToken.length < 32 || /\s/.test(metricsToken))) {
    throw new ConfigError('CRON_AGENTS_METRICS_TOKEN must be at least 32 characters long, without spaces (e.g. openssl rand -hex 32)');
  }
  const logLevel = env.LOG_LEVEL?.trim() || DEFAULTS.logLevel;
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "${logLevel}"`);
  }
  const config: Config = {
    port: integer(env, 'PORT', DEFAULTS.port, 0, 65535),
    host,
    dataDir: path.resolve(env.CRON_AGENTS_DATA_DIR?.trim() || DEFAULTS.dataDir),
    databaseUrl,
    maxConcurrentRuns: integer(env, 'CRON_AGENTS_MAX_CONCURRENT_RUNS', DEFAULTS.maxConcurrentRuns, 1, 1000),
    catchupWindowMs: duration(env, 'CRON_AGENTS_CATCHUP_WINDOW', DEFAULTS.catchupWindowMs, 7 * 24 * 3600_000),
    shutdownGraceMs: integer(env, 'CRON_AGENTS_SHUTDOWN_GRACE_MS', DEFAULTS.shutdownGraceMs, 0, 3600_000),
    leaseMs: integer(env, 'CRON_AGENTS_LEASE_MS', DEFAULTS.leaseMs, 1000, 3600_000),
    heartbeatMs: DEFAULTS.heartbeatMs,
    schedulerPollMs: DEFAULTS.schedulerPollMs,
    executorPollMs: DEFAULTS.executorPollMs,
    runnerEnabled: boolean(env, 'CRON_AGENTS_RUNNER', true),
    adminToken,
    metricsToken,
    instanceId: `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    logLevel,
    trustProxy: trustProxy(env, 'CRON_AGENTS_TRUST_PROXY'),
    secretKey: secretKey(env, 'CRON_AGENTS_SECRET_KEY'),
    memberTools: memberTools(env, 'CRON_AGENTS_MEMBER_TOOLS'),
    allowedHostPaths: hostPaths(env, 'CRON_AGENTS_ALLOWED_HOST_PATHS'),
    sandbox: sandboxMode(env, 'CRON_AGENTS_SANDBOX'),
    runEnv: runEnvNames(env, 'CRON_AGENTS_RUN_ENV'),
    runAllowPrivate: boolean(env, 'CRON_AGENTS_RUN_ALLOW_PRIVATE', DEFAULTS.runAllowPrivate),
    retentionMs: retention(env, 'CRON_AGENTS_RETENTION'),
    auditRetentionMs: auditRetention(env, 'CRON_AGENTS_AUDIT_RETENTION', retention(env, 'CRON_AGENTS_RETENTION')),
    maxAgentsPerUser: integer(env, 'CRON_AGENTS_MAX_AGENTS_PER_USER', DEFAULTS.maxAgentsPerUser, 1, 1_000_000),
    minIntervalMs: duration(env, 'CRON_AGENTS_MIN_INTERVAL', DEFAULTS.minIntervalMs, 7 * 24 * 3600_000),
    publicUrl: publicUrl(env, 'CRON_AGENTS_PUBLIC_URL', host, integer(env, 'PORT', DEFAULTS.port, 0, 65535)),
    webhookRetryBaseMs: integer(env, 'CRON_AGENTS_WEBHOOK_RETRY_BASE_MS', DEFAULTS.webhookRetryBaseMs, 1, 3600_000),
    webhookAllowPrivate: boolean(env, 'CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE', DEFAULTS.webhookAllowPrivate),
    ...overrides,
  };
  if (config.heartbeatMs * 2 > config.leaseMs) {
    config.heartbeatMs = Math.max(200, Math.floor(config.leaseMs / 3));
  }
  return Object.freeze(config);
}

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { DEFAULTS } from '../../src/defaults.js';

describe('loadConfig', () => {
  it('has the documented defaults on an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: path.resolve('data'),
      databaseUrl: null,
      maxConcurrentRuns: 4,
      catchupWindowMs: 3600_000,
      shutdownGraceMs: 30_000,
      leaseMs: 30_000,
      runnerEnabled: true,
      adminToken: null,
      trustProxy: false,
    });
    expect(config.maxConcurrentRuns).toBe(DEFAULTS.maxConcurrentRuns);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads each variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      CRON_AGENTS_DATA_DIR: '/var/lib/cron-agents',
      DATABASE_URL: 'postgres://app@db:5432/agents',
      CRON_AGENTS_MAX_CONCURRENT_RUNS: '2',
      CRON_AGENTS_CATCHUP_WINDOW: '30m',
      CRON_AGENTS_SHUTDOWN_GRACE_MS: '5000',
      CRON_AGENTS_RUNNER: 'false',
      CRON_AGENTS_ADMIN_TOKEN: 'x'.repeat(32),
      CRON_AGENTS_TRUST_PROXY: 'true',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      dataDir: '/var/lib/cron-agents',
      databaseUrl: 'postgres://app@db:5432/agents',
      maxConcurrentRuns: 2,
      catchupWindowMs: 1800_000,
      shutdownGraceMs: 5000,
      runnerEnabled: false,
      adminToken: 'x'.repeat(32),
      trustProxy: true,
    });
  });

  it.each([
    ['false', false],
    ['0', false],
    ['', false],
    ['yes', true],
    ['1', 1],
    ['2', 2],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 192.168.1.5', ['10.0.0.0/8', '192.168.1.5']],
    ['::1,fd00::/8', ['::1', 'fd00::/8']],
  ])('CRON_AGENTS_TRUST_PROXY=%j is %j', (raw, expected) => {
    expect(loadConfig({ CRON_AGENTS_TRUST_PROXY: raw }).trustProxy).toEqual(expected);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number, got "eighty"'],
    [{ PORT: '70000' }, 'PORT must be between 0 and 65535, got 70000'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgres:// URL'],
    [{ CRON_AGENTS_MAX_CONCURRENT_RUNS: '0' }, 'CRON_AGENTS_MAX_CONCURRENT_RUNS must be between 1 and 1000, got 0'],
    [{ CRON_AGENTS_CATCHUP_WINDOW: 'soon' }, 'CRON_AGENTS_CATCHUP_WINDOW must be a duration'],
    [{ CRON_AGENTS_RUNNER: 'maybe' }, 'CRON_AGENTS_RUNNER must be true or false, got "maybe"'],
    [{ CRON_AGENTS_ADMIN_TOKEN: 'short' }, 'CRON_AGENTS_ADMIN_TOKEN must be at least 32 characters long'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of'],
    [
      { CRON_AGENTS_TRUST_PROXY: 'nginx' },
      'CRON_AGENTS_TRUST_PROXY must be true, false, a hop count, or comma-separated IP addresses, CIDR ranges (10.0.0.0/8) or loopback, got "nginx"',
    ],
    [{ CRON_AGENTS_TRUST_PROXY: '10.0.0.0/33' }, 'got "10.0.0.0/33"'],
    [{ CRON_AGENTS_TRUST_PROXY: '10.0.0.1,' }, 'got ""'],
    [{ CRON_AGENTS_TRUST_PROXY: '99' }, 'CRON_AGENTS_TRUST_PROXY must be at most 32 hops, got 99'],
  ])('refuses %j with one line naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  describe('who may grant what (issue 8)', () => {
    it('by default members may grant any rule and no host folder is allowed', () => {
      const config = loadConfig({});
      expect(config.memberTools).toBeNull();
      expect(config.allowedHostPaths).toEqual([]);
    });

    it('reads CRON_AGENTS_MEMBER_TOOLS as comma-separated rules', () => {
      expect(loadConfig({ CRON_AGENTS_MEMBER_TOOLS: ' Read, Grep ,Glob,WebFetch,mcp__*,, ' }).memberTools).toEqual([
        'Read',
        'Grep',
        'Glob',
        'WebFetch',
        'mcp__*',
      ]);
      expect(loadConfig({ CRON_AGENTS_MEMBER_TOOLS: ' , ' }).memberTools).toBeNull();
    });

    it('reads CRON_AGENTS_ALLOWED_HOST_PATHS as absolute paths, normalized', () => {
      expect(loadConfig({ CRON_AGENTS_ALLOWED_HOST_PATHS: '/srv/repos/, /data/../shared' }).allowedHostPaths).toEqual(['/srv/repos', '/shared']);
    });

    it.each([
      [{ CRON_AGENTS_ALLOWED_HOST_PATHS: '/srv,relative/dir' }, 'CRON_AGENTS_ALLOWED_HOST_PATHS must list absolute paths, got "relative/dir"'],
      [{ CRON_AGENTS_MEMBER_TOOLS: `Read,${'x'.repeat(501)}` }, 'CRON_AGENTS_MEMBER_TOOLS: a rule is at most 500 characters'],
    ])('refuses %j', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  });

  describe('the run boundary (issue 8)', () => {
    it('by default requires the sandbox, passes no extra variable and refuses private addresses', () => {
      expect(loadConfig({})).toMatchObject({ sandbox: 'required', runEnv: [], runAllowPrivate: false });
    });

    it('reads CRON_AGENTS_SANDBOX, CRON_AGENTS_RUN_ENV and CRON_AGENTS_RUN_ALLOW_PRIVATE', () => {
      const config = loadConfig({
        CRON_AGENTS_SANDBOX: 'OFF',
        CRON_AGENTS_RUN_ENV: ' HTTPS_PROXY, NO_PROXY,,HTTPS_PROXY ',
        CRON_AGENTS_RUN_ALLOW_PRIVATE: 'true',
      });
      expect(config).toMatchObject({ sandbox: 'off', runEnv: ['HTTPS_PROXY', 'NO_PROXY'], runAllowPrivate: true });
      expect(loadConfig({ CRON_AGENTS_SANDBOX: 'required' }).sandbox).toBe('required');
    });

    it.each([
      [{ CRON_AGENTS_SANDBOX: 'maybe' }, 'CRON_AGENTS_SANDBOX must be required or off, got "maybe"'],
      [{ CRON_AGENTS_RUN_ENV: 'HTTPS_PROXY,not a name' }, 'CRON_AGENTS_RUN_ENV must be comma-separated variable names, got "not a name"'],
      [{ CRON_AGENTS_RUN_ENV: 'CRON_AGENTS_ADMIN_TOKEN' }, 'CRON_AGENTS_RUN_ENV may not name CRON_AGENTS_ADMIN_TOKEN'],
      [{ CRON_AGENTS_RUN_ENV: 'DATABASE_URL' }, 'CRON_AGENTS_RUN_ENV may not name DATABASE_URL'],
      [{ CRON_AGENTS_RUN_ENV: 'PGPASSWORD' }, 'CRON_AGENTS_RUN_ENV may not name PGPASSWORD'],
      [{ CRON_AGENTS_RUN_ENV: 'HOME' }, 'CRON_AGENTS_RUN_ENV may not name HOME: the service sets it for each agent'],
      [{ CRON_AGENTS_RUN_ALLOW_PRIVATE: 'sometimes' }, 'CRON_AGENTS_RUN_ALLOW_PRIVATE must be true or false'],
    ])('refuses %j', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  });

  describe('limits for a shared deployment (issue 13)', () => {
    it('by default allows 200 agents per member and any interval', () => {
      expect(loadConfig({})).toMatchObject({ maxAgentsPerUser: 200, minIntervalMs: 0 });
      expect(DEFAULTS.maxAgentsPerUser).toBe(200);
    });

    it('reads CRON_AGENTS_MAX_AGENTS_PER_USER and CRON_AGENTS_MIN_INTERVAL (a duration; a bare number is seconds)', () => {
      expect(loadConfig({ CRON_AGENTS_MAX_AGENTS_PER_USER: '50', CRON_AGENTS_MIN_INTERVAL: '5m' })).toMatchObject({
        maxAgentsPerUser: 50,
        minIntervalMs: 300_000,
      });
      expect(loadConfig({ CRON_AGENTS_MIN_INTERVAL: '90' }).minIntervalMs).toBe(90_000);
      expect(loadConfig({ CRON_AGENTS_MIN_INTERVAL: '0' }).minIntervalMs).toBe(0);
    });

    it.each([
      [{ CRON_AGENTS_MAX_AGENTS_PER_USER: '0' }, 'CRON_AGENTS_MAX_AGENTS_PER_USER must be between 1 and 1000000, got 0'],
      [{ CRON_AGENTS_MAX_AGENTS_PER_USER: 'many' }, 'CRON_AGENTS_MAX_AGENTS_PER_USER must be a whole number, got "many"'],
      [{ CRON_AGENTS_MIN_INTERVAL: 'hourly' }, 'CRON_AGENTS_MIN_INTERVAL must be a duration such as 30m, 1h or 90s, got "hourly"'],
      [{ CRON_AGENTS_MIN_INTERVAL: '8d' }, 'CRON_AGENTS_MIN_INTERVAL must be a duration'],
      [{ CRON_AGENTS_MIN_INTERVAL: '200h' }, 'CRON_AGENTS_MIN_INTERVAL must be at most 168h, got "200h"'],
    ])('refuses %j', (env, message) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  });
});

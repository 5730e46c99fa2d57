import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { displayPrefix, generateToken, hashToken } from '../../src/domain/tokens.js';
import type { Role } from '../../src/domain/types.js';
import { advanceClockTo, SQLITE, trackStore, type DialectUnderTest } from './dialects.js';
import { FakeClock } from './fake-clock.js';
import { FakeRunner } from './fake-runner.js';

export interface TestApp {
  app: App;
  clock: FakeClock;
  runner: FakeRunner;
  dataDir: string;
  /** Bearer tokens of users made for the test, by role. */
  tokens: Record<Role, string>;
  /** Authorization headers for a role. */
  auth(role?: Role): { authorization: string };
  /** Waits until no store call is in flight (PostgreSQL calls take real round trips). */
  idle(): Promise<void>;
  /** Moves the fake clock forward, timer by timer, letting the store go idle after each. */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A whole app on a fresh database of the dialect (default: in-memory SQLite) with a fake clock
 * and a fake runner, not listening on a port: tests talk to it with `app.server.inject`.
 */
export async function createTestApp(overrides: Partial<Config> = {}, dialect: DialectUnderTest = SQLITE): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-test-'));
  const config = loadConfig({}, { dataDir, port: 0, logLevel: 'silent', ...overrides });
  const clock = new FakeClock();
  const runner = new FakeRunner();
  const { store, idle } = trackStore(await dialect.open());
  const app = await App.create(config, { clock, runner, store, logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), print: () => {} });
  const tokens = {} as Record<Role, string>;
  for (const role of ['admin', 'member', 'viewer'] as const) {
    const user = await store.createUser({ name: `${role}-user`, role }, clock.now());
    const token = generateToken();
    await store.createToken({ userId: user.id, label: 'test', tokenHash: hashToken(token), prefix: displayPrefix(token) }, clock.now());
    tokens[role] = token;
  }
  app.scheduler.start();
  app.executor?.start();
  return {
    app,
    clock,
    runner,
    dataDir,
    tokens,
    auth: (role = 'member') => ({ authorization: `Bearer ${tokens[role]}` }),
    idle,
    advance: (ms) => advanceClockTo(clock, clock.now() + ms, idle),
    async close() {
      for (const run of runner.runs) run.finish();
      let stopped = false;
      const stopping = app.stop().finally(() => {
        stopped = true;
      });
      // The executor's shutdown grace runs on the fake clock: let it pass. Stopping awaits store
      // calls (real round trips on PostgreSQL), so the grace timer may be armed only later, and a
      // run claimed meanwhile may reach the runner late: keep finishing runs and passing the
      // grace until the app has stopped.
      const giveUpAt = performance.now() + 20_000;
      while (!stopped) {
        for (const run of runner.runs) run.finish();
        if (clock.pendingTimers > 0) await clock.advance(config.shutdownGraceMs + 1);
        if (stopped) break;
        if (performance.now() > giveUpAt) throw new Error('the test app did not stop');
        let bound: NodeJS.Timeout | undefined;
        await Promise.race([stopping.catch(() => {}), new Promise<void>((resolve) => (bound = setTimeout(resolve, 5)))]);
        clearTimeout(bound);
      }
      await stopping;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { App } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { displayPrefix, generateToken, hashToken } from '../../src/domain/tokens.js';
import type { Role } from '../../src/domain/types.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
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
  close(): Promise<void>;
}

/**
 * A whole app on an in-memory SQLite database with a fake clock and a fake runner, not
 * listening on a port: tests talk to it with `app.server.inject`.
 */
export async function createTestApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-test-'));
  const config = loadConfig({}, { dataDir, port: 0, logLevel: 'silent', ...overrides });
  const clock = new FakeClock();
  const runner = new FakeRunner();
  const store = openSqliteStore(':memory:');
  const app = await App.create(config, { clock, runner, store, logger: pino({ level: 'silent' }), print: () => {} });
  await store.migrate();
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
    async close() {
      for (const run of runner.runs) run.finish();
      const stopping = app.stop();
      // The executor's shutdown grace runs on the fake clock: let it pass.
      await clock.advance(config.shutdownGraceMs + 1);
      await stopping;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

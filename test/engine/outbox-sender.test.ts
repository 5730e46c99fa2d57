import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { RETRY_FACTORS } from '../../src/domain/delivery-retry.js';
import { SecretCipher } from '../../src/domain/secret-cipher.js';
import { ZERO_USAGE, type Agent } from '../../src/domain/types.js';
import type { WebhookFields } from '../../src/domain/webhooks.js';
import { OutboxSender, type OutboxSenderOptions } from '../../src/engine/outbox-sender.js';
import { RunExecutor } from '../../src/engine/run-executor.js';
import { silentLogger } from '../../src/logger.js';
import { OPERATOR } from '../../src/services/actor.js';
import { Webhooks } from '../../src/services/webhooks.js';
import { openPostgresStore } from '../../src/store/postgres/open-postgres-store.js';
import { SqlStore } from '../../src/store/sql/sql-store.js';
import { openSqliteStore as openSqliteStoreAt } from '../../src/store/sqlite/open-sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { dialectsUnderTest, TEST_DATABASE_URL } from '../support/dialects.js';
import { FakeRunner } from '../support/fake-runner.js';
import { eventually, WebhookReceiver, type ReceivedRequest } from '../support/webhook-receiver.js';

/**
 * The sender on both dialects, end to end on the real clock: runs end through the executor and the
 * fake runner, their events go out of the outbox to a local receiver (127.0.0.1, with the private
 * opt-in), which checks every signature with the Standard Webhooks algorithm written out here.
 */

const PUBLIC_URL = 'https://agents.example.com';

/** The receiver's side of Standard Webhooks, from the spec (not from the code under test). */
function verified(request: ReceivedRequest, secret: string): boolean {
  const id = String(request.headers['webhook-id']);
  const timestamp = String(request.headers['webhook-timestamp']);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${timestamp}.${request.body}`).digest('base64'));
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
  return (
    fresh &&
    String(request.headers['webhook-signature'])
      .split(' ')
      .some((sig) => sig.startsWith('v1,') && Buffer.from(sig.slice(3)).length === expected.length && timingSafeEqual(Buffer.from(sig.slice(3)), expected))
  );
}

interface Body {
  type: string;
  timestamp: string;
  data: { agent: { id: string; name: string }; run: { id: string; status: string; output: string }; url: string };
}
const bodyOf = (request: ReceivedRequest): Body => JSON.parse(request.body) as Body;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`the outbox sender (${dialect.name})`, () => {
    let dir: string;
    let store: Store;
    let receiver: WebhookReceiver;
    let cipher: SecretCipher;
    let stoppers: (() => Promise<void>)[];
    let agent: Agent;

    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-outbox-'));
      // SQLite on a file, so that a second store (a restarted instance) can open the same database.
      store = dialect.name === 'sqlite' ? await migrated(openSqliteFile(dir)) : await dialect.open();
      receiver = await WebhookReceiver.start();
      cipher = new SecretCipher(randomBytes(32));
      stoppers = [];
      const { fields, nextFireAt } = planNewAgent({ name: 'Nightly report', schedule: '0 9 1 6 *', prompt: 'p', enabled: false }, Date.now());
      agent = await store.createAgent(fields, null, nextFireAt, Date.now());
    });

    afterEach(async () => {
      for (const stop of stoppers.reverse()) await stop();
      await receiver.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    function openSqliteFile(folder: string): SqlStore {
      return openSqliteStoreAt(path.join(folder, 'db.sqlite'));
    }

    /** Another store on the same database: another instance, or the same one restarted. */
    async function twin(): Promise<Store> {
      let other: Store;
      if (store instanceof SqlStore && store.dialect === 'postgres') {
        const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(store.db);
        other = openPostgresStore(TEST_DATABASE_URL!, { schema: rows[0]!.schema, maxConnections: 3 });
      } else {
        other = openSqliteFile(dir);
      }
      stoppers.push(() => other.close());
      return other;
    }

    function sender(options: Partial<OutboxSenderOptions> = {}): OutboxSender {
      const s = new OutboxSender({
        store,
        clock: systemClock,
        logger: silentLogger,
        cipher,
        instanceId: `sender-${randomUUID().slice(0, 6)}`,
        publicUrl: PUBLIC_URL,
        retryBaseMs: 20,
        allowPrivate: true,
        pollMs: 100,
        concurrency: 8,
        timeoutMs: 2_000,
        maxResponseBytes: 65_536,
        claimMs: 60_000,
        ...options,
      });
      s.start();
      stoppers.push(() => s.stop());
      return s;
    }

    function executor(runner: FakeRunner, maxConcurrentRuns = 4): RunExecutor {
      const e = new RunExecutor({
        store,
        runner,
        clock: systemClock,
        logger: silentLogger,
        instanceId: 'exec',
        maxConcurrentRuns,
        leaseMs: 30_000,
        heartbeatMs: 5_000,
        pollMs: 50,
        workspacesDir: dir,
        secrets: { forAgent: async () => ({}) },
      });
      e.start();
      stoppers.push(() => e.stop(0));
      return e;
    }

    async function webhook(fields: Partial<WebhookFields> = {}, s: Store = store): Promise<{ id: string; secret: string }> {
      const service = new Webhooks({ store: s, clock: systemClock, cipher, webhookPolicy: { allowPrivate: true } });
      const input = {
        name: 'ops',
        url: `${receiver.url}/hook`,
        events: ['run.succeeded', 'run.failed', 'run.cancelled', 'agent.recovered'] as const,
        ...fields,
      };
      const { webhook: created, secret } = await service.create({ ...input, events: [...input.events] }, OPERATOR);
      return { id: created.id, secret };
    }

    const testEvent = (webhookId: string) => new Webhooks({ store, clock: systemClock, cipher }).test(webhookId, OPERATOR);

    it('sends one signed delivery per event, with the right type, for success, failure, budget and cancel', async () => {
      const { secret } = await webhook();
      sender();
      const runner = new FakeRunner();
      const exec = executor(runner, 1);
      const runOnce = async (finish: (index: number) => void): Promise<string> => {
        const runId = randomUUID();
        await store.enqueueManualRun(agent.id, runId, Date.now());
        exec.wake();
        await eventually(() => runner.runs.some((r) => r.request.runId === runId), `the runner to get ${runId}`);
        finish(runner.runs.findIndex((r) => r.request.runId === runId));
        await eventually(async () => (await store.getRun(runId))?.status !== 'running', `${runId} to end`);
        return runId;
      };
      const ok = await runOnce((i) => runner.runs[i]!.finish({ output: 'all good' }));
      const failed = await runOnce((i) => runner.runs[i]!.finish({ status: 'error', output: 'it broke' }));
      const overBudget = await runOnce((i) => runner.runs[i]!.finish({ status: 'budget_exceeded', output: 'too dear' }));
      const recovered = await runOnce((i) => runner.runs[i]!.finish({ output: 'fine again' }));
      // Cancel: a running run (stopped by its executor) and a queued one (ended at once by the cancel).
      const running = randomUUID();
      await store.enqueueManualRun(agent.id, running, Date.now());
      exec.wake();
      await eventually(() => runner.runs.some((r) => r.request.runId === running), 'the runner to get the running run');
      const queued = randomUUID();
      await store.enqueueManualRun(agent.id, queued, Date.now());
      expect((await store.requestCancel(agent.id, Date.now())).cancelledQueued).toEqual([queued]);
      exec.cancelLocal([running]);

      const requests = await receiver.received(7);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(receiver.requests).toHaveLength(7);
      for (const request of requests) expect(verified(request, secret), request.body).toBe(true);
      expect(new Set(requests.map((r) => r.headers['webhook-id'])).size).toBe(7);
      const seen = requests.map(bodyOf).map((b) => `${b.data.run.id}:${b.type}:${b.data.run.status}`);
      expect(seen.sort()).toEqual(
        [
          `${ok}:run.succeeded:success`,
          `${failed}:run.failed:error`,
          `${overBudget}:run.failed:budget_exceeded`,
          `${recovered}:run.succeeded:success`,
          `${recovered}:agent.recovered:success`,
          `${running}:run.cancelled:cancelled`,
          `${queued}:run.cancelled:cancelled`,
        ].sort(),
      );
      const first = bodyOf(requests.find((r) => bodyOf(r).data.run.id === ok)!);
      expect(first.data.agent).toEqual({ id: agent.id, name: 'Nightly report' });
      expect(first.data.url).toBe(`${PUBLIC_URL}/runs/${ok}`);
      expect(first.data.run.output).toBe('all good');
    });

    it('retries with the backoff while the receiver is down, and delivers once when it is up', async () => {
      const base = 40;
      await receiver.down();
      const hook = await webhook();
      sender({ retryBaseMs: base });
      const delivery = await testEvent(hook.id);
      await eventually(async () => (await store.listDeliveries(hook.id, 1))[0]!.attempts >= 2, 'two failed attempts');
      await receiver.up();
      await receiver.received(1);
      await eventually(async () => (await store.listDeliveries(hook.id, 1))[0]!.status === 'delivered', 'the delivery to be recorded');
      const [done] = await store.listDeliveries(hook.id, 1);
      expect(done).toMatchObject({ id: delivery.id, status: 'delivered', lastStatusCode: 200, lastError: null });
      expect(done!.attempts).toBeGreaterThanOrEqual(3);
      // The waits before the successful attempt add up to at least base x (1 + 6 + ...), less the 10% jitter.
      const waited = RETRY_FACTORS.slice(0, done!.attempts - 1).reduce((sum, factor) => sum + factor * base * 0.9, 0);
      expect(done!.deliveredAt! - done!.createdAt).toBeGreaterThanOrEqual(waited);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]!.headers['webhook-id']).toBe(delivery.eventId);
    });

    it('still delivers after a restart in the middle of the backoff', async () => {
      receiver.respond = (_request, index) => (index === 0 ? { status: 503, body: 'busy' } : { status: 200 });
      const hook = await webhook();
      const first = sender({ retryBaseMs: 400 });
      const delivery = await testEvent(hook.id);
      await eventually(async () => (await store.listDeliveries(hook.id, 1))[0]!.attempts === 1, 'the first attempt to be recorded');
      const [waiting] = await store.listDeliveries(hook.id, 1);
      expect(waiting).toMatchObject({ status: 'pending', lastStatusCode: 503, lastError: 'HTTP 503: busy' });
      expect(waiting!.nextAttemptAt).toBeGreaterThan(Date.now());
      await first.stop();
      // A new process: a new store on the same database and a sender with nothing in memory.
      const restarted = await twin();
      sender({ store: restarted, retryBaseMs: 400 });
      const requests = await receiver.received(2);
      expect(requests.map((r) => r.headers['webhook-id'])).toEqual([delivery.eventId, delivery.eventId]);
      await eventually(async () => (await store.listDeliveries(hook.id, 1))[0]!.status === 'delivered', 'the delivery to be recorded');
      expect((await store.listDeliveries(hook.id, 1))[0]).toMatchObject({ attempts: 2, status: 'delivered' });
    });

    it.skipIf(dialect.name === 'sqlite')('delivers each of 30 events exactly once with two instances on one database', async () => {
      receiver.respond = () => ({ status: 200 });
      const other = await twin();
      await webhook({ events: ['run.succeeded'] });
      sender({ concurrency: 4, pollMs: 20 });
      sender({ store: other, concurrency: 4, pollMs: 20 });
      // Runs end on both instances' stores, so each instance's sender is woken by its own events.
      await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const s = i % 2 ? other : store;
          const runId = randomUUID();
          await s.enqueueManualRun(agent.id, runId, Date.now());
          const claimed = await s.claimQueuedRun(`exec-${i}`, Date.now(), Date.now() + 60_000);
          await s.finishRun(claimed!.run.id, `exec-${i}`, { ...ZERO_USAGE, status: 'success', output: 'ok' }, Date.now());
        }),
      );
      const requests = await receiver.received(30);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const ids = receiver.requests.map((r) => String(r.headers['webhook-id']));
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
      expect(new Set(requests.map((r) => bodyOf(r).data.run.id)).size).toBe(30);
    });

    it('disables a webhook whose receiver answers 410 Gone', async () => {
      receiver.respond = () => ({ status: 410 });
      const hook = await webhook();
      sender();
      await testEvent(hook.id);
      await eventually(async () => (await store.getWebhook(hook.id))?.enabled === false, 'the webhook to be disabled');
      expect(await store.getWebhook(hook.id)).toMatchObject({ disabledReason: 'the receiver answered 410 Gone' });
      expect((await store.listDeliveries(hook.id, 1))[0]).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: 410 });
    });

    it('refuses a private address at send time without the opt-in', async () => {
      const hook = await webhook();
      sender({ allowPrivate: false, retryBaseMs: 60_000 });
      await testEvent(hook.id);
      await eventually(async () => (await store.listDeliveries(hook.id, 1))[0]!.attempts === 1, 'the attempt to be recorded');
      expect((await store.listDeliveries(hook.id, 1))[0]!.lastError).toMatch(/^refused: 127\.0\.0\.1 is a loopback, private or link-local address/);
      expect(receiver.requests).toHaveLength(0);
    });

    it('never holds up runs: they start and end while every delivery hangs', async () => {
      receiver.respond = () => 'hang';
      await webhook();
      sender({ concurrency: 2, timeoutMs: 5_000, retryBaseMs: 60_000 });
      const runner = new FakeRunner();
      runner.autoFinish = { status: 'success', output: 'quick' };
      const exec = executor(runner);
      const ids = Array.from({ length: 6 }, () => randomUUID());
      for (const id of ids) await store.enqueueManualRun(agent.id, id, Date.now());
      exec.wake();
      const started = Date.now();
      await eventually(async () => (await Promise.all(ids.map((id) => store.getRun(id)))).every((r) => r?.status === 'success'), 'every run to end');
      expect(Date.now() - started).toBeLessThan(2_000);
      // Two deliveries hang at the receiver (the sender's two slots); the rest wait their turn.
      await receiver.received(2);
      expect(receiver.requests).toHaveLength(2);
    });

    it('ends the attempts in flight when it stops, and sends them again later', async () => {
      receiver.respond = (_request, index) => (index === 0 ? 'hang' : { status: 200 });
      const hook = await webhook();
      const first = sender({ timeoutMs: 5_000, retryBaseMs: 50 });
      const delivery = await testEvent(hook.id);
      await receiver.received(1);
      const started = Date.now();
      await first.stop();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect((await store.listDeliveries(hook.id, 1))[0]).toMatchObject({
        status: 'pending',
        attempts: 1,
        lastError: 'the service stopped during the attempt',
      });
      sender({ retryBaseMs: 50 });
      const requests = await receiver.received(2);
      expect(requests.map((r) => r.headers['webhook-id'])).toEqual([delivery.eventId, delivery.eventId]);
    });
  });
}

async function migrated(store: SqlStore): Promise<SqlStore> {
  await store.migrate();
  return store;
}

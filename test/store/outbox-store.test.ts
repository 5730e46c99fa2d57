import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { ZERO_USAGE, type Agent, type FinalRunStatus } from '../../src/domain/types.js';
import type { WebhookEventType } from '../../src/domain/webhook-events.js';
import type { Webhook, WebhookFields } from '../../src/domain/webhooks.js';
import type { DeliveryAttempt, Store } from '../../src/store/store.js';
import { Retention } from '../../src/engine/retention.js';
import { silentLogger } from '../../src/logger.js';
import { dialectsUnderTest } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * The outbox on both dialects: events written in the transaction that ends a run (and only for
 * webhooks that want them), claims (one sender at a time, fenced), attempts, and what disables a
 * webhook.
 */

const NOW = Date.parse('2026-01-05T08:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`outbox (${dialect.name})`, () => {
    let store: Store;
    let agent: Agent;

    beforeEach(async () => {
      store = await dialect.open();
      agent = await newAgent('worker');
    });
    afterEach(async () => {
      await store.close();
    });

    async function newAgent(name: string): Promise<Agent> {
      const { fields, nextFireAt } = planNewAgent({ name, schedule: '0 9 1 6 *', prompt: 'p', enabled: false }, NOW);
      return store.createAgent(fields, null, nextFireAt, NOW);
    }

    async function webhook(overrides: Partial<WebhookFields> = {}): Promise<Webhook> {
      const fields: WebhookFields = {
        name: 'hook',
        url: 'https://hooks.example.com/x',
        events: ['run.succeeded', 'run.failed', 'run.cancelled', 'agent.recovered'],
        agentIds: null,
        format: 'standard',
        enabled: true,
        ...overrides,
      };
      return store.createWebhook({ id: randomUUID(), fields, encryptedSecret: 'sealed' }, NOW);
    }

    /** Queues, claims and ends a run of the agent; returns its id. */
    async function endRun(status: FinalRunStatus, at = NOW, agentId = agent.id): Promise<string> {
      const runId = randomUUID();
      await store.enqueueManualRun(agentId, runId, at);
      expect((await store.claimQueuedRun('exec', at, at + MINUTE))?.run.id).toBe(runId);
      expect(await store.finishRun(runId, 'exec', { ...ZERO_USAGE, status, output: `${status}!`, costUsd: 0.5 }, at + 1000)).toBe(true);
      return runId;
    }

    /** The event types of the webhook's deliveries, sorted (events written together share their time, so the log's order among them is arbitrary). */
    const types = async (hook: Webhook): Promise<WebhookEventType[]> => (await store.listDeliveries(hook.id, 100)).map((d) => d.eventType).sort();

    it("writes a run's event with its end, one delivery per webhook that wants it", async () => {
      const written: number[] = [];
      store.onOutboxWritten(() => written.push(1));
      const all = await webhook();
      const failures = await webhook({ events: ['run.failed'] });
      const other = await webhook({ agentIds: [(await newAgent('other')).id] });
      const off = await webhook({ enabled: false });
      const runId = await endRun('success');
      await endRun('error', NOW + MINUTE);
      await endRun('budget_exceeded', NOW + 2 * MINUTE);
      expect(await types(all)).toEqual(['run.failed', 'run.failed', 'run.succeeded']);
      expect(await types(failures)).toEqual(['run.failed', 'run.failed']);
      expect(await types(other)).toEqual([]);
      expect(await types(off)).toEqual([]);
      expect(written).toHaveLength(3);
      const [claimed] = await store.claimDeliveries('sender', NOW + 10 * MINUTE, NOW + 11 * MINUTE, 1);
      expect(claimed!.event).toMatchObject({ type: 'run.succeeded', agentId: agent.id, runId, createdAt: NOW + 1000 });
      expect(claimed!.event.data).toMatchObject({
        agent: { id: agent.id, name: 'worker' },
        run: { id: runId, status: 'success', output: 'success!', costUsd: 0.5 },
      });
      expect(claimed!.webhook).toMatchObject({ id: all.id, url: 'https://hooks.example.com/x', format: 'standard', enabled: true, encryptedSecret: 'sealed' });
    });

    it('says agent.recovered on the first success after failures (cancelled runs aside)', async () => {
      const hook = await webhook();
      await endRun('error', NOW);
      await endRun('cancelled', NOW + MINUTE);
      await endRun('success', NOW + 2 * MINUTE);
      await endRun('success', NOW + 3 * MINUTE);
      expect(await types(hook)).toEqual(['agent.recovered', 'run.cancelled', 'run.failed', 'run.succeeded', 'run.succeeded']);
    });

    it('writes the events of runs a cancel or recovery ends, and nothing without a webhook', async () => {
      await store.enqueueManualRun(agent.id, randomUUID(), NOW);
      await store.requestCancel(agent.id, NOW);
      expect(await store.claimDeliveries('s', NOW + MINUTE, NOW + 2 * MINUTE, 10)).toEqual([]);
      const hook = await webhook();
      await store.enqueueManualRun(agent.id, randomUUID(), NOW);
      await store.requestCancel(agent.id, NOW);
      await store.enqueueManualRun(agent.id, randomUUID(), NOW);
      await store.claimQueuedRun('dead', NOW, NOW + 1000);
      expect(await store.endAbandonedRuns(NOW + 2000, { everything: false })).toHaveLength(1);
      expect(await types(hook)).toEqual(['run.cancelled', 'run.failed']);
    });

    it('lets one sender hold a delivery at a time, and records only its attempt', async () => {
      const hook = await webhook();
      await endRun('success');
      const at = NOW + MINUTE;
      const [mine] = await store.claimDeliveries('a', at, at + 1000, 10);
      expect(mine).toBeDefined();
      expect(await store.claimDeliveries('b', at + 500, at + 1500, 10)).toEqual([]);
      // a's claim runs out (it died): b takes the delivery over, and a's late result is refused.
      const [taken] = await store.claimDeliveries('b', at + 1000, at + 2000, 10);
      expect(taken?.id).toBe(mine!.id);
      expect(await store.recordDeliveryAttempt(mine!.id, 'a', { outcome: 'delivered', statusCode: 200 }, at + 1100, 20)).toEqual({
        recorded: false,
        webhookDisabled: null,
      });
      const retry: DeliveryAttempt = { outcome: 'retry', statusCode: 503, error: 'HTTP 503', nextAttemptAt: at + 6000 };
      expect(await store.recordDeliveryAttempt(mine!.id, 'b', retry, at + 1100, 20)).toEqual({ recorded: true, webhookDisabled: null });
      expect(await store.nextDeliveryDueAt(at + 1100)).toBe(at + 6000);
      expect(await store.claimDeliveries('b', at + 5999, at + 9000, 10)).toEqual([]);
      const [again] = await store.claimDeliveries('b', at + 6000, at + 9000, 10);
      expect(again).toMatchObject({ id: mine!.id, attempts: 1 });
      // Held by b: not due for anyone else until b's claim runs out.
      expect(await store.nextDeliveryDueAt(at + 6000)).toBeNull();
      expect(await store.nextDeliveryDueAt(at + 9000)).toBe(at + 6000);
      await store.recordDeliveryAttempt(mine!.id, 'b', { outcome: 'delivered', statusCode: 204 }, at + 6100, 20);
      expect(await store.nextDeliveryDueAt(at + 9000)).toBeNull();
      const [delivery] = await store.listDeliveries(hook.id, 10);
      expect(delivery).toMatchObject({ status: 'delivered', attempts: 2, lastStatusCode: 204, lastError: null, nextAttemptAt: null, deliveredAt: at + 6100 });
    });

    it('disables a webhook on 410 Gone, and after 20 failed deliveries in a row', async () => {
      const gone = await webhook({ events: ['run.failed'] });
      const flaky = await webhook({ events: ['run.succeeded'] });
      for (let i = 0; i < 22; i++) await endRun(i % 2 ? 'success' : 'error', NOW + i);
      const fail = (statusCode: number | null, disableReason: string | null = null): DeliveryAttempt => ({
        outcome: 'failed',
        statusCode,
        error: `HTTP ${statusCode}`,
        disableReason,
      });
      const at = NOW + MINUTE;
      const claimed = await store.claimDeliveries('s', at, at + MINUTE, 100);
      const ofGone = claimed.filter((d) => d.webhook.id === gone.id);
      expect(await store.recordDeliveryAttempt(ofGone[0]!.id, 's', fail(410, 'the receiver answered 410 Gone'), at, 20)).toEqual({
        recorded: true,
        webhookDisabled: 'the receiver answered 410 Gone',
      });
      expect(await store.getWebhook(gone.id)).toMatchObject({ enabled: false, disabledReason: 'the receiver answered 410 Gone' });
      // Its other deliveries failed with it (one was being sent: that sender's result is refused).
      expect((await store.listDeliveries(gone.id, 100)).map((d) => d.status)).toEqual(Array(11).fill('failed'));
      expect((await store.recordDeliveryAttempt(ofGone[1]!.id, 's', { outcome: 'delivered', statusCode: 200 }, at, 20)).recorded).toBe(false);

      const ofFlaky = claimed.filter((d) => d.webhook.id === flaky.id);
      expect(ofFlaky).toHaveLength(11);
      await store.recordDeliveryAttempt(ofFlaky[0]!.id, 's', { outcome: 'delivered', statusCode: 200 }, at, 20);
      for (const d of ofFlaky.slice(1, 10)) expect((await store.recordDeliveryAttempt(d.id, 's', fail(500), at, 10)).webhookDisabled).toBeNull();
      // The tenth failure in a row (with a limit of 10) disables it; a success in between had reset the count.
      expect((await store.recordDeliveryAttempt(ofFlaky[10]!.id, 's', fail(500), at, 10)).webhookDisabled).toBe(
        '10 deliveries in a row failed; the last: HTTP 500',
      );
      expect(await store.getWebhook(flaky.id)).toMatchObject({ enabled: false, disabledReason: '10 deliveries in a row failed; the last: HTTP 500' });
      // Enabled again by a person: the reason goes, and new events come.
      const enabled = await store.updateWebhook(flaky.id, (current) => ({ ...current, enabled: true }), at);
      expect(enabled).toMatchObject({ enabled: true, disabledReason: null });
      await endRun('success', at);
      expect((await store.listDeliveries(flaky.id, 1))[0]).toMatchObject({ status: 'pending', eventType: 'run.succeeded' });
    });

    it('sends a failed delivery again on request, and a test event to one webhook', async () => {
      const hook = await webhook({ events: ['run.failed'] });
      await endRun('error');
      const [claimed] = await store.claimDeliveries('s', NOW + MINUTE, NOW + 2 * MINUTE, 10);
      expect(await store.retryDelivery(hook.id, claimed!.id, NOW)).toEqual({ refused: 'not_failed' });
      await store.recordDeliveryAttempt(claimed!.id, 's', { outcome: 'failed', statusCode: 500, error: 'HTTP 500', disableReason: null }, NOW + MINUTE, 20);
      expect(await store.retryDelivery('other', claimed!.id, NOW)).toBeNull();
      const retried = await store.retryDelivery(hook.id, claimed!.id, NOW + 2 * MINUTE);
      expect(retried).toMatchObject({ delivery: { id: claimed!.id, status: 'pending', attempts: 1, nextAttemptAt: NOW + 2 * MINUTE, lastError: 'HTTP 500' } });
      const test = await store.emitTestEvent(hook.id, { type: 'webhook.test', agentId: null, runId: null, data: { webhook: { id: hook.id } } }, NOW);
      expect(test).toMatchObject({ webhookId: hook.id, eventType: 'webhook.test', status: 'pending', attempts: 0 });
      expect(await store.emitTestEvent('nope', { type: 'webhook.test', agentId: null, runId: null, data: {} }, NOW)).toBeNull();
      await store.updateWebhook(hook.id, (current) => ({ ...current, enabled: false }), NOW);
      expect((await store.listDeliveries(hook.id, 10)).map((d) => [d.status, d.lastError])).toEqual([
        ['failed', 'the webhook was disabled'],
        ['failed', 'the webhook was disabled'],
      ]);
      expect(await store.retryDelivery(hook.id, claimed!.id, NOW)).toEqual({ refused: 'webhook_disabled' });
    });

    it('prunes old events with no pending delivery, and their deliveries', async () => {
      const hook = await webhook();
      await endRun('success', NOW);
      await endRun('success', NOW + MINUTE);
      await endRun('success', NOW + 5 * MINUTE);
      const [first] = await store.claimDeliveries('s', NOW + 10 * MINUTE, NOW + 11 * MINUTE, 1);
      await store.recordDeliveryAttempt(first!.id, 's', { outcome: 'delivered', statusCode: 200 }, NOW, 20);
      // The second is still pending: it stays, however old.
      expect(await store.pruneOutboxBatch(NOW + 4 * MINUTE, 10)).toBe(1);
      expect(await store.pruneOutboxBatch(NOW + 4 * MINUTE, 10)).toBe(0);
      expect(await store.listDeliveries(hook.id, 10)).toHaveLength(2);
      await store.deleteWebhook(hook.id);
      expect(await store.pruneOutboxBatch(NOW + 10 * MINUTE, 10)).toBe(2);
    });

    it("is pruned by retention's prune, past the same retention as runs", async () => {
      const hook = await webhook({ events: ['webhook.test'] });
      const test = { type: 'webhook.test' as const, agentId: null, runId: null, data: {} };
      const old = await store.emitTestEvent(hook.id, test, NOW - 100 * DAY);
      await store.emitTestEvent(hook.id, test, NOW - DAY);
      const [claimed] = await store.claimDeliveries('s', NOW, NOW + MINUTE, 1);
      expect(claimed?.id).toBe(old!.id);
      await store.recordDeliveryAttempt(old!.id, 's', { outcome: 'delivered', statusCode: 200 }, NOW, 20);
      const retention = new Retention({ store, clock: new FakeClock(NOW), logger: silentLogger, retentionMs: 90 * DAY, instanceId: 'i' });
      await retention.prune();
      expect((await store.listDeliveries(hook.id, 10)).map((d) => d.id)).not.toContain(old!.id);
      expect(await store.listDeliveries(hook.id, 10)).toHaveLength(1);
    });
  });
}

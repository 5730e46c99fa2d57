import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveryJson, WebhookJson, WebhookWithSecretJson } from '../../src/api/schemas/index.js';
import { RETRY_FACTORS } from '../../src/domain/delivery-retry.js';
import { dialectsUnderTest } from '../support/dialects.js';
import type { TestApp } from '../support/test-app.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { call, createAgent, expectError, ISO, triggerRun, useTestApp, waitFor, waitForRunnerRuns } from './api-helpers.js';

/**
 * Webhooks through the API: the shapes of the issue, the secret shown only on create and rotation,
 * roles, validation (400 naming the field, nothing changed), test events, the delivery log and retry.
 */

const WEBHOOK_KEYS = ['agentIds', 'createdAt', 'disabledReason', 'enabled', 'events', 'format', 'id', 'name', 'url'];
const DELIVERY_KEYS = ['attempts', 'createdAt', 'deliveredAt', 'eventId', 'eventType', 'id', 'lastError', 'lastStatusCode', 'nextAttemptAt', 'status'];
const BASE_MS = 1_000;

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let t: TestApp;
    let receiver: WebhookReceiver;
    useTestApp(
      'each',
      (app) => {
        t = app;
      },
      { webhookAllowPrivate: true, webhookRetryBaseMs: BASE_MS, publicUrl: 'https://agents.example.com' },
      dialect,
    );
    beforeEach(async () => {
      receiver = await WebhookReceiver.start();
    });
    afterEach(async () => {
      await t.app.outbox.stop();
      await receiver.close();
    });

    const body = (overrides: Record<string, unknown> = {}) => ({ name: 'Ops alerts', url: `${receiver.url}/hook`, events: ['run.failed'], ...overrides });

    async function create(overrides: Record<string, unknown> = {}): Promise<WebhookWithSecretJson> {
      const response = await call<{ data: WebhookWithSecretJson }>(t, 'POST', '/api/webhooks', { body: body(overrides) });
      expect(response.status, response.text).toBe(201);
      return response.body.data;
    }

    const deliveries = async (id: string) => (await call<{ data: DeliveryJson[] }>(t, 'GET', `/api/webhooks/${id}/deliveries`, { as: 'viewer' })).body.data;

    it('creates a webhook (201, with its secret once), lists, reads, changes and deletes it', async () => {
      const agent = await createAgent(t);
      const created = await create({ events: ['run.succeeded', 'run.failed', 'run.failed'], agentIds: [agent.id], format: 'slack' });
      expect(Object.keys(created).sort()).toEqual([...WEBHOOK_KEYS, 'secret'].sort());
      expect(created).toMatchObject({
        name: 'Ops alerts',
        events: ['run.succeeded', 'run.failed'],
        agentIds: [agent.id],
        format: 'slack',
        enabled: true,
        disabledReason: null,
      });
      expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(created.createdAt).toMatch(ISO);
      await t.advance(1_000);
      const defaults = await create({ name: 'Everything' });
      expect(defaults).toMatchObject({ agentIds: null, format: 'standard', enabled: true });

      const list = await call<{ data: WebhookJson[] }>(t, 'GET', '/api/webhooks', { as: 'viewer' });
      expect(list.status).toBe(200);
      expect(list.body.data.map((w) => w.name)).toEqual(['Ops alerts', 'Everything']);
      for (const webhook of list.body.data) expect(Object.keys(webhook).sort()).toEqual(WEBHOOK_KEYS);
      const one = await call<{ data: WebhookJson }>(t, 'GET', `/api/webhooks/${created.id}`, { as: 'viewer' });
      expect(one.body.data).toEqual(list.body.data[0]);
      expect(list.text + one.text).not.toContain(created.secret);

      const patched = await call<{ data: WebhookJson }>(t, 'PATCH', `/api/webhooks/${created.id}`, { body: { enabled: false, agentIds: null } });
      expect(patched.status, patched.text).toBe(200);
      expect(patched.body.data).toMatchObject({ enabled: false, agentIds: null, events: ['run.succeeded', 'run.failed'] });
      expect(patched.text).not.toContain('whsec_');

      const rotated = await call<{ data: WebhookWithSecretJson }>(t, 'POST', `/api/webhooks/${created.id}/rotate-secret`);
      expect(rotated.status, rotated.text).toBe(200);
      expect(rotated.body.data.secret).toMatch(/^whsec_/);
      expect(rotated.body.data.secret).not.toBe(created.secret);

      const deleted = await call(t, 'DELETE', `/api/webhooks/${created.id}`);
      expect(deleted.body).toEqual({ data: { id: created.id, name: 'Ops alerts' } });
      expectError(await call(t, 'GET', `/api/webhooks/${created.id}`), 404, 'not_found');
      expectError(await call(t, 'DELETE', `/api/webhooks/${created.id}`), 404, 'not_found');
    });

    it('lets viewers read and members and admins manage', async () => {
      const webhook = await create();
      expectError(await call(t, 'POST', '/api/webhooks', { as: 'viewer', body: body() }), 403, 'forbidden');
      expectError(await call(t, 'PATCH', `/api/webhooks/${webhook.id}`, { as: 'viewer', body: { name: 'x' } }), 403, 'forbidden');
      expectError(await call(t, 'POST', `/api/webhooks/${webhook.id}/test`, { as: 'viewer' }), 403, 'forbidden');
      expectError(await call(t, 'POST', `/api/webhooks/${webhook.id}/rotate-secret`, { as: 'viewer' }), 403, 'forbidden');
      expectError(await call(t, 'DELETE', `/api/webhooks/${webhook.id}`, { as: 'viewer' }), 403, 'forbidden');
      expectError(await call(t, 'GET', '/api/webhooks', { as: null }), 401, 'unauthorized');
      expect((await call(t, 'GET', `/api/webhooks/${webhook.id}/deliveries`, { as: 'viewer' })).status).toBe(200);
      expect((await call(t, 'PATCH', `/api/webhooks/${webhook.id}`, { as: 'admin', body: { name: 'By admin' } })).status).toBe(200);
      expect((await call(t, 'POST', '/api/webhooks', { as: 'admin', body: body() })).status).toBe(201);
    });

    it('answers 400 naming the field, and changes nothing', async () => {
      const webhook = await create();
      const cases: [Record<string, unknown>, string][] = [
        [{ name: '  ' }, 'name'],
        [{ url: 'not a url' }, 'url'],
        [{ url: 'ftp://files.example.com/x' }, 'url'],
        [{ events: [] }, 'events'],
        [{ events: ['run.exploded'] }, 'events[0]'],
        [{ agentIds: ['no-such-agent'] }, 'agentIds[0]'],
        [{ agentIds: [] }, 'agentIds'],
        [{ format: 'teams' }, 'format'],
        [{ enabled: 'yes' }, 'enabled'],
        [{ secret: 'whsec_mine' }, 'secret'],
      ];
      for (const [overrides, field] of cases) {
        expectError(await call(t, 'POST', '/api/webhooks', { body: body(overrides) }), 400, 'validation_error', field);
        expectError(await call(t, 'PATCH', `/api/webhooks/${webhook.id}`, { body: overrides }), 400, 'validation_error', field);
      }
      expectError(await call(t, 'POST', '/api/webhooks', { body: { url: receiver.url, events: ['run.failed'] } }), 400, 'validation_error', 'name');
      expectError(await call(t, 'PATCH', `/api/webhooks/${webhook.id}`, { body: {} }), 400, 'validation_error');
      expectError(await call(t, 'GET', `/api/webhooks/${webhook.id}/deliveries?limit=0`), 400, 'validation_error', 'limit');
      const list = await call<{ data: WebhookJson[] }>(t, 'GET', '/api/webhooks');
      expect(list.body.data).toHaveLength(1);
      expect(list.body.data[0]).toEqual((await call<{ data: WebhookJson }>(t, 'GET', `/api/webhooks/${webhook.id}`)).body.data);
      expect(list.body.data[0]).toMatchObject({ name: 'Ops alerts', url: `${receiver.url}/hook`, events: ['run.failed'] });
    });

    it("sends a signed test event, and a run's event, and lists their deliveries", async () => {
      const webhook = await create({ events: ['run.succeeded'] });
      t.app.outbox.start();
      const test = await call<{ data: DeliveryJson }>(t, 'POST', `/api/webhooks/${webhook.id}/test`);
      expect(test.status, test.text).toBe(200);
      expect(Object.keys(test.body.data).sort()).toEqual(DELIVERY_KEYS);
      expect(test.body.data).toMatchObject({ eventType: 'webhook.test', status: 'pending', attempts: 0 });
      const [request] = await receiver.received(1);
      const id = String(request!.headers['webhook-id']);
      const timestamp = String(request!.headers['webhook-timestamp']);
      expect(id).toBe(test.body.data.eventId);
      expect(Number(timestamp)).toBe(Math.floor(t.clock.now() / 1000));
      const key = Buffer.from(webhook.secret.slice('whsec_'.length), 'base64');
      expect(request!.headers['webhook-signature']).toBe(`v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${request!.body}`).digest('base64')}`);
      expect(JSON.parse(request!.body)).toMatchObject({
        type: 'webhook.test',
        data: { webhook: { id: webhook.id, name: 'Ops alerts' }, url: 'https://agents.example.com/' },
      });

      // A second later, so that the log's newest-first order is the order they happened in.
      await t.advance(1_000);
      const agent = await createAgent(t);
      const runId = await triggerRun(t, agent.id);
      await waitForRunnerRuns(t, 1);
      t.runner.runs[0]!.finish({ output: 'report ready' });
      const [, runRequest] = await receiver.received(2);
      expect(JSON.parse(runRequest!.body)).toMatchObject({
        type: 'run.succeeded',
        data: {
          agent: { id: agent.id, name: agent.name },
          run: { id: runId, status: 'success', output: 'report ready' },
          url: `https://agents.example.com/runs/${runId}`,
        },
      });
      const log = await waitFor(async () => {
        const list = await deliveries(webhook.id);
        return list.length === 2 && list.every((d) => d.status === 'delivered') ? list : null;
      }, 'both deliveries to be recorded');
      expect(log.map((d) => d.eventType)).toEqual(['run.succeeded', 'webhook.test']);
      expect(log[0]).toMatchObject({ attempts: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
      expect(log[0]!.deliveredAt).toMatch(ISO);
      expect((await call<{ data: DeliveryJson[] }>(t, 'GET', `/api/webhooks/${webhook.id}/deliveries?limit=1`)).body.data).toHaveLength(1);
    });

    it('retries a failed delivery on request; refuses one that has not failed, and a disabled webhook', async () => {
      receiver.respond = () => ({ status: 500, body: 'down for maintenance' });
      const webhook = await create();
      t.app.outbox.start();
      const test = (await call<{ data: DeliveryJson }>(t, 'POST', `/api/webhooks/${webhook.id}/test`)).body.data;
      expectError(await call(t, 'POST', `/api/webhooks/${webhook.id}/deliveries/${test.id}/retry`), 409, 'conflict');
      // Six attempts, the fake clock moved over each wait.
      for (let attempt = 1; attempt <= 6; attempt++) {
        const seen = await waitFor(async () => (await deliveries(webhook.id)).find((d) => d.attempts === attempt), `attempt ${attempt}`);
        expect(seen.status).toBe(attempt < 6 ? 'pending' : 'failed');
        if (attempt < 6) await t.advance(Math.ceil(BASE_MS * RETRY_FACTORS[attempt - 1]! * 1.1));
      }
      const [failed] = await deliveries(webhook.id);
      expect(failed).toMatchObject({ status: 'failed', attempts: 6, lastStatusCode: 500, lastError: 'HTTP 500: down for maintenance', nextAttemptAt: null });
      expect(receiver.requests).toHaveLength(6);
      receiver.respond = () => ({ status: 202 });
      const retried = await call<{ data: DeliveryJson }>(t, 'POST', `/api/webhooks/${webhook.id}/deliveries/${test.id}/retry`);
      expect(retried.status, retried.text).toBe(200);
      expect(retried.body.data).toMatchObject({ id: test.id, status: 'pending' });
      await waitFor(async () => (await deliveries(webhook.id))[0]!.status === 'delivered', 'the retry to be delivered');
      expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([test.eventId]));
      expectError(await call(t, 'POST', `/api/webhooks/${webhook.id}/deliveries/nope/retry`), 404, 'not_found');
      await call(t, 'PATCH', `/api/webhooks/${webhook.id}`, { body: { enabled: false } });
      expectError(await call(t, 'POST', `/api/webhooks/${webhook.id}/test`), 409, 'conflict');
    });

    it('documents every route in the OpenAPI document', async () => {
      const doc = await call<{ paths: Record<string, Record<string, unknown>> }>(t, 'GET', '/api/openapi.json', { as: null });
      expect(Object.keys(doc.body.paths['/api/webhooks']!).sort()).toEqual(['get', 'post']);
      expect(Object.keys(doc.body.paths['/api/webhooks/{id}']!).sort()).toEqual(['delete', 'get', 'patch']);
      for (const path of ['/api/webhooks/{id}/rotate-secret', '/api/webhooks/{id}/test', '/api/webhooks/{id}/deliveries/{deliveryId}/retry']) {
        expect(Object.keys(doc.body.paths[path]!)).toEqual(['post']);
      }
      expect(Object.keys(doc.body.paths['/api/webhooks/{id}/deliveries']!)).toEqual(['get']);
    });
  });
}

describe('without CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE', () => {
  let t: TestApp;
  useTestApp('each', (app) => {
    t = app;
  });

  it('refuses a URL on a loopback, private or metadata address when it is saved', async () => {
    for (const url of ['http://127.0.0.1:9000/hook', 'http://169.254.169.254/latest', 'http://localhost/hook', 'http://[::1]:80/x']) {
      const response = await call(t, 'POST', '/api/webhooks', { body: { name: 'x', url, events: ['run.failed'] } });
      const error = expectError(response, 400, 'validation_error', 'url');
      expect(error.error.message).toMatch(/CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE/);
    }
    expect(
      (
        await call(t, 'POST', '/api/webhooks', {
          body: { name: 'x', url: 'https://hooks.slack.com/services/T0/B0/x', events: ['run.failed'], format: 'slack' },
        })
      ).status,
    ).toBe(201);
  });
});

import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, signIn, type LaunchedBrowser } from '../support/browser.js';
import { disposeServer, startServerProcess, type ServerProcess } from '../support/server-process.js';
import { WebhookReceiver, type ReceivedRequest } from '../support/webhook-receiver.js';

/**
 * The Notifications page in a real browser against the built server and a local receiver: a
 * webhook is created (its secret shown once), a test event is sent, signed and seen in the
 * delivery log; a failed delivery is retried from the page; an agent's page names the webhooks
 * that cover it; viewers get no controls. The tests run in order and share one service.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');

const MEMBER = 'nora';
const MEMBER_PASSWORD = 'member password 123';
const VIEWER = 'vince';
const VIEWER_PASSWORD = 'viewer password 123';
const AGENT = 'Nightly report';
const OTHER_AGENT = 'Cleanup';
const HOOK = 'Ops alerts';

let server: ServerProcess;
let receiver: WebhookReceiver;
let member: LaunchedBrowser | null = null;
let viewer: LaunchedBrowser | null = null;
let page: Page;
let agentId = '';
let webhookId = '';
let secret = '';
const pageErrors: string[] = [];
const ignore = () => {};

interface DeliveryJson {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
}

/** A full-page picture for a person to look at, without the toasts of the last actions. */
async function shot(p: Page, name: string): Promise<void> {
  const dismiss = p.getByRole('button', { name: 'Dismiss' });
  while ((await dismiss.count()) > 0) await dismiss.first().click({ timeout: 1000 }).catch(ignore);
  await p.evaluate(() => window.scrollTo(0, 0));
  await p.mouse.move(1, 1);
  await p.waitForTimeout(150);
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function addUser(name: string, role: string, password: string): Promise<void> {
  const created = await server.request<{ data: { id: string } }>('POST', '/api/users', { name, role });
  expect(created.status).toBe(200);
  expect((await server.request('PUT', `/api/users/${created.body.data.id}/password`, { password })).status).toBe(200);
}

async function apiData<T>(method: string, urlPath: string, body?: unknown): Promise<T> {
  const response = await server.request<{ data: T }>(method, urlPath, body);
  expect(response.status, `${method} ${urlPath}`).toBe(200);
  return response.body.data;
}

/** Everything the page shows or holds: its markup and the values of its controls. */
async function pageText(p: Page): Promise<string> {
  const values = await p.evaluate(() => [...document.querySelectorAll('input, textarea')].map((control) => (control as HTMLInputElement).value));
  return `${await p.content()}\n${values.join('\n')}`;
}

/** The Standard Webhooks check, written out here from the spec (not the server's own code). */
function signatureValid(request: ReceivedRequest, key: string): boolean {
  const id = String(request.headers['webhook-id']);
  const timestamp = String(request.headers['webhook-timestamp']);
  const expected = createHmac('sha256', Buffer.from(key.replace(/^whsec_/, ''), 'base64'))
    .update(`${id}.${timestamp}.${request.body}`)
    .digest('base64');
  const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
  return fresh && String(request.headers['webhook-signature']).split(' ').includes(`v1,${expected}`);
}

function card(p: Page, name: string) {
  return p.locator(`[data-testid=webhook-card][data-name="${name}"]`);
}

async function fitsWidth(p: Page, width: number): Promise<void> {
  expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  receiver = await WebhookReceiver.start();
  server = await startServerProcess({
    env: { ANTHROPIC_API_KEY: 'sk-ant-test-key', CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE: 'true', CRON_AGENTS_WEBHOOK_RETRY_BASE_MS: '5' },
  });
  await addUser(MEMBER, 'member', MEMBER_PASSWORD);
  await addUser(VIEWER, 'viewer', VIEWER_PASSWORD);
  agentId = (await apiData<{ id: string }>('POST', '/api/agents', { name: AGENT, schedule: '0 3 * * *', prompt: 'Report.' })).id;
  await apiData('POST', '/api/agents', { name: OTHER_AGENT, schedule: '0 4 * * *', prompt: 'Clean up.' });
  member = await launchBrowser();
  await member.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  page = member.context.pages()[0] ?? (await member.context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await signIn(page, server.url, MEMBER, MEMBER_PASSWORD);
}, 90_000);

afterAll(async () => {
  await viewer?.close();
  await member?.close();
  if (server) {
    await disposeServer(server);
  }
  await receiver?.close();
}, 60_000);

describe('the Notifications page', { timeout: 90_000 }, () => {
  it('shows server errors beside their fields', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await page.getByText('No webhooks yet').waitFor();
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await expect.poll(() => page.getByTestId('error-webhook-name').textContent()).toBe('Required: this must not be empty.');
    await page.getByLabel('Name').fill(HOOK);
    await page.getByLabel('URL').fill('ftp://files.example.com/x');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByTestId('error-webhook-url').waitFor();
    expect(await page.getByTestId('error-webhook-name').count()).toBe(0);
    expect(await page.getByLabel('URL').getAttribute('aria-invalid')).toBe('true');
    expect(await apiData<unknown[]>('GET', '/api/webhooks')).toHaveLength(0);
  });

  it('creates a webhook and shows its secret once, with a copy button', async () => {
    await page.getByLabel('URL').fill(`${receiver.url}/hook`);
    await page.getByLabel('Run succeeded').check();
    await page.getByLabel('Selected agents').check();
    await page.getByRole('group', { name: 'Agents to cover' }).getByLabel(AGENT).check();
    await page.getByRole('button', { name: 'Create webhook' }).click();

    const reveal = page.getByTestId('secret-reveal');
    await reveal.waitFor();
    expect(await reveal.textContent()).toContain('you will not see it again');
    secret = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('secret-reveal');
    await reveal.getByRole('button', { name: 'Copy' }).click();
    await reveal.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);

    const [webhook] = await apiData<{ id: string; events: string[]; agentIds: string[] | null; format: string }[]>('GET', '/api/webhooks');
    expect(webhook).toMatchObject({ events: ['run.succeeded', 'run.failed'], agentIds: [agentId], format: 'standard' });
    webhookId = webhook!.id;
    const item = card(page, HOOK);
    expect(await item.getByTestId('webhook-agents').textContent()).toBe(AGENT);
    expect(await item.textContent()).toContain(`${receiver.url}/hook`);
    await shot(page, 'notifications-secret');

    await reveal.getByRole('button', { name: 'I have saved it' }).click();
    expect(await reveal.count()).toBe(0);
    await page.reload();
    await card(page, HOOK).waitFor();
    expect(await page.getByTestId('secret-reveal').count()).toBe(0);
    expect(await pageText(page)).not.toContain(secret);
  });

  it('sends a test event: signed, received once, and shown as delivered in the log', async () => {
    const item = card(page, HOOK);
    await item.getByRole('button', { name: `Send test to ${HOOK}` }).click();
    const row = item.getByTestId('delivery-row').first();
    await row.locator('[data-status=delivered]').waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('webhook.test');
    expect(await row.textContent()).toContain('HTTP 200');

    const [request] = await receiver.received(1);
    expect(receiver.requests).toHaveLength(1);
    expect(request!.path).toBe('/hook');
    expect(signatureValid(request!, secret)).toBe(true);
    expect(JSON.parse(request!.body)).toMatchObject({ type: 'webhook.test' });
    const [delivery] = await apiData<DeliveryJson[]>('GET', `/api/webhooks/${webhookId}/deliveries`);
    expect(delivery).toMatchObject({ eventType: 'webhook.test', status: 'delivered', eventId: request!.headers['webhook-id'] });
    await shot(page, 'notifications');
  });

  it('retries a failed delivery from the log', async () => {
    receiver.respond = () => ({ status: 500, body: 'down for maintenance' });
    const item = card(page, HOOK);
    await item.getByRole('button', { name: `Send test to ${HOOK}` }).click();
    // Six attempts on a 5 ms base: failed within a few seconds.
    const failed = item.locator('[data-testid=delivery-row][data-status=failed]');
    await failed.waitFor({ timeout: 30_000 });
    expect(await failed.textContent()).toContain('HTTP 500');
    await shot(page, 'notifications-failed');

    receiver.respond = () => ({ status: 204 });
    const before = receiver.requests.length;
    await failed.getByRole('button', { name: 'Retry webhook.test delivery' }).click();
    await expect.poll(() => item.getByTestId('delivery-row').first().getAttribute('data-status'), { timeout: 15_000 }).toBe('delivered');
    expect(receiver.requests.length).toBe(before + 1);
    expect(signatureValid(receiver.requests.at(-1)!, secret)).toBe(true);
  });

  it('says why the service disabled a webhook (410 Gone), and turns it off and on with its switch', async () => {
    receiver.respond = () => ({ status: 410, body: 'gone' });
    const item = card(page, HOOK);
    await item.getByRole('button', { name: `Send test to ${HOOK}` }).click();
    const reason = item.getByTestId('disabled-reason');
    await reason.waitFor({ timeout: 15_000 });
    expect(await reason.textContent()).toContain('Disabled by the service');
    const toggle = page.getByRole('switch', { name: `Enabled: ${HOOK}` });
    expect(await toggle.isChecked()).toBe(false);
    await shot(page, 'notifications-disabled');

    receiver.respond = () => ({ status: 200, body: 'ok' });
    await toggle.check();
    await expect.poll(async () => (await apiData<{ enabled: boolean }>('GET', `/api/webhooks/${webhookId}`)).enabled).toBe(true);
    await expect.poll(() => reason.count()).toBe(0);
    await toggle.uncheck();
    await expect.poll(async () => (await apiData<{ enabled: boolean }>('GET', `/api/webhooks/${webhookId}`)).enabled).toBe(false);
    await toggle.check();
    await expect.poll(async () => (await apiData<{ enabled: boolean }>('GET', `/api/webhooks/${webhookId}`)).enabled).toBe(true);
  });

  it("names the webhooks that cover an agent on the agent's page", async () => {
    await page.goto(`${server.url}/agents/${agentId}`);
    const covering = page.getByTestId('agent-webhooks');
    await covering.getByRole('link', { name: HOOK }).waitFor();
    expect(await covering.textContent()).toContain('run.succeeded, run.failed');
    await covering.scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(SHOTS, 'agent-webhooks.png'), clip: (await covering.boundingBox())! });
    await covering.getByRole('link', { name: HOOK }).click();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    expect(new URL(page.url()).hash).toBe(`#webhook-${webhookId}`);

    const other = (await apiData<{ id: string; name: string }[]>('GET', '/api/agents')).find((a) => a.name === OTHER_AGENT)!;
    await page.goto(`${server.url}/agents/${other.id}`);
    await expect.poll(() => page.getByTestId('agent-webhooks').textContent()).toContain('No webhook sends this agent');
  });

  it('fits a 390 px wide screen', async () => {
    await page.goto(`${server.url}/notifications`);
    await card(page, HOOK).getByRole('button', { name: 'Delivery log' }).click();
    await card(page, HOOK).getByTestId('delivery-log').waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await fitsWidth(page, 390);
      await shot(page, 'notifications-390');
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  it('shows viewers the webhooks and their log, without controls', async () => {
    viewer = await launchBrowser();
    const p = viewer.context.pages()[0] ?? (await viewer.context.newPage());
    p.on('pageerror', (error) => pageErrors.push(error.message));
    await signIn(p, server.url, VIEWER, VIEWER_PASSWORD);
    await p.goto(`${server.url}/notifications`);
    const item = card(p, HOOK);
    await item.waitFor();
    await item.getByRole('button', { name: 'Delivery log' }).click();
    await item.getByTestId('delivery-log').waitFor();
    expect(await p.getByRole('switch').count()).toBe(0);
    expect(await p.getByRole('button', { name: /Send test|Rotate secret|Delete|Retry|Create webhook/ }).count()).toBe(0);
    expect(await item.textContent()).toContain('On');
    await shot(p, 'notifications-viewer');
  });

  it('rotates the secret (shown once) and deletes the webhook after confirmation', async () => {
    await page.goto(`${server.url}/notifications`);
    await page.getByRole('button', { name: `Rotate secret of ${HOOK}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByTestId('secret-reveal').waitFor();
    const rotated = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);

    await page.getByRole('button', { name: `Delete ${HOOK}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(await apiData<unknown[]>('GET', '/api/webhooks')).toHaveLength(1);
    await page.getByRole('button', { name: `Delete ${HOOK}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete webhook' }).click();
    await page.getByText('No webhooks yet').waitFor();
    expect(await apiData<unknown[]>('GET', '/api/webhooks')).toHaveLength(0);
    expect(pageErrors).toEqual([]);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type LaunchedBrowser } from '../support/browser.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * The interactive API reference (/api/docs) in a real browser, against the built server: it
 * renders every area of the API without signing in, under the dashboard's strict
 * Content-Security-Policy, and nothing on it is refused by that policy.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/serve-with-fake-runner.mjs');
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');

let server: ServerProcess;
let browser: LaunchedBrowser;

beforeAll(async () => {
  server = await startServerProcess({ script: FIXTURE });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
});

describe('the API reference at /api/docs', { timeout: 60_000 }, () => {
  it('renders the operations without a token and without a CSP violation', async () => {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    // The browser reports every violation as an event on the document, whatever the console says.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`));
    });

    const response = await page.goto(`${server.url}/api/docs`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });

    const title = await page.locator('.info .title').first().innerText();
    expect(title).toContain('cron-agents');
    for (const tag of ['agents', 'runs', 'stats', 'webhooks', 'access', 'session']) {
      await expect(page.locator(`.opblock-tag[data-tag="${tag}"]`).count()).resolves.toBe(1);
    }
    // Operations are shown with their ids, the names a generated client gives them.
    await expect(page.getByText('createAgent', { exact: true }).count()).resolves.toBeGreaterThan(0);
    // The security schemes are offered for "Authorize".
    await expect(page.locator('.btn.authorize').count()).resolves.toBe(1);

    fs.mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SHOTS, 'api-docs.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('"Try it out" reaches the API on the same origin with a bearer token', async () => {
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) problems.push(message.text());
    });
    await server.request('POST', '/api/agents', { name: 'Seen from the docs', prompt: 'p', schedule: '0 9 * * *' });
    await page.goto(`${server.url}/api/docs`);

    await page.locator('.btn.authorize').click();
    const bearer = page.locator('.auth-container').filter({ has: page.locator('#auth-bearer-value') });
    await bearer.locator('#auth-bearer-value').fill(server.token);
    await bearer.getByRole('button', { name: 'Apply credentials' }).click();
    await page.getByRole('button', { name: 'Remove authorization' }).first().waitFor();
    await page.locator('.modal-ux .btn-done').first().click();

    const list = page.locator('#operations-agents-listAgents');
    await list.locator('.opblock-summary').click();
    await list.getByRole('button', { name: 'Try it out' }).click();
    await list.getByRole('button', { name: 'Execute' }).click();
    const status = list.locator('.live-responses-table tr.response .response-col_status').first();
    await expect.poll(async () => (await status.innerText()).trim(), { timeout: 10_000 }).toBe('200');
    await expect(list.locator('.live-responses-table .microlight').first().innerText()).resolves.toContain('Seen from the docs');
    expect(problems).toEqual([]);
    await page.close();
  });
});

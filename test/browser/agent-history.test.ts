import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, signIn, type LaunchedBrowser } from '../support/browser.js';
import { disposeServer, startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';

/**
 * An agent's History tab in a real browser against the built server (with the fake runner of
 * test/fixtures: runs take 200 ms and call no model): its versions, the prompt's diff between two
 * of them, the other changed fields, the runs of each version, the audit trail, and the run
 * history's links to the version each run ran.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const FAKE_RUNNER = path.join(ROOT, 'test/fixtures/serve-with-fake-runner.mjs');

const MEMBER = 'hana';
const PASSWORD = 'member password 123';
const FIRST_PROMPT = ['Read the open issues.', 'Group them by label.', 'Write a short summary.'].join('\n');
const SECOND_PROMPT = ['Read the open issues.', 'Group them by label and by owner.', 'Write a short summary.', 'End with the three oldest issues.'].join('\n');

let server: ServerProcess;
let browser: LaunchedBrowser | null = null;
let page: Page;
let agentId = '';
const pageErrors: string[] = [];

async function apiData<T>(method: string, urlPath: string, body?: unknown): Promise<T> {
  const response = await server.request<{ data: T }>(method, urlPath, body);
  expect(response.status, `${method} ${urlPath}`).toBe(200);
  return response.body.data;
}

/** Runs the agent now and waits until the run has ended. */
async function runOnce(): Promise<void> {
  const { runId } = (await server.request<{ runId: string }>('POST', `/api/agents/${agentId}/run`)).body;
  await waitFor(
    async () => ((await apiData<{ status: string }>('GET', `/api/runs/${runId}`)).status === 'success' ? true : undefined),
    20_000,
    'the run to end',
  );
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startServerProcess({ script: FAKE_RUNNER });
  const user = await apiData<{ id: string }>('POST', '/api/users', { name: MEMBER, role: 'member' });
  await apiData('PUT', `/api/users/${user.id}/password`, { password: PASSWORD });
  agentId = (await apiData<{ id: string }>('POST', '/api/agents', { name: 'Issue digest', schedule: '0 6 * * *', prompt: FIRST_PROMPT })).id;
  await runOnce();
  await apiData('PATCH', `/api/agents/${agentId}`, { prompt: SECOND_PROMPT, model: 'claude-sonnet-4-5', maxTurns: 20 });
  await runOnce();
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await signIn(page, server.url, MEMBER, PASSWORD);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (server) {
    await disposeServer(server);
  }
}, 60_000);

describe("an agent's history", { timeout: 60_000 }, () => {
  it('shows the versions, the prompt diff and the other changes of the newest one, and its runs', async () => {
    await page.goto(`${server.url}/agents/${agentId}`);
    await page.getByRole('heading', { name: 'Issue digest' }).waitFor();
    await page.getByRole('navigation', { name: 'Agent sections' }).getByRole('link', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'Versions' }).waitFor();
    const items = page.getByTestId('version-item');
    await expect.poll(() => items.count()).toBe(2);
    expect(await items.first().textContent()).toContain('Version 2');
    expect(await items.first().textContent()).toContain('Current');
    expect(await items.first().getAttribute('aria-pressed')).toBe('true');
    expect(await items.first().textContent()).toContain('Changed: Prompt, Max turns, Model');

    const diff = page.getByTestId('prompt-diff');
    expect(await diff.locator('.diff-removed').allTextContents()).toEqual(['−Removed: Group them by label.']);
    expect(await diff.locator('.diff-added').allTextContents()).toEqual([
      '+Added: Group them by label and by owner.',
      '+Added: End with the three oldest issues.',
    ]);
    expect(await diff.locator('.diff-same').count()).toBe(2);
    const changes = page.getByRole('table', { name: 'Other changes since version 1' });
    expect(await changes.getByRole('row', { name: /Model/ }).textContent()).toContain('claude-sonnet-4-5');
    expect(await changes.getByRole('row', { name: /Max turns/ }).textContent()).toMatch(/50.*20/);
    expect(await page.getByTestId('version-runs').locator('li').count()).toBe(1);

    // The trail: the admin's change, with the fields it changed.
    const entries = page.getByTestId('audit-entry');
    await expect.poll(() => entries.count()).toBeGreaterThanOrEqual(4);
    expect(await page.locator('[data-testid=audit-entry][data-action="agent.update"]').textContent()).toMatch(
      /admin changed prompt, max turns, model \(version 2\)/,
    );
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SHOTS, 'agent-history.png'), fullPage: true });
  });

  it('shows the first version on its own, and leads from a run to the version it ran', async () => {
    await page.getByTestId('version-item').nth(1).click();
    await expect.poll(() => page.getByTestId('version-detail').getAttribute('aria-label')).toBe('Version 1');
    expect(new URL(page.url()).searchParams.get('version')).toBe('1');
    expect(await page.getByTestId('version-detail').textContent()).toContain('The first version: nothing to compare it with.');
    expect(await page.getByTestId('prompt-diff').count()).toBe(0);

    await page.getByRole('navigation', { name: 'Agent sections' }).getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Run history' }).waitFor();
    const versionLinks = page.getByRole('table', { name: 'Run history' }).getByRole('link', { name: /^Version \d of the agent/ });
    await expect.poll(() => versionLinks.allTextContents()).toEqual(['v2', 'v1']);
    await versionLinks.last().click();
    await expect.poll(() => page.getByTestId('version-detail').getAttribute('aria-label')).toBe('Version 1');
    expect(await page.getByTestId('version-item').nth(1).getAttribute('aria-pressed')).toBe('true');
    expect(pageErrors).toEqual([]);
  });
});

import fs from 'node:fs';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, signIn, type LaunchedBrowser } from '../support/browser.js';
import { disposeServer, startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * The agent form's Advanced section (run options) and the agent page's write-only secrets, in a
 * real browser against the built server. No run is started: what is tested is what the dashboard
 * sends, shows and never shows. The tests run in order and share one service and one member.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');

const MEMBER = 'mona';
const MEMBER_PASSWORD = 'member password 123';
const VIEWER = 'vera';
const VIEWER_PASSWORD = 'viewer password 123';
const AGENT = 'Docs helper';
const SECRET_VALUE = 'first-s3cret-value-7f3a9';
const REPLACED_VALUE = 'second-s3cret-value-0b1c2';
const KEPT_VALUE = 'kept-s3cret-value-5d6e7';

const MCP_JSON = JSON.stringify(
  { docs: { type: 'http', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer ${secret:DOCS_TOKEN}' } } },
  null,
  2,
);

let server: ServerProcess;
let member: LaunchedBrowser | null = null;
let viewer: LaunchedBrowser | null = null;
let page: Page;
let agentId = '';
const pageErrors: string[] = [];
/** Writes the member's page sent to the API (method and path), but the schedule previews the form asks for. */
const writes: string[] = [];
/** Every API answer the member's page received, to look for a secret's value in. */
const answers: string[] = [];

const ignore = () => {};

/**
 * A picture for a person to look at: the page, or one part of it cut from the full page (an
 * element's own screenshot would be stitched while scrolling, the sticky top bar in its middle).
 */
async function shot(p: Page, name: string, part?: Locator): Promise<void> {
  // The toasts of the last actions would cover what the picture is of (one may go by itself meanwhile).
  const dismiss = p.getByRole('button', { name: 'Dismiss' });
  while ((await dismiss.count()) > 0) await dismiss.first().click({ timeout: 1000 }).catch(ignore);
  await p.evaluate(() => window.scrollTo(0, 0));
  await p.mouse.move(1, 1);
  await p.waitForTimeout(150);
  const clip = part ? await part.boundingBox() : null;
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, ...(clip ? { clip } : {}) });
}

async function addUser(name: string, role: string, password: string): Promise<void> {
  const created = await server.request<{ data: { id: string } }>('POST', '/api/users', { name, role });
  expect(created.status).toBe(200);
  expect((await server.request('PUT', `/api/users/${created.body.data.id}/password`, { password })).status).toBe(200);
}

async function apiData<T>(method: string, urlPath: string): Promise<T> {
  const response = await server.request<{ data: T }>(method, urlPath);
  expect(response.status, `${method} ${urlPath}`).toBe(200);
  return response.body.data;
}

/** Everything the page shows or holds: its markup and the values of its controls. */
async function pageText(p: Page): Promise<string> {
  const values = await p.evaluate(() => [...document.querySelectorAll('input, textarea, select')].map((control) => (control as HTMLInputElement).value));
  return `${await p.content()}\n${values.join('\n')}`;
}

function advanced(p: Page) {
  return p.getByTestId('advanced-section');
}

function secretRow(p: Page, name: string) {
  return p.locator(`[data-testid=secret-row][data-name=${name}]`);
}

async function fitsWidth(p: Page, width: number): Promise<void> {
  expect(await p.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startServerProcess({ env: { ANTHROPIC_API_KEY: 'sk-ant-test-key' } });
  await addUser(MEMBER, 'member', MEMBER_PASSWORD);
  await addUser(VIEWER, 'viewer', VIEWER_PASSWORD);
  member = await launchBrowser();
  page = member.context.pages()[0] ?? (await member.context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/') && url.pathname !== '/api/schedules/preview' && request.method() !== 'GET')
      writes.push(`${request.method()} ${url.pathname}`);
  });
  page.on('response', (response) => {
    if (new URL(response.url()).pathname.startsWith('/api/'))
      void response.text().then(
        (text) => answers.push(text),
        () => {},
      );
  });
  await signIn(page, server.url, MEMBER, MEMBER_PASSWORD);
}, 90_000);

afterAll(async () => {
  await viewer?.close();
  await member?.close();
  if (server) {
    await disposeServer(server);
  }
}, 60_000);

describe('run options and secrets in the dashboard', { timeout: 90_000 }, () => {
  it('checks MCP servers JSON as it is typed, and sends nothing while it is wrong', async () => {
    await page.goto(`${server.url}/agents/new`);
    await page.getByRole('heading', { name: 'New agent' }).waitFor();
    // Folded away at first: the common agent is a short form.
    expect(await advanced(page).getAttribute('open')).toBeNull();
    expect(await page.getByLabel('MCP servers').isVisible()).toBe(false);
    await page.getByLabel('Name', { exact: true }).fill(AGENT);
    await page.getByLabel('Prompt', { exact: true }).fill('Answer questions from the docs.');
    await advanced(page).locator('summary').click();
    const mcp = page.getByLabel('MCP servers');
    await mcp.waitFor();

    // Broken JSON: the error is beside the field at once, before any save.
    await mcp.fill('{"docs": {"type": "http", "url": "https://mcp.example.com"');
    const error = page.getByTestId('error-agent-mcp-servers');
    await expect.poll(() => error.textContent()).toMatch(/^Not valid JSON: /);
    expect(await mcp.getAttribute('aria-invalid')).toBe('true');
    expect((await mcp.getAttribute('aria-describedby'))?.split(' ')).toContain('agent-mcp-servers-error');
    // Well-formed JSON that breaks a rule of the server's: named by server and setting.
    await mcp.fill('{"docs": {"type": "http", "url": "ftp://mcp.example.com"}}');
    await expect.poll(() => error.textContent()).toBe('docs.url: must be an http:// or https:// URL.');
    await mcp.fill('["docs"]');
    await expect.poll(() => error.textContent()).toMatch(/^Must be a JSON object/);
    await shot(page, 'agent-form-advanced-error', advanced(page));

    const before = writes.length;
    await page.getByRole('button', { name: 'Create agent' }).click();
    await expect.poll(() => page.getByTestId('form-errors').textContent()).toContain('MCP servers: Must be a JSON object');
    expect(writes.slice(before)).toEqual([]);
    expect(await apiData<unknown[]>('GET', '/api/agents')).toEqual([]);

    // A valid box says what it holds, and the error goes.
    await mcp.fill(MCP_JSON);
    await expect.poll(() => page.getByTestId('mcp-servers-summary').textContent()).toBe('1 server: docs (http)');
    expect(await error.count()).toBe(0);
    expect(await mcp.getAttribute('aria-invalid')).toBeNull();
  });

  it("shows the server's refusals beside the workspace and MCP fields they name", async () => {
    // A host folder: this service allows none (CRON_AGENTS_ALLOWED_HOST_PATHS is unset).
    await page.getByLabel('A folder of this machine').check();
    await page.getByLabel('Folder', { exact: true }).fill('/srv/projects');
    expect(await page.getByLabel('Read-only: runs may read the folder but not change it').isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Create agent' }).click();
    await expect
      .poll(() => page.getByTestId('error-agent-host-path').textContent())
      .toMatch(/^Host folders are not allowed here: the operator has not set CRON_AGENTS_ALLOWED_HOST_PATHS\.$/);
    expect(await page.getByLabel('Folder', { exact: true }).getAttribute('aria-invalid')).toBe('true');

    // A stdio server, which only admins may define: 403 naming mcpServers.files.
    await page.getByLabel("The agent's own folder").check();
    const withStdio = JSON.stringify({ ...(JSON.parse(MCP_JSON) as object), files: { type: 'stdio', command: 'npx', args: ['files-mcp'] } });
    await page.getByLabel('MCP servers').fill(withStdio);
    await page.getByRole('button', { name: 'Create agent' }).click();
    await expect.poll(() => page.getByTestId('error-agent-mcp-servers').textContent()).toContain('files: only admins may define or change a stdio MCP server');
    expect(await page.getByTestId('error-agent-host-path').count()).toBe(0);
    expect(await apiData<unknown[]>('GET', '/api/agents')).toEqual([]);
  });

  it('creates an agent with advanced fields that read back the same after a reload', async () => {
    await page.getByLabel('MCP servers').fill(MCP_JSON);
    await page.getByLabel('A git repository').check();
    await page.getByLabel('Repository URL').fill('https://github.com/example/docs.git');
    await page.getByLabel('Branch, tag or commit').fill('main');
    await page.getByLabel('Depth').fill('1');
    await page.getByLabel('Disallowed tools').fill('Bash(rm:*)');
    await page.getByLabel('Allowed domains').fill('example.com\n*.GitHub.com');
    await page.getByLabel('System prompt').fill('Cite the page you answer from.');
    await page.getByLabel('Effort').selectOption('high');
    await page.getByLabel('Fallback model').fill('claude-haiku-4-5');
    await shot(page, 'agent-form-advanced', advanced(page));
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await fitsWidth(page, 390);
      await shot(page, 'agent-form-advanced-390', advanced(page));
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }

    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByRole('heading', { name: AGENT }).waitFor();
    const [agent] = await apiData<Record<string, unknown>[]>('GET', '/api/agents');
    agentId = String(agent?.id);
    expect(agent).toMatchObject({
      workspace: { git: { url: 'https://github.com/example/docs.git', ref: 'main', depth: 1 } },
      mcpServers: JSON.parse(MCP_JSON) as object,
      disallowedTools: ['Bash(rm:*)'],
      allowedDomains: ['example.com', '*.github.com'],
      systemPrompt: 'Cite the page you answer from.',
      effort: 'high',
      fallbackModel: 'claude-haiku-4-5',
    });

    await page.reload();
    await page.getByRole('heading', { name: AGENT }).waitFor();
    expect(await page.getByTestId('agent-workspace').textContent()).toContain('https://github.com/example/docs.git · main · depth 1');
    expect(await page.getByTestId('agent-mcp-servers').textContent()).toBe('docs (http)');
    expect(await page.getByTestId('agent-allowed-domains').textContent()).toBe('example.com*.github.com');
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: `Edit ${AGENT}` }).waitFor();
    expect(await advanced(page).locator('summary').textContent()).toContain(
      'In use: git workspace, MCP servers, disallowed tools, allowed domains, system prompt, effort, fallback model',
    );
    await advanced(page).locator('summary').click();
    expect(await page.getByLabel('A git repository').isChecked()).toBe(true);
    expect(await page.getByLabel('Repository URL').inputValue()).toBe('https://github.com/example/docs.git');
    expect(await page.getByLabel('Branch, tag or commit').inputValue()).toBe('main');
    expect(await page.getByLabel('Depth').inputValue()).toBe('1');
    expect(JSON.parse(await page.getByLabel('MCP servers').inputValue())).toEqual(JSON.parse(MCP_JSON));
    expect(await page.getByLabel('Allowed domains').inputValue()).toBe('example.com\n*.github.com');
    expect(await page.getByLabel('Effort').inputValue()).toBe('high');
    expect(await page.getByLabel('Fallback model').inputValue()).toBe('claude-haiku-4-5');

    // Saved untouched, nothing is sent; one change sends that field alone.
    const before = writes.length;
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: AGENT }).waitFor();
    expect(writes.slice(before)).toEqual([]);
    await page.getByRole('link', { name: 'Edit' }).click();
    await advanced(page).locator('summary').click();
    await page.getByLabel('Effort').selectOption('');
    const patch = page.waitForRequest((request) => request.method() === 'PATCH');
    await page.getByRole('button', { name: 'Save changes' }).click();
    expect((await patch).postDataJSON()).toEqual({ effort: null });
    await page.getByRole('heading', { name: AGENT }).waitFor();
  });

  it('sets, replaces and deletes a secret without ever showing its value', async () => {
    const secrets = page.getByTestId('secrets');
    await secrets.getByText('This agent has no secrets.').waitFor();
    const name = page.getByLabel('Name', { exact: true });
    const value = page.getByLabel('Value', { exact: true });
    expect(await value.getAttribute('type')).toBe('password');

    // A reserved name is refused beside the name, before anything is sent.
    const before = writes.length;
    await name.fill('PATH');
    await value.fill(SECRET_VALUE);
    await page.getByRole('button', { name: 'Add secret' }).click();
    await expect.poll(() => page.getByTestId('error-secret-name').textContent()).toContain('PATH is reserved');
    expect(await name.getAttribute('aria-invalid')).toBe('true');
    expect(writes.slice(before)).toEqual([]);

    await name.fill('DOCS_TOKEN');
    await page.getByRole('button', { name: 'Add secret' }).click();
    await secretRow(page, 'DOCS_TOKEN').waitFor();
    expect(await secretRow(page, 'DOCS_TOKEN').locator('.list-main').textContent()).toMatch(/^DOCS_TOKENset (just now|in a few seconds|\d+ seconds? ago)$/);
    expect(await value.inputValue()).toBe('');
    expect(await name.inputValue()).toBe('');
    expect(await pageText(page)).not.toContain(SECRET_VALUE);

    // Replace: the name is filled in and the value box focused.
    await page.getByRole('button', { name: 'Replace DOCS_TOKEN' }).click();
    expect(await name.inputValue()).toBe('DOCS_TOKEN');
    expect(await value.evaluate((input) => input === document.activeElement)).toBe(true);
    await page.keyboard.type(REPLACED_VALUE);
    await page.keyboard.press('Enter');
    await page.getByText('Replaced secret DOCS_TOKEN').waitFor();
    expect(await value.inputValue()).toBe('');
    expect(await page.getByTestId('secret-row').count()).toBe(1);

    // Delete, after confirming (a cancelled dialog deletes nothing).
    await page.getByRole('button', { name: 'Delete DOCS_TOKEN' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete secret DOCS_TOKEN?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await apiData<{ name: string }[]>('GET', `/api/agents/${agentId}/secrets`)).toHaveLength(1);
    await page.getByRole('button', { name: 'Delete DOCS_TOKEN' }).click();
    await dialog.getByRole('button', { name: 'Delete secret' }).click();
    await secrets.getByText('This agent has no secrets.').waitFor();
    expect(await apiData<unknown[]>('GET', `/api/agents/${agentId}/secrets`)).toEqual([]);

    // Two kept for the viewer and the pictures.
    for (const [secretName, secretValue] of [
      ['DOCS_TOKEN', KEPT_VALUE],
      ['SLACK_WEBHOOK_URL', KEPT_VALUE],
    ] as const) {
      await name.fill(secretName);
      await value.fill(secretValue);
      await page.getByRole('button', { name: 'Add secret' }).click();
      await secretRow(page, secretName).waitFor();
    }
    for (const secretValue of [SECRET_VALUE, REPLACED_VALUE, KEPT_VALUE]) {
      expect(await pageText(page)).not.toContain(secretValue);
      expect(answers.filter((answer) => answer.includes(secretValue))).toEqual([]);
    }
    await shot(page, 'agent-secrets', secrets);
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await fitsWidth(page, 390);
      await shot(page, 'agent-secrets-390', secrets);
      await shot(page, 'agent-page-390');
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  it('shows a viewer the names of the secrets and no control to change them', async () => {
    viewer = await launchBrowser();
    const vpage = viewer.context.pages()[0] ?? (await viewer.context.newPage());
    vpage.on('pageerror', (error) => pageErrors.push(error.message));
    await signIn(vpage, server.url, VIEWER, VIEWER_PASSWORD);
    await vpage.goto(`${server.url}/agents/${agentId}`);
    await vpage.getByRole('heading', { name: AGENT }).waitFor();
    await secretRow(vpage, 'SLACK_WEBHOOK_URL').waitFor();
    expect(await vpage.getByTestId('secret-row').count()).toBe(2);
    const secrets = vpage.getByTestId('secrets');
    expect(await secrets.getByRole('button').count()).toBe(0);
    expect(await secrets.locator('input, form').count()).toBe(0);
    expect(await pageText(vpage)).not.toContain(KEPT_VALUE);
    await viewer.close();
    viewer = null;
  });

  it('raised no script error', () => {
    expect(pageErrors).toEqual([]);
  });
});

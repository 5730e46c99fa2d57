import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fake-anthropic/fake-anthropic-server.js';
import { launchBrowser, signIn, type LaunchedBrowser } from '../support/browser.js';
import { disposeServer, processesMatching, runCli, startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';

/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against the real
 * server (the built dist/cli.js), the real Agent SDK and the fake model server. The tests run in
 * order and share one service: each picks up where the previous one left off, as a person would.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');

const MEMBER = 'mia';
const VIEWER = 'victor';
const VIEWER_PASSWORD = 'viewer password 123';
const DIGEST = 'Daily digest';
const DIGEST_PROMPT =
  'Summarise what changed yesterday. [[fake: delay_ms=2500 text="## Summary\\n\\n- **3** commits merged\\n- all tests pass\\n\\n<script>alert(1)</script> <img src=x onerror=alert(2)>"]]';
const EDITED_PROMPT = 'Summarise again, briefly. [[fake: text="Edited answer: *nothing* new"]]';

let fake: FakeAnthropic;
let server: ServerProcess;
let memberPassword: string;
let member: LaunchedBrowser | null = null;
let viewer: LaunchedBrowser | null = null;
let page: Page;
const pageErrors: string[] = [];
const dialogs: string[] = [];

/** A full-page screenshot from the top, for a person to look at. */
async function screenshot(p: Page, name: string): Promise<void> {
  await p.evaluate(() => window.scrollTo(0, 0));
  // No hover effect in the picture: the pointer rests on the empty corner of the top bar.
  await p.mouse.move(1, 1);
  await p.waitForTimeout(150);
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

function watch(p: Page): void {
  p.on('pageerror', (error) => pageErrors.push(error.message));
  p.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
}

/** Follows a link of the main navigation (the breadcrumb has an "Agents" link too). */
function navTo(p: Page, name: 'Overview' | 'Agents') {
  return p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
}

function agentRow(p: Page, name: string) {
  return p.getByTestId('agent-row').filter({ has: p.getByRole('link', { name, exact: true }) });
}

/** An agent and a run, as far as these tests read them from the API. */
interface AgentJson {
  id: string;
  name: string;
  enabled: boolean;
}
interface RunJson {
  queuedAt: string;
  status: string;
}

/** The `data` of a successful API answer (asked as the admin), typed as the test reads it. */
async function apiData<T>(method: string, urlPath: string, body?: unknown): Promise<T> {
  const response: { status: number; body: unknown } = await server.request(method, urlPath, body);
  expect(response.status, `${method} ${urlPath}`).toBe(200);
  return (response.body as { data: T }).data;
}

async function agentId(name: string): Promise<string> {
  const agent = (await apiData<AgentJson[]>('GET', '/api/agents')).find((a) => a.name === name);
  if (!agent) throw new Error(`no agent named ${name}`);
  return agent.id;
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  fake = await startFakeAnthropic();
  server = await startServerProcess({ env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-test-key', CRON_AGENTS_MAX_CONCURRENT_RUNS: '4' } });
  // A member with a password from the CLI, as an operator would make one (stdin is not a
  // terminal here, so the CLI generates the password and prints it alone on stdout).
  const created = await runCli(['user', 'add', MEMBER, '--role', 'member', '--password'], { CRON_AGENTS_DATA_DIR: server.dataDir });
  expect(created.code, created.stderr).toBe(0);
  memberPassword = created.stdout.trim();
  expect(memberPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
  // A viewer through the admin API.
  const user = await apiData<{ id: string }>('POST', '/api/users', { name: VIEWER, role: 'viewer' });
  expect((await server.request('PUT', `/api/users/${user.id}/password`, { password: VIEWER_PASSWORD })).status).toBe(200);
  member = await launchBrowser();
  page = member.context.pages()[0] ?? (await member.context.newPage());
  watch(page);
}, 90_000);

afterAll(async () => {
  await viewer?.close();
  await member?.close();
  if (server) {
    await disposeServer(server);
  }
  await fake?.close();
}, 60_000);

describe('the dashboard in a browser', { timeout: 90_000 }, () => {
  it('shows the sign-in page, refuses a wrong password, and signs in with the keyboard', async () => {
    const started = Date.now();
    await page.goto(`${server.url}/agents`);
    await page.getByLabel('User name').waitFor();
    const loadMs = Date.now() - started;
    await screenshot(page, 'sign-in');
    expect(await page.title()).toBe('Sign in · cron-agents');

    await page.getByLabel('User name').fill(MEMBER);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong user name or password');

    // Keyboard only: the user name field has focus, Tab moves to the password, Enter submits.
    await page.getByLabel('User name').fill('');
    await page.getByLabel('User name').focus();
    await page.keyboard.type(MEMBER);
    await page.keyboard.press('Tab');
    await page.keyboard.type(memberPassword);
    await page.keyboard.press('Enter');
    // Signed in, the page asked for (/agents) is shown.
    await page.getByRole('heading', { name: 'Agents', exact: true }).waitFor();
    expect(await page.getByTestId('user-name').textContent()).toBe(MEMBER);
    const cookies = await member!.context.cookies(server.url + '/api');
    const session = cookies.find((c) => c.name === 'cron_agents_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    // The page script cannot read the session cookie.
    expect(await page.evaluate(() => document.cookie)).not.toContain('cron_agents_session');

    // What keeps the first page fast, asserted as what happened (the times are only reported: on a
    // busy machine they say more about the machine): a reload shows the overview's figures from one
    // script and one stylesheet; the Markdown renderer loads on first use, not before.
    await page.goto(`${server.url}/`);
    const reloadStarted = Date.now();
    await page.reload();
    await page.getByTestId('stat-agents').waitFor();
    const interactiveMs = Date.now() - reloadStarted;
    const timing = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventEnd);
    console.log(
      `sign-in page shown after ${loadMs} ms (cold browser); overview with data after ${interactiveMs} ms; DOMContentLoaded at ${Math.round(timing)} ms`,
    );
    const assets = await page.evaluate(() =>
      performance
        .getEntriesByType('resource')
        .map((entry) => new URL(entry.name).pathname)
        .filter((p) => p.startsWith('/assets/')),
    );
    expect(assets.filter((p) => p.endsWith('.js'))).toHaveLength(1);
    expect(assets.filter((p) => p.endsWith('.css'))).toHaveLength(1);
  });

  it('creates an agent with a preset schedule, showing server errors beside their fields', async () => {
    await navTo(page, 'Agents');
    await page.getByRole('link', { name: 'New agent' }).click();
    await page.getByRole('heading', { name: 'New agent' }).waitFor();

    // Saved empty with an unknown timezone: the API's field errors appear next to their fields.
    await page.getByLabel('Timezone').fill('Mars/Olympus');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByTestId('error-agent-name').waitFor();
    expect(await page.getByTestId('error-agent-name').textContent()).toBe('Required: this must not be empty.');
    expect(await page.getByTestId('error-agent-prompt').textContent()).toBe('Required: this must not be empty.');
    expect(await page.getByTestId('error-agent-description').count()).toBe(0);
    expect(await page.getByTestId('form-errors').textContent()).toContain('The agent was not saved');
    await screenshot(page, 'agent-form-errors');

    await page.getByLabel('Name', { exact: true }).fill(DIGEST);
    await page.getByLabel('Prompt', { exact: true }).fill('x');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await expect.poll(() => page.getByTestId('error-agent-timezone').textContent()).toContain('Unknown IANA timezone "Mars/Olympus"');
    expect(await page.getByTestId('error-agent-name').count()).toBe(0);
    await screenshot(page, 'agent-form-server-error');
    await page.getByLabel('Timezone').fill('UTC');
    await page.getByLabel('Description').fill("Summarises yesterday's commits every weekday morning");
    await page.getByLabel('Prompt', { exact: true }).fill(DIGEST_PROMPT);

    // A custom expression is checked as it is typed.
    await page.getByLabel('Repeats').selectOption('custom');
    await page.getByLabel('Cron expression').fill('61 * * * *');
    await expect.poll(() => page.getByTestId('schedule-preview-error').textContent(), { timeout: 5000 }).toContain('Schedule');
    await page.getByLabel('Cron expression').fill('*/15 * * * *');
    await expect.poll(() => page.getByTestId('schedule-description').textContent(), { timeout: 5000 }).toContain('Every 15 minutes');

    // The preset: weekdays at 09:30 in Berlin; its words and the next five times appear.
    await page.getByLabel('Repeats').selectOption('weekdays');
    await page.getByLabel('At', { exact: true }).fill('09:30');
    await page.getByLabel('Timezone').fill('Europe/Berlin');
    await expect.poll(() => page.getByTestId('schedule-description').textContent(), { timeout: 5000 }).toContain('At 09:30 AM, Monday through Friday');
    expect(await page.getByTestId('schedule-expression').textContent()).toBe('30 9 * * 1-5');
    expect(await page.getByTestId('next-runs').locator('li').count()).toBe(5);
    expect(await page.getByTestId('next-runs').locator('li').first().textContent()).toMatch(/09:30 AM GMT\+1|09:30 AM GMT\+2|09:30 AM CES?T/);
    await page.getByLabel('Budget per run (USD)').fill('0.5');
    await screenshot(page, 'agent-form');

    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByRole('heading', { name: DIGEST }).waitFor();
    const agents = await apiData<AgentJson[]>('GET', '/api/agents');
    expect(agents).toHaveLength(1);
    expect(agents[0]).toMatchObject({
      name: DIGEST,
      schedule: '30 9 * * 1-5',
      timezone: 'Europe/Berlin',
      maxBudgetUsd: 0.5,
      maxTurns: 50,
      enabled: true,
      creator: { name: MEMBER },
    });
  });

  it('lists the agent with its description, schedule in words and next run', async () => {
    await navTo(page, 'Agents');
    const row = agentRow(page, DIGEST);
    await row.waitFor();
    expect(await row.textContent()).toContain("Summarises yesterday's commits every weekday morning");
    expect(await row.getByTestId('schedule-words').textContent()).toBe('At 09:30 AM, Monday through Friday');
    expect(await row.textContent()).toContain('30 9 * * 1-5');
    expect(await row.getByTestId('next-run').textContent()).toMatch(/^in \d+ (hours?|days?|minutes?)$|^tomorrow$/);
    expect(await row.getByTestId('last-run').textContent()).toContain('Never run');
  });

  it('runs it now and shows running, then success, without reloading the page', async () => {
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));
    const row = agentRow(page, DIGEST);
    await row.getByRole('button', { name: `Run ${DIGEST} now` }).click();
    await row.locator('[data-status=running]').waitFor({ timeout: 30_000 });
    expect(await row.getAttribute('data-running')).toBe('true');
    await screenshot(page, 'agents-running');
    await row.locator('[data-status=success]').waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    await screenshot(page, 'agents');
  });

  it('opens the run and reads its output, rendered and sanitised', async () => {
    await page.getByRole('link', { name: DIGEST, exact: true }).click();
    await page.getByRole('heading', { name: DIGEST }).waitFor();
    const runRow = page.locator('[data-testid=run-row][data-status=success]').first();
    await runRow.waitFor();
    await runRow.getByRole('button').click();
    const output = page.getByTestId('run-output');
    await output.waitFor();
    expect(await output.getByRole('heading', { name: 'Summary' }).isVisible()).toBe(true);
    expect(await output.locator('li strong').textContent()).toBe('3');
    // Markup in the output is shown as text, never run.
    expect(await output.textContent()).toContain('<script>alert(1)</script>');
    expect(await output.locator('script, img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    // The opened run is in the address, so it can be shared.
    expect(new URL(page.url()).searchParams.get('run')).toBeTruthy();
    await screenshot(page, 'agent-run-open');
  });

  it('shows a run someone else started as it happens, and cancels it', async () => {
    const created = await apiData<AgentJson>('POST', '/api/agents', {
      name: 'Slow agent',
      schedule: '0 0 1 1 *',
      prompt: 'Take your time. [[fake: sleep=300 input_tokens=1000 output_tokens=100]]',
      allowedTools: ['Bash'],
    });
    const slowId = created.id;
    await page.goto(`${server.url}/agents/${slowId}`);
    await page.getByRole('heading', { name: 'Slow agent' }).waitFor();
    await page.getByText('This agent has not run yet.', { exact: false }).waitFor();
    // Another user (the admin, through the API) starts it: the page shows it without a reload.
    expect((await server.request('POST', `/api/agents/${slowId}/run`)).status).toBe(200);
    await page.locator('[data-testid=run-row][data-status=running]').waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Slow agent' }).getByText('Running').waitFor();
    // Wait until the agent really sleeps in its Bash tool, then cancel from the page.
    const workspace = path.join(server.dataDir, 'workspaces', slowId);
    await waitFor(() => Promise.resolve(processesMatching(workspace, 'sleep 300').length > 0 ? true : undefined), 45_000, 'the slow agent to sleep');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await page.locator('[data-testid=run-row][data-status=cancelled]').waitFor({ timeout: 20_000 });
    await waitFor(() => Promise.resolve(processesMatching(workspace).length === 0 ? true : undefined), 10_000, 'no process left in the workspace');
    await page.locator('[data-testid=run-row][data-status=cancelled]').getByRole('button').click();
    expect(await page.getByTestId('run-details').textContent()).toContain('Cancelled');
  });

  it('edits the prompt, and the next run uses it', async () => {
    await navTo(page, 'Agents');
    await page.getByRole('link', { name: DIGEST, exact: true }).click();
    await page.getByRole('link', { name: 'Edit' }).click();
    await page.getByRole('heading', { name: `Edit ${DIGEST}` }).waitFor();
    // The form reads the schedule back as its preset.
    expect(await page.getByLabel('Repeats').inputValue()).toBe('weekdays');
    expect(await page.getByLabel('At', { exact: true }).inputValue()).toBe('09:30');
    await page.getByLabel('Prompt', { exact: true }).fill(EDITED_PROMPT);
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('heading', { name: DIGEST }).waitFor();
    await page.getByText('Prompt', { exact: true }).click();
    expect(await page.getByTestId('agent-prompt').textContent()).toBe(EDITED_PROMPT);
    const agent = (await apiData<AgentJson[]>('GET', '/api/agents')).find((a) => a.name === DIGEST);
    expect(agent).toMatchObject({ prompt: EDITED_PROMPT, schedule: '30 9 * * 1-5', maxBudgetUsd: 0.5 });

    await page.getByRole('button', { name: 'Run now' }).click();
    await expect.poll(() => page.locator('[data-testid=run-row][data-status=success]').count(), { timeout: 60_000 }).toBe(2);
    await page.locator('[data-testid=run-row]').first().getByRole('button').click();
    expect(await page.getByTestId('run-output').textContent()).toContain('Edited answer: nothing new');
    expect(await page.getByTestId('run-output').locator('em').textContent()).toBe('nothing');
  });

  it('shows the runs on the overview: figures and the daily chart', async () => {
    await navTo(page, 'Overview');
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    await expect.poll(() => page.getByTestId('stat-runs').locator('.stat-value').textContent()).toBe('3');
    expect(await page.getByTestId('stat-agents').locator('.stat-value').textContent()).toBe('2');
    expect(await page.getByTestId('stat-success').locator('.stat-value').textContent()).toBe('67%');
    // 3 runs, 2 succeeded, 1 did not (the cancelled one), each on the UTC day it was queued (runs
    // near midnight fall on both sides of it); the chart's table says so, day by day.
    const byDay = new Map<string, [number, number, number]>();
    for (const agent of await apiData<AgentJson[]>('GET', '/api/agents')) {
      for (const run of await apiData<RunJson[]>('GET', `/api/agents/${agent.id}/runs`)) {
        const [total, succeeded, failed] = byDay.get(run.queuedAt.slice(0, 10)) ?? [0, 0, 0];
        byDay.set(run.queuedAt.slice(0, 10), run.status === 'success' ? [total + 1, succeeded + 1, failed] : [total + 1, succeeded, failed + 1]);
      }
    }
    expect([...byDay.values()].reduce<number[]>((sum, day) => sum.map((n, i) => n + day[i]!), [0, 0, 0])).toEqual([3, 2, 1]);
    for (const [date, counts] of byDay) {
      const cells = await page
        .getByTestId('chart-runs')
        .locator('table tr', { has: page.locator(`th:text-is("${date}")`) })
        .locator('td')
        .allTextContents();
      expect(cells).toEqual(counts.map(String));
    }
    expect(await page.getByTestId('chart-runs').locator('rect.bar-ok').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('chart-runs').locator('rect.bar-failed').count()).toBeGreaterThan(0);
    // The period is remembered across reloads.
    await page.getByRole('radio', { name: '30d' }).check();
    await page.reload();
    await page.getByTestId('stat-runs').waitFor();
    expect(await page.getByRole('radio', { name: '30d' }).isChecked()).toBe(true);
    expect(await page.getByTestId('chart-runs').locator('table tbody tr').count()).toBeGreaterThanOrEqual(30);
    await page.getByRole('radio', { name: '7d' }).check();
    await screenshot(page, 'overview');
  });

  it('fits a 390 px wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await navTo(page, 'Agents');
      await agentRow(page, DIGEST).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, 'agents-390');
      await navTo(page, 'Overview');
      await page.getByTestId('stat-runs').waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await screenshot(page, 'overview-390');
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  it('lets a viewer see everything and change nothing', async () => {
    viewer = await launchBrowser();
    const vpage = viewer.context.pages()[0] ?? (await viewer.context.newPage());
    watch(vpage);
    await signIn(vpage, server.url, VIEWER, VIEWER_PASSWORD);
    expect(await vpage.getByText('viewer · read-only').isVisible()).toBe(true);
    await navTo(vpage, 'Agents');
    await agentRow(vpage, DIGEST).waitFor();
    expect(await vpage.getByRole('link', { name: 'New agent' }).count()).toBe(0);
    expect(await vpage.getByRole('button', { name: /Run .* now/ }).count()).toBe(0);
    expect(await vpage.getByRole('switch').count()).toBe(0);
    await vpage.getByRole('link', { name: DIGEST, exact: true }).click();
    await vpage.getByRole('heading', { name: DIGEST }).waitFor();
    for (const name of ['Run now', 'Cancel run', 'Delete']) expect(await vpage.getByRole('button', { name }).count()).toBe(0);
    expect(await vpage.getByRole('link', { name: 'Edit' }).count()).toBe(0);
    // The run history and outputs are readable.
    await vpage.locator('[data-testid=run-row]').first().getByRole('button').click();
    await vpage.getByTestId('run-output').waitFor();
    await vpage.goto(`${server.url}/agents/new`);
    await vpage.getByText('Your role (viewer) can see agents but not create or change them.').waitFor();

    // And the server refuses a viewer's writes, CSRF token or not.
    const digestId = await agentId(DIGEST);
    const statuses = await vpage.evaluate(async (id) => {
      const session = (await (await fetch('/api/session')).json()) as { data: { csrfToken: string } };
      const withToken = await fetch(`/api/agents/${id}/run`, { method: 'POST', headers: { 'x-csrf-token': session.data.csrfToken } });
      const withoutToken = await fetch(`/api/agents/${id}`, { method: 'DELETE' });
      return [withToken.status, withoutToken.status];
    }, digestId);
    expect(statuses).toEqual([403, 403]);
    expect(await apiData<RunJson[]>('GET', `/api/agents/${digestId}/runs`)).toHaveLength(2);
    await viewer.close();
    viewer = null;
  });

  it("a member's write without the CSRF token is refused", async () => {
    const digestId = await agentId(DIGEST);
    const status = await page.evaluate(
      async (id) => (await fetch(`/api/agents/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"enabled":false}' })).status,
      digestId,
    );
    expect(status).toBe(403);
    expect((await apiData<AgentJson>('GET', `/api/agents/${digestId}`)).enabled).toBe(true);
  });

  it('toggles an agent off from the list, and deletes one after confirming', async () => {
    await navTo(page, 'Agents');
    const toggle = page.getByRole('switch', { name: `Enabled: ${DIGEST}` });
    await toggle.click();
    await expect.poll(() => agentRow(page, DIGEST).getByTestId('next-run').textContent()).toBe('Disabled');
    expect(await toggle.isChecked()).toBe(false);

    await page.getByRole('link', { name: 'Slow agent', exact: true }).click();
    await page.getByRole('heading', { name: 'Slow agent' }).waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete Slow agent?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect((await apiData<AgentJson[]>('GET', '/api/agents')).map((a) => a.name)).toContain('Slow agent');
    await page.getByRole('button', { name: 'Delete' }).click();
    await dialog.getByRole('button', { name: 'Delete agent' }).click();
    await page.getByRole('heading', { name: 'Agents', exact: true }).waitFor();
    expect((await apiData<AgentJson[]>('GET', '/api/agents')).map((a) => a.name)).toEqual([DIGEST]);
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const status = await page.evaluate(async () => (await fetch('/api/agents')).status);
    expect(status).toBe(401);
    await page.goto(`${server.url}/agents`);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('signs in with a pasted API token, kept for the tab only', async () => {
    await page.getByText('Use an API token instead').click();
    await page.getByLabel('API token').fill('cat_not-a-real-token');
    await page.getByRole('button', { name: 'Continue with token' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid');
    await page.getByLabel('API token').fill(server.token);
    await page.getByRole('button', { name: 'Continue with token' }).click();
    await page.getByRole('heading', { name: 'Agents', exact: true }).waitFor();
    expect(await page.getByTestId('user-name').textContent()).toBe('admin');
    expect(await page.evaluate(() => sessionStorage.getItem('cron-agents.token'))).toBe(server.token);
    expect((await member!.context.cookies(server.url + '/api')).filter((c) => c.name === 'cron_agents_session')).toEqual([]);
    // Writes go out with the bearer token (no cookie, no CSRF token needed).
    await page.getByRole('switch', { name: `Enabled: ${DIGEST}` }).click();
    await expect.poll(() => agentRow(page, DIGEST).getByTestId('next-run').textContent()).not.toBe('Disabled');
    await page.reload();
    await page.getByRole('heading', { name: 'Agents', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('cron-agents.token'))).toBeNull();
    // The token itself stays valid for the API.
    expect((await server.request('GET', '/api/agents')).status).toBe(200);
  });

  it('raised no script error and opened no dialog on any page', () => {
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});

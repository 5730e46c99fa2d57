import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentJson, RunJson } from '../../src/api/schemas/index.js';
import { launchBrowser, signIn, type LaunchedBrowser } from '../support/browser.js';
import { disposeServer, startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';

/**
 * Issue 11 in the dashboard, in a real browser against the built service with a runner that
 * costs $0.001 a run (test/fixtures/serve-with-fake-runner.mjs): spend against the caps and the
 * forecast on the overview and the agent page, the banners of a cap used up or past its warning,
 * a paused agent, skipped runs and retries in the run history, and the form's policy fields with
 * "about $X a month at recent cost". Skipped rows, a retry and the pause are written into the
 * database directly (what the engine writes is tested in test/engine and test/store): this test is
 * about what the dashboard shows of them. The tests run in order and share one service.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');
const FIXTURE = path.join(ROOT, 'test/fixtures/serve-with-fake-runner.mjs');

const ADMIN = 'ada';
const ADMIN_PASSWORD = 'admin password 123';
const NIGHTLY = 'Nightly report';
const FLAKY = 'Flaky sync';
const PAUSED_REASON = 'Paused after 3 failed runs in a row (the last: error)';
const HOUR = 3_600_000;

let server: ServerProcess;
let browser: LaunchedBrowser | null = null;
let page: Page;
let nightly: AgentJson;
let flaky: AgentJson;
const pageErrors: string[] = [];
/** Writes the page sent to the API (method and path). */
const writes: string[] = [];

async function api<T>(method: string, urlPath: string, body?: unknown): Promise<T> {
  const response = await server.request<{ data: T }>(method, urlPath, body);
  expect(response.status, `${method} ${urlPath}: ${JSON.stringify(response.body)}`).toBe(200);
  return response.body.data;
}

async function shot(name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.mouse.move(1, 1);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** A manual run through the API, waited for until it ends. */
async function runOnce(agentId: string): Promise<string> {
  const { runId } = (await server.request<{ runId: string }>('POST', `/api/agents/${agentId}/run`)).body;
  await waitFor(
    async () => {
      const run = await api<RunJson>('GET', `/api/runs/${runId}`);
      return run.status === 'success' ? run : undefined;
    },
    15_000,
    `run ${runId} to succeed`,
  );
  return runId;
}

/** What the engine leaves for a skipped slot, a retry and a pause, written beside the running service (SQLite allows it). */
function seed(firstRunId: string): void {
  const db = new Database(path.join(server.dataDir, 'cron-agents.sqlite'));
  try {
    db.pragma('busy_timeout = 5000');
    const now = Date.now();
    const insert = db.prepare(`insert into runs (id, agent_id, status, trigger, scheduled_for, output, cost_usd, queued_at, started_at, completed_at,
      duration_ms, retry_of, attempt, skipped_slots, last_skipped_for) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const slot = now - 2 * HOUR;
    insert.run(
      randomUUID(),
      nightly.id,
      'skipped',
      'schedule',
      slot,
      'Skipped: the previous run was still running',
      0,
      slot,
      null,
      slot + 55 * 60_000,
      null,
      null,
      1,
      12,
      slot + 55 * 60_000,
    );
    insert.run(
      randomUUID(),
      nightly.id,
      'success',
      'retry',
      null,
      'Done on the second try',
      0.001,
      now - HOUR,
      now - HOUR + 1000,
      now - HOUR + 5000,
      4000,
      firstRunId,
      2,
      null,
      null,
    );
    db.prepare('update agents set enabled = 0, next_fire_at = null, paused_reason = ?, paused_at = ? where id = ?').run(PAUSED_REASON, now - HOUR, flaky.id);
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  server = await startServerProcess({ script: FIXTURE, env: { FAKE_RUN_MS: '50' } });
  const user = await api<{ id: string }>('POST', '/api/users', { name: ADMIN, role: 'admin' });
  await api('PUT', `/api/users/${user.id}/password`, { password: ADMIN_PASSWORD });
  nightly = await api<AgentJson>('POST', '/api/agents', { name: NIGHTLY, schedule: '0 9 * * *', timezone: 'UTC', prompt: 'Write the report.' });
  flaky = await api<AgentJson>('POST', '/api/agents', { name: FLAKY, schedule: '*/5 * * * *', prompt: 'Sync.' });
  // Four runs at $0.001: today's spend is $0.004, and the median run costs $0.001.
  const first = await runOnce(nightly.id);
  for (let i = 0; i < 3; i++) await runOnce(nightly.id);
  seed(first);
  // The agent's daily cap is used up; the deployment's is 40% spent, past a warning at 30%.
  await api('PATCH', `/api/agents/${nightly.id}`, { dailyBudgetUsd: 0.004, monthlyBudgetUsd: 1 });
  await api('PUT', '/api/budget', { dailyUsd: 0.01, monthlyUsd: 10, warnAtPercent: 30 });

  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/') && url.pathname !== '/api/schedules/preview' && request.method() !== 'GET')
      writes.push(`${request.method()} ${url.pathname}`);
  });
  await signIn(page, server.url, ADMIN, ADMIN_PASSWORD);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (server) {
    await disposeServer(server);
  }
}, 60_000);

describe('spend, forecast and policies in the dashboard', { timeout: 90_000 }, () => {
  it("shows the deployment's spend against its caps, the month's projection, and a banner past the warning", async () => {
    const banner = page.getByTestId('spend-banner-day');
    // The admin's warning threshold is the deployment's (30%), read from GET /api/budget.
    await expect.poll(() => banner.textContent()).toBe('The deployment has spent $0.004 of its $0.01 daily cap today (40%).');
    expect(await banner.getAttribute('role')).toBe('status');
    expect(await page.getByTestId('spend-banner-month').count()).toBe(0);
    const spend = page.getByTestId('deployment-spend');
    expect(await spend.getByTestId('spend-month').textContent()).toContain('$0.004 of $10.00');
    expect(await spend.getByTestId('spend-today').textContent()).toContain('$0.004 of $0.01');
    // Only the enabled agent counts: 30 daily slots at $0.001.
    await expect.poll(() => spend.getByTestId('spend-forecast').textContent()).toContain('$0.03');
    expect(await spend.getByTestId('spend-forecast').textContent()).toContain('30 scheduled runs at $0.001 each');
    const forecast = await api<{ restOfMonth: { fires: number } }>('GET', '/api/forecast');
    const projection = await spend.getByTestId('spend-projection').textContent();
    expect(projection).toContain(`${forecast.restOfMonth.fires} more`);
    expect(projection).toMatch(/^Projected for the month\$0\.0\d+Up to/);
    await shot('overview-spend');
  });

  it("shows the agent's caps, a banner when one is used up, its spend and forecast, and skipped runs and retries in its history", async () => {
    await page.goto(`${server.url}/agents/${nightly.id}`);
    await page.getByRole('heading', { name: NIGHTLY }).waitFor();
    const banner = page.getByTestId('spend-banner-day');
    await expect
      .poll(() => banner.textContent())
      .toBe(`${NIGHTLY}'s daily cap of $0.004 is used up ($0.004 spent today): runs are skipped until the day ends (00:00 UTC).`);
    expect(await banner.getAttribute('role')).toBe('alert');
    expect(await page.getByTestId('agent-caps').textContent()).toBe('$0.004 a day · $1.00 a month');
    expect(await page.getByTestId('agent-overlap').textContent()).toBe('Skip the slot');
    expect(await page.getByTestId('agent-failure-policy').textContent()).toBe('No retriesNever paused for failures');
    const spend = page.getByTestId('agent-spend');
    expect(await spend.getByTestId('spend-today').textContent()).toContain('Used up');
    expect(await spend.getByTestId('spend-month').textContent()).toContain('$0.004 of $1.00');
    // Five runs that ran (the skipped one did not): 30 slots at the median $0.001.
    await expect.poll(() => spend.getByTestId('spend-forecast').textContent()).toContain('30 scheduled runs at $0.001 each (median of the last 5)');

    const skipped = page.locator('[data-testid=run-row][data-status=skipped]');
    expect(await skipped.getAttribute('class')).toContain('run-skipped');
    expect(await skipped.getByTestId('skip-reason').textContent()).toMatch(/^Skipped: the previous run was still running · 12 slots, the last /);
    // Greyed: its text is the muted colour, unlike a run's.
    const colours = await page.evaluate(() => {
      const colour = (selector: string) => getComputedStyle(document.querySelector(selector)!).color;
      return { skipped: colour('[data-status=skipped] [data-testid=skip-reason]'), ran: colour('[data-status=success] td[data-label=Cost]') };
    });
    expect(colours.skipped).not.toBe(colours.ran);
    const triggers = await page.locator('[data-testid=run-row] td[data-label=Trigger]').allTextContents();
    expect(triggers).toContain('Retry (attempt 2)retries the first run');
    expect(triggers.filter((t) => t === 'Manual')).toHaveLength(4);
    expect(triggers).toContain('Schedule');
    await skipped.getByRole('button').click();
    await expect.poll(() => page.getByTestId('run-skipped-output').textContent()).toBe('Skipped: the previous run was still running');
    await shot('agent-spend-and-skips');
  });

  it('shows why the service paused an agent', async () => {
    await page.goto(`${server.url}/agents/${flaky.id}`);
    await page.getByRole('heading', { name: FLAKY }).waitFor();
    const notice = page.getByTestId('agent-paused');
    await expect.poll(() => notice.textContent()).toBe(`Paused by the service 1 hour ago: ${PAUSED_REASON}Its schedule is off until it is enabled again.`);
    expect(await page.locator('h1 .pill').textContent()).toBe('Paused');
    // Disabled, so not in the deployment's forecast; its own says what its schedule would cost.
    expect(await page.getByTestId('agent-spend').getByTestId('spend-forecast').textContent()).toContain('8,640 scheduled runs');
  });

  it('edits the policy fields, checks them before sending, and says what the schedule would cost as it changes', async () => {
    await page.goto(`${server.url}/agents/${nightly.id}/edit`);
    await page.getByRole('heading', { name: `Edit ${NIGHTLY}` }).waitFor();
    expect(await page.getByLabel('Daily cap (USD)').inputValue()).toBe('0.004');
    expect(await page.getByLabel('Monthly cap (USD)').inputValue()).toBe('1');
    expect(await page.getByLabel('While a run is still going').inputValue()).toBe('skip');
    expect(await page.getByLabel('Retries').inputValue()).toBe('0');
    expect(await page.getByLabel('First retry after (seconds)').inputValue()).toBe('60');
    expect(await page.getByLabel('Pause after failures').inputValue()).toBe('');
    const cost = page.getByTestId('schedule-cost');
    await expect
      .poll(() => cost.textContent())
      .toMatch(/^About \$0\.03 a month at recent cost · 30 runs in the next 30 days, up to \$0\.03 at the 95th percentile · from the last 5 runs$/);

    // Every hour: 720 slots in 30 days; over a monthly cap of $0.50 the form says so.
    await page.getByLabel('Repeats').selectOption('hourly');
    await expect.poll(() => cost.textContent()).toMatch(/^About \$0\.72 a month at recent cost · 720 runs/);
    await page.getByLabel('Monthly cap (USD)').fill('0.5');
    await expect.poll(() => cost.textContent()).toContain('More than the monthly cap of $0.50: runs will be skipped once it is used up.');
    await shot('agent-form-policies');

    // Wrong values are named beside their fields, and nothing is sent.
    await page.getByLabel('Retries').fill('11');
    await page.getByLabel('Daily cap (USD)').fill('-1');
    await page.getByLabel('Pause after failures').fill('0');
    const before = writes.length;
    await page.getByRole('button', { name: 'Save changes' }).click();
    await expect.poll(() => page.getByTestId('error-agent-max-retries').textContent()).toBe('Enter a whole number from 0 to 10.');
    expect(await page.getByTestId('error-agent-daily-cap').textContent()).toBe('Enter an amount in dollars (0 or more), or leave it empty for no cap.');
    expect(await page.getByTestId('error-agent-pause-after').textContent()).toBe('Enter a whole number from 1 to 100, or leave it empty to never pause.');
    const summary = await page.getByTestId('form-errors').textContent();
    expect(summary).toContain('Daily cap: Enter an amount');
    expect(summary).toContain('Retries: Enter a whole number');
    expect(await page.getByLabel('Retries').getAttribute('aria-invalid')).toBe('true');
    expect(writes.slice(before)).toEqual([]);

    await page.getByLabel('Retries').fill('3');
    await page.getByLabel('Daily cap (USD)').fill('');
    await page.getByLabel('Pause after failures').fill('5');
    await page.getByLabel('First retry after (seconds)').fill('120');
    await page.getByLabel('While a run is still going').selectOption('queue');
    const patch = page.waitForRequest((request) => request.method() === 'PATCH');
    await page.getByRole('button', { name: 'Save changes' }).click();
    expect((await patch).postDataJSON()).toEqual({
      schedule: '0 * * * *',
      dailyBudgetUsd: null,
      monthlyBudgetUsd: 0.5,
      overlapPolicy: 'queue',
      maxRetries: 3,
      retryDelaySeconds: 120,
      pauseAfterFailures: 5,
    });
    await page.getByRole('heading', { name: NIGHTLY }).waitFor();
    await expect.poll(() => page.getByTestId('agent-caps').textContent()).toBe('$0.50 a month');
    expect(await page.getByTestId('agent-overlap').textContent()).toBe('Queue one slot');
    expect(await page.getByTestId('agent-failure-policy').textContent()).toBe(
      'Up to 3 retries of a failed run, after 120 s (doubled each time, at most 1 h)Paused after 5 failed runs in a row',
    );
  });

  it('shows no cost line for a new agent, which has no runs to go by', async () => {
    await page.goto(`${server.url}/agents/new`);
    await page.getByRole('heading', { name: 'New agent' }).waitFor();
    await page.getByTestId('next-runs').waitFor();
    expect(await page.getByTestId('schedule-cost').count()).toBe(0);
    expect(await page.getByLabel('While a run is still going').inputValue()).toBe('skip');
    expect(pageErrors).toEqual([]);
  });
});

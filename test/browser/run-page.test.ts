import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, stepsDirective, type FakeAnthropic } from '../fake-anthropic/fake-anthropic-server.js';
import { launchBrowser, signIn, type LaunchedBrowser } from '../support/browser.js';
import { disposeServer, processesMatching, startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';

/**
 * The run page (/runs/:id) in a real browser against the built server, the real Agent SDK and the
 * fake model: a run followed live through its stream to its end, its steps, its structured
 * output, the agent form's output schema. The tests run in order and share one service.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const SHOTS = path.join(ROOT, 'test-output', 'screenshots');

const MEMBER = 'rita';
const MEMBER_PASSWORD = 'member password 123';
const CHECKER = 'Release checker';
const REPORTER = 'Release reporter';

/** Three tool calls, the second sleeping (the page opens while it runs), the third failing; then the answer. */
const CHECKER_PROMPT = `Check the release. [[fake: delay_ms=700 ${stepsDirective([
  { tool: 'Bash', input: { command: 'echo checking release notes', description: 'Read the release notes' } },
  { tool: 'Bash', input: { command: 'echo waiting for CI; sleep 4', description: 'Wait for CI' } },
  { tool: 'Bash', input: { command: 'cat missing-changelog.md', description: 'Read the changelog' } },
])} text="## Release ready\\n\\n- **2** checks passed\\n- the changelog is missing"]]`;

const DELEGATOR = 'Release delegator';
/** A subagent (the Agent tool) that runs a command of its own: its steps carry the Agent call's id. */
const SUBAGENT_PROMPT = `Look at the CI logs. [[fake: ${stepsDirective([{ tool: 'Bash', input: { command: 'echo logs are clean', description: 'Read the logs' } }])} text="The logs are clean."]]`;
const DELEGATOR_PROMPT = `Delegate the log check. [[fake: ${stepsDirective([
  { tool: 'Agent', input: { description: 'Check the CI logs', prompt: SUBAGENT_PROMPT, subagent_type: 'general-purpose', run_in_background: false } },
])} text="Delegated: the logs are clean."]]`;

const SCHEMA = {
  type: 'object',
  properties: { summary: { type: 'string' }, failures: { type: 'integer' } },
  required: ['summary', 'failures'],
};
const ANSWER = { summary: 'All green', failures: 0 };
const REPORTER_PROMPT = `Report on the release. [[fake: ${stepsDirective([{ tool: 'StructuredOutput', input: ANSWER }])} text="Reported."]]`;

let fake: FakeAnthropic;
let server: ServerProcess;
let browser: LaunchedBrowser | null = null;
let page: Page;
let checkerId = '';
let runId = '';
const pageErrors: string[] = [];
/** Every API request the page made, as `METHOD path`. */
const requests: string[] = [];

async function shot(p: Page, name: string): Promise<void> {
  const dismiss = p.getByRole('button', { name: 'Dismiss' });
  while ((await dismiss.count()) > 0)
    await dismiss
      .first()
      .click({ timeout: 1000 })
      .catch(() => {});
  await p.evaluate(() => window.scrollTo(0, 0));
  await p.mouse.move(1, 1);
  await p.waitForTimeout(150);
  await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

async function apiData<T>(method: string, urlPath: string, body?: unknown): Promise<T> {
  const response = await server.request<{ data: T }>(method, urlPath, body);
  expect(response.status, `${method} ${urlPath}`).toBe(200);
  return response.body.data;
}

function steps(p: Page) {
  return p.getByTestId('tool-step');
}

/** How far (px) the bottom of the window is from the end of the page. */
function distanceFromBottom(p: Page): Promise<number> {
  return p.evaluate(() => document.documentElement.scrollHeight - window.innerHeight - window.scrollY);
}

function runStatus(p: Page) {
  return p.getByTestId('run-status').locator('[data-status]');
}

beforeAll(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  fake = await startFakeAnthropic();
  server = await startServerProcess({ env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-test-key' } });
  const user = await apiData<{ id: string }>('POST', '/api/users', { name: MEMBER, role: 'member' });
  expect((await server.request('PUT', `/api/users/${user.id}/password`, { password: MEMBER_PASSWORD })).status).toBe(200);
  browser = await launchBrowser();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/api/')) requests.push(`${request.method()} ${url.pathname}`);
  });
  await signIn(page, server.url, MEMBER, MEMBER_PASSWORD);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  if (server) {
    await disposeServer(server);
  }
  await fake?.close();
}, 60_000);

describe('the run page', { timeout: 120_000 }, () => {
  it('follows a live run to its end through the stream, each step as it comes, without a reload', async () => {
    const agent = await apiData<{ id: string }>('POST', '/api/agents', {
      name: CHECKER,
      schedule: '0 0 1 1 *',
      prompt: CHECKER_PROMPT,
      allowedTools: ['Bash'],
    });
    checkerId = agent.id;
    const started = await server.request<{ runId: string }>('POST', `/api/agents/${checkerId}/run`);
    expect(started.status).toBe(200);
    runId = started.body.runId;

    await page.goto(`${server.url}/runs/${runId}`);
    await page.getByRole('heading', { name: `Run of ${CHECKER}` }).waitFor();
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same page'));
    // Running, with the Cancel button, and the steps arriving while the run goes on.
    await runStatus(page).and(page.locator('[data-status=running]')).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Cancel run' }).isVisible()).toBe(true);
    await page.locator('[data-testid=tool-step][data-state=running]').filter({ hasText: 'sleep 4' }).waitFor({ timeout: 30_000 });
    expect(await runStatus(page).getAttribute('data-status')).toBe('running');
    await page.getByText('Live', { exact: true }).waitFor();
    await shot(page, 'run-page-live');
    // In a short window the transcript outgrows the page. The reader scrolls up: the page stays
    // where they are while steps arrive, and offers to follow again.
    await page.setViewportSize({ width: 1280, height: 420 });
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    await page.evaluate(() => window.scrollTo(0, 0));
    const follow = page.getByRole('button', { name: 'Follow the run' });
    await follow.waitFor();
    await steps(page).nth(2).waitFor({ timeout: 30_000 });
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    await follow.click();
    await expect.poll(() => distanceFromBottom(page)).toBeLessThan(10);
    expect(await follow.count()).toBe(0);

    // The end: every step, the answer, the final status, in the same page.
    await runStatus(page).and(page.locator('[data-status=success]')).waitFor({ timeout: 60_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe('same page');
    // Followed again, to the end: the answer and the result came into view by themselves.
    await expect.poll(() => distanceFromBottom(page)).toBeLessThan(10);
    await page.setViewportSize({ width: 1280, height: 860 });
    expect(await steps(page).count()).toBe(3);
    const [first, second, third] = [steps(page).nth(0), steps(page).nth(1), steps(page).nth(2)];
    expect(await first.getAttribute('data-state')).toBe('done');
    expect(await first.locator('summary').textContent()).toContain('echo checking release notes');
    await first.locator('summary').click();
    expect(await first.getByTestId('tool-input').isVisible()).toBe(true);
    expect(JSON.parse((await first.getByTestId('tool-input').textContent()) ?? '')).toMatchObject({ command: 'echo checking release notes' });
    expect(await first.getByTestId('tool-result').textContent()).toContain('checking release notes');
    expect(await second.getByTestId('tool-result').textContent()).toContain('waiting for CI');
    // The failed call is marked, in words, and starts open.
    expect(await third.getAttribute('data-state')).toBe('error');
    expect(await third.locator('summary').textContent()).toContain('Error');
    expect(await third.getAttribute('open')).not.toBeNull();
    expect(await third.getByTestId('tool-result').isVisible()).toBe(true);
    // The answer as Markdown, the result line, and no Cancel any more.
    const answer = page.getByTestId('event-text').last();
    expect(await answer.getByRole('heading', { name: 'Release ready' }).isVisible()).toBe(true);
    expect(await answer.locator('li strong').textContent()).toBe('2');
    expect(await page.getByTestId('event-result').textContent()).toContain('Success');
    expect(await page.getByTestId('event-init').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    expect(await page.getByRole('status').filter({ hasText: 'The run ended' }).textContent()).toBe('The run ended: it was a success.');
    // The figures are the run's own.
    const run = await apiData<{ costUsd: number; numTurns: number; inputTokens: number }>('GET', `/api/runs/${runId}`);
    expect(await page.getByTestId('run-turns').textContent()).toBe(String(run.numTurns));
    expect(await page.getByTestId('run-tokens').textContent()).toContain(run.inputTokens.toLocaleString('en-US'));

    // Followed through the stream, not by asking again: one stream, and the run read at most
    // twice (on opening, and once the queued run started).
    expect(requests.filter((r) => r === `GET /api/runs/${runId}/stream`)).toHaveLength(1);
    expect(requests.filter((r) => r === `GET /api/runs/${runId}`).length).toBeLessThanOrEqual(2);
    expect(requests.filter((r) => r.startsWith(`GET /api/runs/${runId}/events`))).toEqual([]);
    expect(pageErrors).toEqual([]);
    await shot(page, 'run-page');
  });

  it('downloads the transcript as JSON Lines, the same events the page shows', async () => {
    const link = page.getByRole('link', { name: 'Download JSONL' });
    expect(await link.getAttribute('href')).toBe(`/api/runs/${runId}/transcript.jsonl`);
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const file = await download.path();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const events = lines.map((line) => JSON.parse(line) as { seq: number; type: string });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'tool_use')).toHaveLength(3);
    expect(events.at(-1)?.type).toBe('result');
  });

  it('fits a 390 px wide screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.reload();
      await runStatus(page).and(page.locator('[data-status=success]')).waitFor();
      await steps(page).nth(2).waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await shot(page, 'run-page-390');
    } finally {
      await page.setViewportSize({ width: 1280, height: 860 });
    }
  });

  it("is linked from the agent's run history", async () => {
    await page.goto(`${server.url}/agents/${checkerId}`);
    await page.getByRole('heading', { name: CHECKER }).waitFor();
    const row = page.locator(`[data-testid=run-row][data-run-id="${runId}"]`);
    await row.getByRole('link', { name: /^Open the run of / }).click();
    await page.getByRole('heading', { name: `Run of ${CHECKER}` }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/runs/${runId}`);
    // And back through the breadcrumb.
    await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: CHECKER }).click();
    await page.getByRole('heading', { name: CHECKER }).waitFor();
  });
});

describe('signed in with an API token', { timeout: 120_000 }, () => {
  let tokenBrowser: LaunchedBrowser | null = null;
  afterAll(async () => tokenBrowser?.close());

  it('follows a run through the same stream (fetched with the token), cancels it, and downloads the transcript', async () => {
    tokenBrowser = await launchBrowser();
    const tpage = tokenBrowser.context.pages()[0] ?? (await tokenBrowser.context.newPage());
    tpage.on('pageerror', (error) => pageErrors.push(error.message));
    await tpage.goto(`${server.url}/`);
    await tpage.getByText('Use an API token instead').click();
    await tpage.getByLabel('API token').fill(server.token);
    await tpage.getByRole('button', { name: 'Continue with token' }).click();
    await tpage.getByRole('heading', { name: 'Overview' }).waitFor();

    const agent = await apiData<{ id: string }>('POST', '/api/agents', {
      name: 'Slow checker',
      schedule: '0 0 1 1 *',
      prompt: 'Take your time. [[fake: sleep=300]]',
      allowedTools: ['Bash'],
    });
    const started = await server.request<{ runId: string }>('POST', `/api/agents/${agent.id}/run`);
    await tpage.goto(`${server.url}/runs/${started.body.runId}`);
    await tpage.locator('[data-testid=tool-step][data-state=running]').filter({ hasText: 'sleep 300' }).waitFor({ timeout: 30_000 });
    // Cancel once the agent really sleeps in its Bash tool: the stream brings the end.
    const workspace = path.join(server.dataDir, 'workspaces', agent.id);
    await waitFor(() => Promise.resolve(processesMatching(workspace, 'sleep 300').length > 0 ? true : undefined), 45_000, 'the slow agent to sleep');
    await tpage.getByRole('button', { name: 'Cancel run' }).click();
    await runStatus(tpage).and(tpage.locator('[data-status=cancelled]')).waitFor({ timeout: 20_000 });
    expect(await tpage.getByTestId('run-error').textContent()).toBeTruthy();
    expect(await tpage.locator('[data-testid=tool-step][data-state=running]').count()).toBe(0);
    expect(await tpage.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await waitFor(() => Promise.resolve(processesMatching(workspace).length === 0 ? true : undefined), 10_000, 'no process left in the workspace');

    const [download] = await Promise.all([tpage.waitForEvent('download'), tpage.getByRole('link', { name: 'Download JSONL' }).click()]);
    const types = fs
      .readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types[0]).toBe('init');
    expect(types).toContain('tool_use');
    await shot(tpage, 'run-page-cancelled');
  });
});

describe('subagents', { timeout: 120_000 }, () => {
  it("indents a subagent's steps under the call that started them", async () => {
    const agent = await apiData<{ id: string }>('POST', '/api/agents', {
      name: DELEGATOR,
      schedule: '0 0 1 1 *',
      prompt: DELEGATOR_PROMPT,
      allowedTools: ['Agent', 'Bash'],
    });
    const started = await server.request<{ runId: string }>('POST', `/api/agents/${agent.id}/run`);
    await page.goto(`${server.url}/runs/${started.body.runId}`);
    await runStatus(page).and(page.locator('[data-status]:not([data-status=running]):not([data-status=queued])')).waitFor({ timeout: 60_000 });
    const call = steps(page).first();
    expect(await call.locator('summary').textContent()).toContain('Agent');
    const nested = page.getByRole('list', { name: /^Subagent steps of / });
    expect(await nested.getByTestId('tool-step').locator('summary').textContent()).toContain('echo logs are clean');
    expect(await nested.getByTestId('tool-result').textContent()).toContain('logs are clean');
    expect(await runStatus(page).getAttribute('data-status')).toBe('success');
    await shot(page, 'run-page-subagent');
  });
});

describe('structured output', { timeout: 120_000 }, () => {
  it('takes an output schema in the form: JSON checked as typed, the server refusal beside the field', async () => {
    await page.goto(`${server.url}/agents/new`);
    await page.getByRole('heading', { name: 'New agent' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill(REPORTER);
    await page.getByLabel('Prompt', { exact: true }).fill(REPORTER_PROMPT);
    await page.getByTestId('advanced-section').locator('summary').click();
    const box = page.getByLabel('Output schema');
    const error = page.getByTestId('error-agent-output-schema');
    await box.fill('{"type": "object",');
    await expect.poll(() => error.textContent()).toMatch(/^Not valid JSON: /);
    expect(await box.getAttribute('aria-invalid')).toBe('true');
    await box.fill('{"type": "array"}');
    await expect.poll(() => error.textContent()).toBe('Must describe an object: its top level needs "type": "object".');
    // Only the server compiles the schema: its 400 names outputSchema and shows here.
    await box.fill('{"type": "object", "properties": {"summary": {"type": "text"}}}');
    expect(await error.count()).toBe(0);
    await page.getByRole('button', { name: 'Create agent' }).click();
    await expect.poll(() => error.textContent()).toMatch(/valid JSON Schema/);
    await box.fill(JSON.stringify(SCHEMA, null, 2));
    await expect.poll(() => page.getByTestId('output-schema-summary').textContent()).toBe('An object with summary, failures');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByRole('heading', { name: REPORTER }).waitFor();
    expect(await page.getByTestId('agent-output-schema').textContent()).toBe('An object with summary, failures');
    const agents = await apiData<{ name: string; outputSchema: unknown }[]>('GET', '/api/agents');
    expect(agents.find((a) => a.name === REPORTER)?.outputSchema).toEqual(SCHEMA);
  });

  it('shows the structured output of a run as formatted JSON', async () => {
    await page.getByRole('button', { name: 'Run now' }).click();
    const row = page.locator('[data-testid=run-row][data-status=success]').first();
    await row.waitFor({ timeout: 60_000 });
    await row.getByRole('link', { name: /^Open the run of / }).click();
    const output = page.getByTestId('structured-output');
    await output.waitFor();
    expect(JSON.parse((await output.textContent()) ?? '')).toEqual(ANSWER);
    expect(await output.textContent()).toBe(JSON.stringify(ANSWER, null, 2));
    expect(pageErrors).toEqual([]);
    await shot(page, 'run-page-structured');
  });
});

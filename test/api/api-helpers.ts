import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { Config } from '../../src/config.js';
import type { Role } from '../../src/domain/types.js';
import { SQLITE, type DialectUnderTest } from '../support/dialects.js';
import { settle } from '../support/fake-clock.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

/** Helpers shared by the API tests: requests through `inject`, shape checks, and polling. */

export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// The response types the API declares in its schemas (types only: the tests check shapes at run time).
import type { AgentJson, AgentStatsJson, DailyRunsJson, GlobalStatsJson, RunJson } from '../../src/api/schemas/index.js';
export type { AgentJson, AgentStatsJson, DailyRunsJson, GlobalStatsJson, RunJson };

export interface ErrorJson {
  error: { code: string; message: string; details: { field: string; message: string }[] };
}

export interface CallOptions {
  /** Whose token to send; `null` sends none. Default: member. */
  as?: Role | null;
  /** A JSON value (serialized) or a raw string (sent as is, with the content type given). */
  body?: unknown;
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface CallResult<T> {
  status: number;
  headers: Record<string, unknown>;
  body: T;
  text: string;
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One request through Fastify's inject; the body is parsed as JSON when it is JSON. */
export async function call<T = unknown>(t: TestApp, method: Method, url: string, options: CallOptions = {}): Promise<CallResult<T>> {
  const as = options.as === undefined ? 'member' : options.as;
  const headers: Record<string, string> = { ...(as ? t.auth(as) : {}), ...options.headers };
  let payload: string | undefined;
  if (options.raw !== undefined) {
    payload = options.raw;
    headers['content-type'] = options.contentType ?? 'application/json';
  } else if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  const response = await t.app.server.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
  let body: unknown = undefined;
  if (String(response.headers['content-type'] ?? '').includes('application/json')) body = JSON.parse(response.body) as unknown;
  return { status: response.statusCode, headers: response.headers, body: body as T, text: response.body };
}

/** A valid create body, with overrides. */
export function agentBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'Daily Digest',
    description: 'Summarizes open tasks every morning',
    // A yearly slot far from the fake clock's start: advancing time never fires it by accident.
    schedule: '0 9 1 6 *',
    prompt: 'Review all open tasks and create a summary...',
    ...overrides,
  };
}

/** Creates an agent through the API (as a member) and returns it. */
export async function createAgent(t: TestApp, overrides: Record<string, unknown> = {}): Promise<AgentJson> {
  const response = await call<{ data: AgentJson }>(t, 'POST', '/api/agents', { body: agentBody(overrides) });
  expect(response.status, response.text).toBe(200);
  return response.body.data;
}

export async function getAgent(t: TestApp, id: string): Promise<AgentJson> {
  const response = await call<{ data: AgentJson }>(t, 'GET', `/api/agents/${id}`, { as: 'viewer' });
  expect(response.status, response.text).toBe(200);
  return response.body.data;
}

export async function listRuns(t: TestApp, agentId: string, query = ''): Promise<RunJson[]> {
  const response = await call<{ data: RunJson[] }>(t, 'GET', `/api/agents/${agentId}/runs${query}`, { as: 'viewer' });
  expect(response.status, response.text).toBe(200);
  return response.body.data;
}

/** Triggers a manual run through the API and returns its run id. */
export async function triggerRun(t: TestApp, agentId: string): Promise<string> {
  const response = await call<{ message: string; runId: string }>(t, 'POST', `/api/agents/${agentId}/run`);
  expect(response.status, response.text).toBe(200);
  expect(response.body.message).toBe('Agent started');
  return response.body.runId;
}

/**
 * Polls `probe` until it returns a truthy value, letting pending work settle between tries
 * (and, after the first tries, yielding 1 ms of real time so file-system callbacks can land).
 * Gives up after 5 s of real time, which only a broken expectation ever reaches.
 */
export async function waitFor<T>(probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, what: string): Promise<T> {
  const deadline = performance.now() + 5_000;
  for (let attempt = 0; ; attempt++) {
    const value = await probe();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle();
    if (attempt >= 20) await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

/** Waits until the fake runner has been asked for `count` runs in total. */
export async function waitForRunnerRuns(t: TestApp, count: number): Promise<void> {
  await waitFor(() => t.runner.runs.length >= count, `${count} runner call(s)`);
}

/** Waits until a run's status (as the API shows it) satisfies `accept`. */
export async function waitForRunStatus(t: TestApp, agentId: string, runId: string, accept: (status: string) => boolean): Promise<RunJson> {
  return waitFor(async () => {
    const run = (await listRuns(t, agentId)).find((r) => r.id === runId);
    return run && accept(run.status) ? run : null;
  }, `run ${runId} to change status`);
}

/** Asserts a `{"error": {code, message, details}}` response, its code (null: any) and the field it names. */
export function expectError(response: CallResult<unknown>, status: number, code: string | null, field?: string): ErrorJson {
  expect(response.status, response.text).toBe(status);
  expect(String(response.headers['content-type'])).toContain('application/json');
  const body = response.body as ErrorJson;
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
  if (code !== null) expect(body.error.code).toBe(code);
  else expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(Array.isArray(body.error.details)).toBe(true);
  for (const detail of body.error.details) {
    expect(Object.keys(detail).sort()).toEqual(['field', 'message']);
    expect(typeof detail.field).toBe('string');
    expect(typeof detail.message).toBe('string');
  }
  if (field !== undefined) expect(body.error.details.map((d) => d.field)).toContain(field);
  return body;
}

const AGENT_KEYS = [
  'allowedDomains',
  'allowedTools',
  'createdAt',
  'creator',
  'dailyBudgetUsd',
  'description',
  'disallowedTools',
  'effort',
  'enabled',
  'fallbackModel',
  'id',
  'lastRunAt',
  'lastStatus',
  'maxBudgetUsd',
  'maxRetries',
  'maxTurns',
  'mcpServers',
  'model',
  'monthlyBudgetUsd',
  'name',
  'nextRunAt',
  'outputSchema',
  'overlapPolicy',
  'pauseAfterFailures',
  'pausedAt',
  'pausedReason',
  'prompt',
  'retryDelaySeconds',
  'schedule',
  'systemPrompt',
  'timezone',
  'updatedAt',
  'workspace',
];

const nullOr = (value: unknown, type: string) => value === null || typeof value === type;
const nullOrIso = (value: unknown) => value === null || (typeof value === 'string' && ISO.test(value));

/** Checks every field of an agent against the spec's names and types (plus the documented extensions). */
export function expectAgentShape(agent: AgentJson): void {
  expect(Object.keys(agent).sort()).toEqual(AGENT_KEYS);
  expect(typeof agent.id).toBe('string');
  expect(typeof agent.name).toBe('string');
  expect(nullOr(agent.description, 'string')).toBe(true);
  expect(typeof agent.schedule).toBe('string');
  expect(typeof agent.timezone).toBe('string');
  expect(typeof agent.prompt).toBe('string');
  expect(typeof agent.enabled).toBe('boolean');
  expect(Number.isInteger(agent.maxTurns)).toBe(true);
  expect(nullOr(agent.maxBudgetUsd, 'number')).toBe(true);
  expect(nullOr(agent.model, 'string')).toBe(true);
  expect(Array.isArray(agent.allowedTools)).toBe(true);
  for (const tool of agent.allowedTools) expect(typeof tool).toBe('string');
  for (const list of [agent.disallowedTools, agent.allowedDomains]) expect(list.every((item) => typeof item === 'string')).toBe(true);
  expect(typeof agent.mcpServers).toBe('object');
  expect(agent.workspace === null || typeof agent.workspace === 'object').toBe(true);
  expect(nullOr(agent.systemPrompt, 'string')).toBe(true);
  expect(nullOr(agent.effort, 'string')).toBe(true);
  expect(nullOr(agent.fallbackModel, 'string')).toBe(true);
  expect(agent.outputSchema === null || typeof agent.outputSchema === 'object').toBe(true);
  expect(nullOrIso(agent.nextRunAt)).toBe(true);
  expect(nullOrIso(agent.lastRunAt)).toBe(true);
  expect(nullOr(agent.lastStatus, 'string')).toBe(true);
  if (agent.creator !== null) {
    expect(Object.keys(agent.creator).sort()).toEqual(['id', 'name']);
    expect(typeof agent.creator.id).toBe('string');
    expect(typeof agent.creator.name).toBe('string');
  }
  expect(agent.createdAt).toMatch(ISO);
  expect(agent.updatedAt).toMatch(ISO);
  if (!agent.enabled) expect(agent.nextRunAt).toBeNull();
}

const RUN_KEYS = [
  'agentId',
  'agentVersion',
  'attempt',
  'cacheCreationInputTokens',
  'cacheReadInputTokens',
  'completedAt',
  'costUsd',
  'durationMs',
  'executorId',
  'id',
  'inputTokens',
  'lastSkippedFor',
  'notBefore',
  'numTurns',
  'output',
  'outputTokens',
  'queuedAt',
  'retryOf',
  'scheduledFor',
  'skippedSlots',
  'startedAt',
  'status',
  'structuredOutput',
  'trigger',
];

export const RUN_STATUSES = ['queued', 'running', 'success', 'error', 'budget_exceeded', 'cancelled', 'skipped'];

/** Checks every field of a run against the spec's names and types (plus the documented extensions). */
export function expectRunShape(run: RunJson): void {
  expect(Object.keys(run).sort()).toEqual(RUN_KEYS);
  expect(typeof run.id).toBe('string');
  expect(typeof run.agentId).toBe('string');
  expect(RUN_STATUSES).toContain(run.status);
  expect(['schedule', 'manual']).toContain(run.trigger);
  expect(nullOrIso(run.scheduledFor)).toBe(true);
  expect(nullOr(run.output, 'string')).toBe(true);
  expect(typeof run.costUsd).toBe('number');
  for (const count of [run.inputTokens, run.outputTokens, run.cacheReadInputTokens, run.cacheCreationInputTokens, run.numTurns]) {
    expect(Number.isInteger(count)).toBe(true);
  }
  expect(run.queuedAt).toMatch(ISO);
  expect(nullOrIso(run.startedAt)).toBe(true);
  expect(nullOrIso(run.completedAt)).toBe(true);
  expect(run.durationMs === null || Number.isInteger(run.durationMs)).toBe(true);
  expect(nullOr(run.executorId, 'string')).toBe(true);
}

export function expectDailyRunsShape(days: DailyRunsJson[]): void {
  for (const day of days) {
    expect(Object.keys(day).sort()).toEqual(['costUsd', 'date', 'error', 'success', 'total']);
    expect(day.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Number.isInteger(day.success)).toBe(true);
    expect(Number.isInteger(day.error)).toBe(true);
    expect(Number.isInteger(day.total)).toBe(true);
    expect(typeof day.costUsd).toBe('number');
  }
  const dates = days.map((d) => d.date);
  expect([...dates].sort()).toEqual(dates);
}

/**
 * Registers the hooks that open and close a test app: a fresh one per test (`each`), or one
 * shared by the tests of the enclosing describe (`all`, for table-driven checks that change
 * nothing). `assign` receives each new app; every app is closed, so no handles are left. The
 * app's database is a fresh one of `dialect` (default: in-memory SQLite).
 */
export function useTestApp(
  scope: 'each' | 'all',
  assign: (app: TestApp) => void | Promise<void>,
  overrides: Partial<Config> = {},
  dialect: DialectUnderTest = SQLITE,
): void {
  let current: TestApp | null = null;
  const open = async () => {
    current = await createTestApp(overrides, dialect);
    await assign(current);
  };
  const close = async () => {
    const app = current;
    current = null;
    await app?.close();
  };
  if (scope === 'each') {
    beforeEach(open);
    afterEach(close);
  } else {
    beforeAll(open);
    afterAll(close);
  }
}

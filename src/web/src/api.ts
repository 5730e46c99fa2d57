/**
 * The dashboard's only door to the server. Signed in by password, the browser holds an httpOnly
 * session cookie and this module holds the session's CSRF token (sent on every write); signed in
 * with a pasted API token, the token lives in sessionStorage (this tab only) and goes out as a
 * Bearer header.
 */

import type { Static } from 'typebox';
import type { AgentJson, AgentStatsJson, CancelledJson, DeletedAgentJson, GlobalStatsJson, RunJson, RunStartedJson } from '../../api/schemas/agents';
import type { ErrorBody } from '../../api/schemas/common';
import type { SchedulePreviewJson } from '../../api/schemas/schedules';
import type { DeletedSecretJson, SecretJson } from '../../api/schemas/secrets';
import type { AgentFields, Period as DomainPeriod, Role as DomainRole, RunStatus as DomainRunStatus } from '../../domain/types';

// The server's own declarations, type-only: nothing of the server reaches the bundle. (Not the
// schemas' index: its session and user schemas reach domain/passwords.ts, which needs Node.)
export type Role = DomainRole;
export type RunStatus = DomainRunStatus;
export type Period = DomainPeriod;
export type Agent = AgentJson;
export type Run = RunJson;
export type AgentStats = AgentStatsJson;
export type GlobalStats = GlobalStatsJson;
export type DailyRuns = AgentStats['dailyRuns'][number];
export type SchedulePreview = SchedulePreviewJson;
export type FieldProblem = Static<typeof ErrorBody>['error']['details'][number];
/** A secret as listed: its name and when it was last set, never its value. */
export type Secret = SecretJson;

/** The fields a person edits. */
export type AgentInput = AgentFields;

// As api/schemas/session.ts declares them (SessionJson, UserJson), which this side cannot import.
export interface User {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
}

export interface Session {
  user: User;
  method: 'session' | 'token';
  csrfToken: string | null;
  expiresAt: string | null;
}

/** An error answer of the API (`{"error": {code, message, details}}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
    /** Seconds, from Retry-After (429). */
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'cron-agents.token';

let bearerToken: string | null = sessionStorage.getItem(TOKEN_KEY);
let csrfToken: string | null = null;
let onSignedOut: () => void = () => {};

/** Called when the server answers 401: the session ended (expired, signed out elsewhere). */
export function whenSignedOut(listener: () => void): void {
  onSignedOut = listener;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (bearerToken) headers.authorization = `Bearer ${bearerToken}`;
  else if (csrfToken && method !== 'GET') headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check that cron-agents is running.');
  }
  const text = await response.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: handled below
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; details?: FieldProblem[] } } | null)?.error;
    const retryAfter = response.headers.get('retry-after');
    const problem = new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `The server answered ${response.status}.`,
      error?.details ?? [],
      retryAfter ? Number(retryAfter) : null,
    );
    if (response.status === 401 && path !== '/api/session') onSignedOut();
    throw problem;
  }
  return json as T;
}

const data = async <T>(promise: Promise<{ data: T }>): Promise<T> => (await promise).data;

/** The session as the server sees it; 401 (ApiError) when signed out. */
export async function loadSession(): Promise<Session> {
  const session = await data(request<{ data: Session }>('GET', '/api/session'));
  csrfToken = session.csrfToken;
  return session;
}

export async function signIn(name: string, password: string): Promise<Session> {
  forgetToken();
  const session = await data(request<{ data: Session }>('POST', '/api/session', { name, password }));
  csrfToken = session.csrfToken;
  return session;
}

/** Checks a pasted API token and keeps it for this tab. */
export async function useToken(token: string): Promise<Session> {
  bearerToken = token.trim();
  try {
    const session = await loadSession();
    sessionStorage.setItem(TOKEN_KEY, bearerToken);
    return session;
  } catch (error) {
    bearerToken = null;
    throw error;
  }
}

function forgetToken(): void {
  bearerToken = null;
  sessionStorage.removeItem(TOKEN_KEY);
}

export async function signOut(): Promise<void> {
  try {
    if (!bearerToken) await request('DELETE', '/api/session');
  } finally {
    forgetToken();
    csrfToken = null;
  }
}

export const listAgents = () => data(request<{ data: Agent[] }>('GET', '/api/agents'));
export const getAgent = (id: string) => data(request<{ data: Agent }>('GET', `/api/agents/${encodeURIComponent(id)}`));
/** Create takes no null description (the field is simply left out). */
export const createAgent = ({ description, ...input }: AgentInput) =>
  data(request<{ data: Agent }>('POST', '/api/agents', description === null ? input : { ...input, description }));
export const updateAgent = (id: string, patch: Partial<AgentInput>) => data(request<{ data: Agent }>('PATCH', `/api/agents/${encodeURIComponent(id)}`, patch));
export const deleteAgent = (id: string) => data(request<{ data: Static<typeof DeletedAgentJson> }>('DELETE', `/api/agents/${encodeURIComponent(id)}`));
export const runAgent = (id: string) => request<Static<typeof RunStartedJson>>('POST', `/api/agents/${encodeURIComponent(id)}/run`);
export const cancelAgent = (id: string) => request<Static<typeof CancelledJson>>('POST', `/api/agents/${encodeURIComponent(id)}/cancel`);
export const listRuns = (id: string, limit: number) => data(request<{ data: Run[] }>('GET', `/api/agents/${encodeURIComponent(id)}/runs?limit=${limit}`));
export const agentStats = (id: string, period: Period) =>
  data(request<{ data: AgentStats }>('GET', `/api/agents/${encodeURIComponent(id)}/stats?period=${period}`));
export const globalStats = (period: Period) => data(request<{ data: GlobalStats }>('GET', `/api/agents/stats?period=${period}`));
export const previewSchedule = (schedule: string, timezone: string) =>
  data(request<{ data: SchedulePreview }>('POST', '/api/schedules/preview', { schedule, timezone }));

const secretsPath = (agentId: string) => `/api/agents/${encodeURIComponent(agentId)}/secrets`;
export const listSecrets = (agentId: string) => data(request<{ data: Secret[] }>('GET', secretsPath(agentId)));
/** Sets or replaces a secret; the answer names it, never echoing the value. */
export const setSecret = (agentId: string, name: string, value: string) =>
  data(request<{ data: Secret }>('PUT', `${secretsPath(agentId)}/${encodeURIComponent(name)}`, { value }));
export const deleteSecret = (agentId: string, name: string) =>
  data(request<{ data: Static<typeof DeletedSecretJson> }>('DELETE', `${secretsPath(agentId)}/${encodeURIComponent(name)}`));

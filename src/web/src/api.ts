/**
 * The dashboard's only door to the server. Signed in by password, the browser holds an httpOnly
 * session cookie and this module holds the session's CSRF token (sent on every write); signed in
 * with a pasted API token, the token lives in sessionStorage (this tab only) and goes out as a
 * Bearer header.
 */

import type { Static } from 'typebox';
import type { AgentJson, AgentStatsJson, CancelledJson, DeletedAgentJson, GlobalStatsJson, RunJson, RunStartedJson } from '../../api/schemas/agents';
import type { AgentVersionJson, AuditEntryJson, AuditPageJson } from '../../api/schemas/audit';
import type { ErrorBody } from '../../api/schemas/common';
import type { SchedulePreviewJson } from '../../api/schemas/schedules';
import type { DeploymentForecastJson, ForecastJson } from '../../api/schemas/forecast';
import type { BudgetJson } from '../../api/schemas/budget';
import type { RunEventJson } from '../../api/schemas/runs';
import type { DeletedSecretJson, SecretJson } from '../../api/schemas/secrets';
import type { DeletedWebhookJson, DeliveryJson, WebhookJson, WebhookWithSecretJson } from '../../api/schemas/webhooks';
import type { AgentFields, Period as DomainPeriod, Role as DomainRole, RunStatus as DomainRunStatus } from '../../domain/types';

// The server's own declarations, type-only: nothing of the server reaches the bundle. (Not the
// schemas' index: its session and user schemas reach domain/passwords.ts, which needs Node.)
export type Role = DomainRole;
export type RunStatus = DomainRunStatus;
export type Period = DomainPeriod;
export type Agent = AgentJson;
export type Run = RunJson;
/** An event of a run's transcript (`at` an ISO instant). */
export type RunEvent = RunEventJson;
export type AgentStats = AgentStatsJson;
export type GlobalStats = GlobalStatsJson;
export type DailyRuns = AgentStats['dailyRuns'][number];
export type SchedulePreview = SchedulePreviewJson;
/** What a schedule will cost: its slots in the next days times its latest runs' cost percentiles. */
export type Forecast = ForecastJson;
export type DeploymentForecast = DeploymentForecastJson;
/** The deployment's spend caps (admins only). */
export type Budget = BudgetJson;
export type FieldProblem = Static<typeof ErrorBody>['error']['details'][number];
/** A secret as listed: its name and when it was last set, never its value. */
export type Secret = SecretJson;

/** A webhook as listed (never its secret); with `secret` only in the answers of create and rotate-secret. */
export type Webhook = WebhookJson;
export type WebhookWithSecret = WebhookWithSecretJson;
/** One event's delivery to one webhook, as the delivery log shows it. */
export type Delivery = DeliveryJson;

/** One version of an agent (its prompt, schedule, limits...), and an entry of the audit trail. */
export type AgentVersion = AgentVersionJson;
export type AuditEntry = AuditEntryJson;

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

/**
 * The last answer to each GET, by path, with its ETag: polling sends If-None-Match and reuses the
 * body on 304, so an unchanged list costs the server a hash and the wire nothing. (The API answers
 * no-store: the browser's own cache keeps none of it.)
 */
const lastAnswers = new Map<string, { etag: string; json: unknown }>();

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (bearerToken) headers.authorization = `Bearer ${bearerToken}`;
  else if (csrfToken && method !== 'GET') headers['x-csrf-token'] = csrfToken;
  const last = method === 'GET' ? lastAnswers.get(path) : undefined;
  if (last) headers['if-none-match'] = last.etag;
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the server. Check that cron-agents is running.');
  }
  // 304: the body is the one kept with the ETag sent.
  const reused = response.status === 304 && last ? last : null;
  const text = reused ? '' : await response.text();
  let json: unknown = reused ? reused.json : null;
  try {
    if (text) json = JSON.parse(text);
  } catch {
    // not JSON: handled below
  }
  if (!response.ok && !reused) {
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
  const etag = response.headers.get('etag');
  if (method === 'GET' && etag && !reused) {
    lastAnswers.delete(path);
    // The few paths a dashboard polls; a long session's many run lists are not all kept.
    if (lastAnswers.size >= 50) lastAnswers.delete(lastAnswers.keys().next().value ?? '');
    lastAnswers.set(path, { etag, json });
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

/**
 * What authenticates a request this module does not make itself (a run's stream, a download):
 * the pasted token; none for a password session, whose cookie the browser sends.
 */
export function authHeaders(): Record<string, string> {
  return bearerToken ? { authorization: `Bearer ${bearerToken}` } : {};
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
/** A run's own path: `${runPath(id)}/stream` and `/transcript.jsonl` hang below it. */
export const runPath = (id: string) => `/api/runs/${encodeURIComponent(id)}`;
export const getRun = (id: string) => data(request<{ data: Run }>('GET', runPath(id)));
/**
 * A run's transcript as a file (JSON Lines). Only a pasted token needs this: a password session
 * downloads it with a plain link, the cookie going along.
 */
export async function fetchTranscript(id: string): Promise<Blob> {
  const response = await fetch(`${runPath(id)}/transcript.jsonl`, { headers: authHeaders(), credentials: 'same-origin' }).catch(() => null);
  if (!response) throw new ApiError(0, 'network', 'Cannot reach the server. Check that cron-agents is running.');
  if (!response.ok) throw new ApiError(response.status, 'http_error', `The server answered ${response.status}.`);
  return response.blob();
}
/** With an agent, the answer also prices the schedule at that agent's latest runs (`forecast`). */
export const previewSchedule = (schedule: string, timezone: string, agentId: string | null = null) =>
  data(request<{ data: SchedulePreview }>('POST', '/api/schedules/preview', agentId ? { schedule, timezone, agentId } : { schedule, timezone }));
export const agentForecast = (id: string, days = 30) => data(request<{ data: Forecast }>('GET', `/api/agents/${encodeURIComponent(id)}/forecast?days=${days}`));
export const deploymentForecast = (days = 30) => data(request<{ data: DeploymentForecast }>('GET', `/api/forecast?days=${days}`));
export const getBudget = () => data(request<{ data: Budget }>('GET', '/api/budget'));

const secretsPath = (agentId: string) => `/api/agents/${encodeURIComponent(agentId)}/secrets`;
export const listSecrets = (agentId: string) => data(request<{ data: Secret[] }>('GET', secretsPath(agentId)));
/** Sets or replaces a secret; the answer names it, never echoing the value. */
export const setSecret = (agentId: string, name: string, value: string) =>
  data(request<{ data: Secret }>('PUT', `${secretsPath(agentId)}/${encodeURIComponent(name)}`, { value }));
export const deleteSecret = (agentId: string, name: string) =>
  data(request<{ data: Static<typeof DeletedSecretJson> }>('DELETE', `${secretsPath(agentId)}/${encodeURIComponent(name)}`));

const webhookPath = (id: string) => `/api/webhooks/${encodeURIComponent(id)}`;
export const listWebhooks = () => data(request<{ data: Webhook[] }>('GET', '/api/webhooks'));
export const createWebhook = (input: Pick<Webhook, 'name' | 'url' | 'events' | 'agentIds' | 'format'>) =>
  data(request<{ data: WebhookWithSecret }>('POST', '/api/webhooks', input));
export const updateWebhook = (id: string, patch: Partial<Pick<Webhook, 'name' | 'url' | 'events' | 'agentIds' | 'format' | 'enabled'>>) =>
  data(request<{ data: Webhook }>('PATCH', webhookPath(id), patch));
export const deleteWebhook = (id: string) => data(request<{ data: Static<typeof DeletedWebhookJson> }>('DELETE', webhookPath(id)));
/** A new signing secret, in this answer only; the old one stops signing at once. */
export const rotateWebhookSecret = (id: string) => data(request<{ data: WebhookWithSecret }>('POST', `${webhookPath(id)}/rotate-secret`));
export const listDeliveries = (id: string, limit: number) => data(request<{ data: Delivery[] }>('GET', `${webhookPath(id)}/deliveries?limit=${limit}`));
export const sendTestEvent = (id: string) => data(request<{ data: Delivery }>('POST', `${webhookPath(id)}/test`));
export const retryDelivery = (id: string, deliveryId: string) =>
  data(request<{ data: Delivery }>('POST', `${webhookPath(id)}/deliveries/${encodeURIComponent(deliveryId)}/retry`));

export const listAgentVersions = (agentId: string, limit = 100) =>
  data(request<{ data: AgentVersion[] }>('GET', `/api/agents/${encodeURIComponent(agentId)}/versions?limit=${limit}`));
/** A page of the audit trail about one agent, newest first. */
export const listAgentAudit = (agentId: string, limit = 50) =>
  request<AuditPageJson>('GET', `/api/audit?agentId=${encodeURIComponent(agentId)}&limit=${limit}`);

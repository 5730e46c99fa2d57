import type { AgentVersion } from '../domain/agent-versions.js';
import type { AuditEntry } from '../domain/audit.js';
import type { RunEvent } from '../domain/run-events.js';
import { iso, runJson } from '../domain/run-json.js';
import type { SchedulePreview } from '../domain/schedule-preview.js';
import type { DeploymentForecast, Forecast } from '../domain/forecast.js';
import type { Agent, AgentStats, GlobalStats, Run, User } from '../domain/types.js';
import type { ActiveSession } from '../services/sign-in.js';
import type { IssuedToken } from '../services/access.js';
import type { AgentList } from '../services/agents.js';
import type { Webhook, WebhookDelivery } from '../domain/webhooks.js';
import type { SecretInfo, TokenInfo } from '../store/store.js';
import type {
  AgentJson,
  AgentVersionJson,
  AuditEntryJson,
  AgentListJson,
  AgentStatsJson,
  GlobalStatsJson,
  RunEventJson,
  RunJson,
  SchedulePreviewJson,
  ForecastJson,
  DeploymentForecastJson,
  SecretJson,
  SessionJson,
  TokenJson,
  UserJson,
  DeliveryJson,
  WebhookJson,
} from './schemas/index.js';

/** Every presenter: how a record the services return looks in a response (and on the CLI). */

// The one ISO-date presenter lives in the domain (webhook events use it too); re-exported for the CLI.
export { iso };

export function presentAgent(agent: Agent): AgentJson {
  return {
    id: agent.id,
    name: agent.name,
    description: agent.description,
    schedule: agent.schedule,
    timezone: agent.timezone,
    prompt: agent.prompt,
    enabled: agent.enabled,
    maxTurns: agent.maxTurns,
    maxBudgetUsd: agent.maxBudgetUsd,
    model: agent.model,
    allowedTools: agent.allowedTools,
    disallowedTools: agent.disallowedTools,
    mcpServers: agent.mcpServers,
    workspace: agent.workspace,
    allowedDomains: agent.allowedDomains,
    systemPrompt: agent.systemPrompt,
    effort: agent.effort,
    fallbackModel: agent.fallbackModel,
    outputSchema: agent.outputSchema,
    dailyBudgetUsd: agent.dailyBudgetUsd,
    monthlyBudgetUsd: agent.monthlyBudgetUsd,
    overlapPolicy: agent.overlapPolicy,
    maxRetries: agent.maxRetries,
    retryDelaySeconds: agent.retryDelaySeconds,
    pauseAfterFailures: agent.pauseAfterFailures,
    pausedReason: agent.pausedReason,
    pausedAt: iso(agent.pausedAt),
    nextRunAt: agent.enabled ? iso(agent.nextFireAt) : null,
    lastRunAt: iso(agent.lastRunAt),
    lastStatus: agent.lastStatus,
    creator: agent.creator,
    createdAt: iso(agent.createdAt),
    updatedAt: iso(agent.updatedAt),
  };
}

/** The spec's envelope unchanged when unpaged: `nextCursor` only on a page. */
export function presentAgentList(list: AgentList): AgentListJson {
  const data = list.agents.map(presentAgent);
  return list.nextCursor === undefined ? { data } : { data, nextCursor: list.nextCursor };
}

/** The domain's run JSON, typed here against the response schema. */
export const presentRun: (run: Run) => RunJson = runJson;

/** An event of a run's transcript: as stored, with `at` as ISO (the events page, the stream and the download alike). */
export function presentRunEvent(event: RunEvent): RunEventJson {
  return { ...event, at: iso(event.at) };
}

export function presentAgentStats(stats: AgentStats): AgentStatsJson {
  return { ...stats, lastRunAt: iso(stats.lastRunAt) };
}

export function presentGlobalStats(stats: GlobalStats): GlobalStatsJson {
  return stats;
}

/** A secret as listed: its name and when it was last set, never its value. */
export function presentSecret(secret: SecretInfo): SecretJson {
  return { name: secret.name, updatedAt: iso(secret.updatedAt) };
}

export function presentUser(user: User): UserJson {
  return { id: user.id, name: user.name, role: user.role, createdAt: iso(user.createdAt) };
}

export function presentToken(token: TokenInfo): TokenJson {
  return { ...token, createdAt: iso(token.createdAt), lastUsedAt: iso(token.lastUsedAt), revokedAt: iso(token.revokedAt) };
}

export function presentIssuedToken(issued: IssuedToken): { token: string; info: TokenJson } {
  return { token: issued.token, info: presentToken(issued.info) };
}

/** The current session; a request authenticated by a bearer token has none (`method: 'token'`). */
export function presentSession(user: User, session: Pick<ActiveSession, 'csrfToken' | 'expiresAt'> | null): SessionJson {
  return {
    user: presentUser(user),
    method: session ? 'session' : 'token',
    csrfToken: session?.csrfToken ?? null,
    expiresAt: session ? iso(session.expiresAt) : null,
  };
}

/** With `forecast` when the preview was asked to price the schedule at an agent's cost. */
export function presentSchedulePreview(preview: SchedulePreview, forecast?: Forecast): SchedulePreviewJson {
  const json = { ...preview, nextRuns: preview.nextRuns.map((t) => iso(t)) };
  return forecast ? { ...json, forecast: presentForecast(forecast) } : json;
}

export function presentForecast(forecast: Forecast): ForecastJson {
  return { ...forecast, restOfMonth: { ...forecast.restOfMonth, until: iso(forecast.restOfMonth.until) } };
}

export function presentDeploymentForecast(forecast: DeploymentForecast): DeploymentForecastJson {
  return { ...presentForecast(forecast), agents: forecast.agents };
}

/** A webhook without its secret (only create and rotate-secret add it). */
export function presentWebhook(webhook: Webhook): WebhookJson {
  return {
    id: webhook.id,
    name: webhook.name,
    url: webhook.url,
    events: webhook.events,
    agentIds: webhook.agentIds,
    format: webhook.format,
    enabled: webhook.enabled,
    disabledReason: webhook.disabledReason,
    createdAt: iso(webhook.createdAt),
  };
}

export function presentDelivery(delivery: WebhookDelivery): DeliveryJson {
  return {
    id: delivery.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    nextAttemptAt: iso(delivery.nextAttemptAt),
    deliveredAt: iso(delivery.deliveredAt),
    createdAt: iso(delivery.createdAt),
  };
}

/** An audit entry: its actor and target as objects, its time as ISO. */
export function presentAuditEntry(entry: AuditEntry): AuditEntryJson {
  return {
    id: entry.id,
    at: iso(entry.at),
    action: entry.action,
    actor: { id: entry.actor.userId, name: entry.actor.userName, address: entry.actor.address, credential: entry.actor.credential },
    agentId: entry.agentId,
    target: { type: entry.targetType, id: entry.targetId, name: entry.targetName },
    details: entry.details,
  };
}

export function presentAgentVersion(version: AgentVersion): AgentVersionJson {
  return { version: version.version, createdAt: iso(version.createdAt), createdBy: version.createdBy, fields: version.fields };
}

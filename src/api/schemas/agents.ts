import { Type, type Static } from 'typebox';
import { LIMITS } from '../../defaults.js';
import { PERIODS, RUN_STATUSES, RUN_TRIGGERS } from '../../domain/types.js';
import { Instant, NonBlank, NullableInstant, OrNull, StringEnum } from './common.js';
import { PoliciesBody, PoliciesJson } from './agent-policies.js';
import { RunOptionsBody, RunOptionsJson } from './run-options.js';

/** Agents, runs and stats: request and response schemas (spec: agents-api.txt). */

const ScheduleField = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Cron expression: 5 fields, 6 fields with seconds first, or a nickname such as @daily (not @reboot)',
});
const TimezoneField = Type.String({ minLength: 1, maxLength: 100, description: 'IANA timezone the schedule is read in. Default: UTC' });
const MaxTurnsField = Type.Integer({ minimum: 1, maximum: LIMITS.maxTurns, description: 'Maximum conversation turns per run. Default: 50' });
const MaxBudgetField = Type.Number({ exclusiveMinimum: 0, maximum: LIMITS.maxBudgetUsd, description: 'Maximum cost per run in USD' });
const ModelField = Type.String({
  minLength: 1,
  maxLength: LIMITS.modelLength,
  pattern: '\\S',
  description: 'Claude model for the runs; the SDK default when absent',
});
const AllowedToolsField = Type.Array(Type.String({ minLength: 1, maxLength: LIMITS.allowedToolLength, pattern: '\\S' }), {
  maxItems: LIMITS.allowedTools,
  description: 'Claude Code permission rules the agent may use without asking, e.g. "Read", "Bash(git log:*)". Default: none',
});

export const CreateAgentBody = Type.Object(
  {
    name: NonBlank(LIMITS.nameLength, 'Agent name'),
    description: Type.Optional(Type.String({ maxLength: LIMITS.descriptionLength, description: 'What the agent does' })),
    schedule: ScheduleField,
    prompt: NonBlank(LIMITS.promptLength, 'Prompt sent to Claude on each run'),
    enabled: Type.Optional(Type.Boolean({ description: 'Whether to schedule immediately. Default: true' })),
    maxTurns: Type.Optional(MaxTurnsField),
    maxBudgetUsd: Type.Optional(Type.Union([MaxBudgetField, Type.Null()])),
    timezone: Type.Optional(TimezoneField),
    model: Type.Optional(Type.Union([ModelField, Type.Null()])),
    allowedTools: Type.Optional(AllowedToolsField),
    ...RunOptionsBody,
    ...PoliciesBody,
  },
  { additionalProperties: false },
);
export type CreateAgentBody = Static<typeof CreateAgentBody>;

export const UpdateAgentBody = Type.Object(
  {
    name: Type.Optional(NonBlank(LIMITS.nameLength, 'New name')),
    description: Type.Optional(Type.Union([Type.String({ maxLength: LIMITS.descriptionLength }), Type.Null()])),
    schedule: Type.Optional(ScheduleField),
    prompt: Type.Optional(NonBlank(LIMITS.promptLength, 'New prompt')),
    enabled: Type.Optional(Type.Boolean()),
    maxTurns: Type.Optional(MaxTurnsField),
    maxBudgetUsd: Type.Optional(Type.Union([MaxBudgetField, Type.Null()], { description: 'New budget, or null to remove the limit' })),
    timezone: Type.Optional(TimezoneField),
    model: Type.Optional(Type.Union([ModelField, Type.Null()])),
    allowedTools: Type.Optional(AllowedToolsField),
    ...RunOptionsBody,
    ...PoliciesBody,
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAgentBody = Static<typeof UpdateAgentBody>;

const PeriodField = StringEnum(PERIODS, { description: 'Time window: 24h, 7d or 30d' });

export const RunsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: LIMITS.runsLimitMax, description: `Maximum number of runs. Default: ${LIMITS.runsLimitDefault}` }),
    ),
    period: Type.Optional(PeriodField),
  },
  { additionalProperties: false },
);

export const StatsQuery = Type.Object({ period: Type.Optional(PeriodField) }, { additionalProperties: false });

/** Paging of GET /api/agents, optional: without both, the whole list (other parameters are ignored, as before paging existed). */
export const AgentsQuery = Type.Object({
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: LIMITS.agentsPageMax,
      description: `Agents per page; with it (or cursor) the answer is a page and carries nextCursor. Default when paging: ${LIMITS.agentsPageDefault}`,
    }),
  ),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 2_000, description: "The previous page's nextCursor" })),
});

const UserRef = Type.Object({ id: Type.String(), name: Type.String() });

export const AgentJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: OrNull(Type.String()),
    schedule: Type.String(),
    timezone: Type.String(),
    prompt: Type.String(),
    enabled: Type.Boolean(),
    maxTurns: Type.Integer(),
    maxBudgetUsd: OrNull(Type.Number()),
    model: OrNull(Type.String()),
    allowedTools: Type.Array(Type.String()),
    ...RunOptionsJson,
    ...PoliciesJson,
    nextRunAt: OrNull(Instant, { description: 'Next scheduled fire time; null when disabled' }),
    lastRunAt: NullableInstant,
    lastStatus: OrNull(StringEnum(RUN_STATUSES)),
    creator: OrNull(UserRef),
    createdAt: Instant,
    updatedAt: Instant,
  },
  { $id: 'Agent' },
);
export type AgentJson = Static<typeof AgentJson>;

/** GET /api/agents: the spec's `{"data": [...]}`; `nextCursor` only when paging. */
export const AgentListJson = Type.Object({
  data: Type.Array(AgentJson),
  nextCursor: Type.Optional(OrNull(Type.String(), { description: 'Only when paging: the cursor of the next page; null on the last' })),
});
export type AgentListJson = Static<typeof AgentListJson>;

export const DeletedAgentJson = Type.Object({ id: Type.String(), name: Type.String() });

export const RunJson = Type.Object(
  {
    id: Type.String(),
    agentId: Type.String(),
    status: StringEnum(RUN_STATUSES),
    trigger: StringEnum(RUN_TRIGGERS),
    scheduledFor: OrNull(Instant, { description: 'The slot that fired, for scheduled runs' }),
    output: OrNull(Type.String()),
    costUsd: Type.Number(),
    inputTokens: Type.Integer({ description: 'All input tokens: uncached + cache writes + cache reads' }),
    outputTokens: Type.Integer(),
    cacheReadInputTokens: Type.Integer(),
    cacheCreationInputTokens: Type.Integer(),
    numTurns: Type.Integer(),
    queuedAt: Instant,
    startedAt: NullableInstant,
    completedAt: NullableInstant,
    durationMs: OrNull(Type.Integer()),
    executorId: OrNull(Type.String(), { description: 'The service instance that executed the run' }),
    structuredOutput: Type.Unknown({ description: "The answer as the agent's outputSchema shapes it (parsed JSON); null without one" }),
    retryOf: OrNull(Type.String(), { description: 'For a retry (trigger "retry"): the id of the first run of the chain' }),
    attempt: Type.Integer({ minimum: 1, description: '1 for a first run; 2, 3... for its retries' }),
    skippedSlots: OrNull(Type.Integer(), { description: 'For a skipped run: how many scheduled slots it stands for (skips with one cause are one row)' }),
    lastSkippedFor: OrNull(Instant, { description: 'For a skipped run: the latest slot it stands for (scheduledFor is the first)' }),
    notBefore: OrNull(Instant, { description: 'A queued retry does not start before this instant' }),
    agentVersion: OrNull(Type.Integer({ minimum: 1 }), {
      description:
        "The agent's version the run ran (GET /api/agents/:id/versions): set when queued, and again when it starts; null for runs from before versions",
    }),
  },
  { $id: 'Run' },
);
export type RunJson = Static<typeof RunJson>;

/** The answer to POST /api/agents/:id/run (no `data` envelope, as the spec has it). */
export const RunStartedJson = Type.Object({ message: Type.String(), runId: Type.String() });

/** The answer to POST /api/agents/:id/cancel (no `data` envelope, as the spec has it). */
export const CancelledJson = Type.Object({ success: Type.Boolean(), message: Type.String(), cancelledCount: Type.Integer() });

export const DailyRunsJson = Type.Object({
  date: Type.String(),
  success: Type.Integer(),
  error: Type.Integer(),
  total: Type.Integer(),
  costUsd: Type.Number(),
});
export type DailyRunsJson = Static<typeof DailyRunsJson>;

export const SpendJson = Type.Object(
  {
    todayUsd: Type.Number({ description: "Spend today (UTC): ended runs' cost plus what running runs have spent and reserved" }),
    monthUsd: Type.Number({ description: 'Spend this month (UTC), the same way' }),
    dailyCapUsd: OrNull(Type.Number(), { description: 'The daily cap that applies; null: none' }),
    monthlyCapUsd: OrNull(Type.Number(), { description: 'The monthly cap that applies; null: none' }),
  },
  { description: "Spend against the caps: the agent's own caps in an agent's stats, the deployment's in the global stats" },
);

export const AgentStatsJson = Type.Object({
  totalRuns: Type.Integer(),
  skippedRuns: Type.Integer({ description: 'Skipped runs in the period (not in totalRuns); each may stand for several slots' }),
  spend: SpendJson,
  successRate: Type.Integer({ description: 'Successful runs as a whole percentage of finished runs' }),
  avgDurationMs: Type.Integer(),
  totalCostUsd: Type.Number(),
  lastRunAt: NullableInstant,
  dailyRuns: Type.Array(DailyRunsJson),
});
export type AgentStatsJson = Static<typeof AgentStatsJson>;

export const GlobalStatsJson = Type.Object({
  totalAgents: Type.Integer(),
  activeAgents: Type.Integer(),
  runsInPeriod: Type.Integer(),
  skippedRuns: Type.Integer({ description: 'Skipped runs in the period (not in runsInPeriod)' }),
  spend: SpendJson,
  successRate: Type.Integer(),
  totalCostUsd: Type.Number(),
  runningAgentIds: Type.Array(Type.String()),
  dailyRuns: Type.Array(DailyRunsJson),
});
export type GlobalStatsJson = Static<typeof GlobalStatsJson>;

import { Type, type Static, type TSchema } from 'typebox';
import { LIMITS } from '../defaults.js';
import { PERIODS, ROLES, RUN_STATUSES, RUN_TRIGGERS } from '../domain/types.js';

/** Request and response schemas of every route; the OpenAPI document is generated from them. */

/** A string enum as plain JSON Schema (`{"type":"string","enum":[...]}`), typed as the union. */
const StringEnum = <T extends string>(values: readonly T[], options: { description?: string } = {}) =>
  Type.Unsafe<T>({ type: 'string', enum: [...values], ...options });

const NonBlank = (maxLength: number, description: string) =>
  Type.String({ minLength: 1, maxLength, pattern: '\\S', description });

const Instant = Type.String({ format: 'date-time' });

/**
 * A response field that may be null, as OpenAPI 3.0's `nullable` (not `anyOf` with null: the
 * serializer would test every branch of an anyOf on every response).
 */
const OrNull = <T extends TSchema>(schema: T, options: { description?: string } = {}) =>
  Type.Unsafe<Static<T> | null>({ ...schema, ...options, nullable: true });
const NullableInstant = OrNull(Instant);

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Array(Type.Object({ field: Type.String(), message: Type.String() })),
    }),
  },
  { $id: 'Error', description: 'Every error response' },
);

const ScheduleField = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Cron expression: 5 fields, 6 fields with seconds first, or a nickname such as @daily (not @reboot)',
});
const TimezoneField = Type.String({ minLength: 1, maxLength: 100, description: 'IANA timezone the schedule is read in. Default: UTC' });
const MaxTurnsField = Type.Integer({ minimum: 1, maximum: LIMITS.maxTurns, description: 'Maximum conversation turns per run. Default: 50' });
const MaxBudgetField = Type.Number({ exclusiveMinimum: 0, maximum: LIMITS.maxBudgetUsd, description: 'Maximum cost per run in USD' });
const ModelField = Type.String({ minLength: 1, maxLength: LIMITS.modelLength, pattern: '\\S', description: 'Claude model for the runs; the SDK default when absent' });
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
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateAgentBody = Static<typeof UpdateAgentBody>;

export const AgentIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

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
  },
  { $id: 'Run' },
);
export type RunJson = Static<typeof RunJson>;

export const DailyRunsJson = Type.Object({
  date: Type.String(),
  success: Type.Integer(),
  error: Type.Integer(),
  total: Type.Integer(),
  costUsd: Type.Number(),
});

export type DailyRunsJson = Static<typeof DailyRunsJson>;

export const AgentStatsJson = Type.Object({
  totalRuns: Type.Integer(),
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
  successRate: Type.Integer(),
  totalCostUsd: Type.Number(),
  runningAgentIds: Type.Array(Type.String()),
  dailyRuns: Type.Array(DailyRunsJson),
});
export type GlobalStatsJson = Static<typeof GlobalStatsJson>;

export const RoleField = StringEnum(ROLES);

/** `{"data": ...}`, the envelope of every successful response but run and cancel. */
export const Data = <T extends Parameters<typeof Type.Object>[0][string]>(schema: T) => Type.Object({ data: schema });

import { Type, type Static } from 'typebox';
import { FORECAST_DAYS_DEFAULT } from '../../domain/forecast.js';
import { ForecastJson } from './forecast.js';

/** The schedule editor's preview: request and response schemas. */

/** How many next fire times a preview lists. */
export const PREVIEW_COUNT = 5;

export const PreviewBody = Type.Object(
  {
    schedule: Type.String({ minLength: 1, maxLength: 200, description: 'Cron expression, as for an agent' }),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'IANA timezone. Default: UTC' })),
    agentId: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: `An agent whose latest runs' cost prices the schedule: the answer then carries \`forecast\` (${FORECAST_DAYS_DEFAULT} days)`,
      }),
    ),
  },
  { additionalProperties: false },
);

export const SchedulePreviewJson = Type.Object({
  schedule: Type.String(),
  timezone: Type.String({ description: 'Canonical IANA name' }),
  description: Type.Union([Type.String(), Type.Null()], { description: 'The schedule in words (cronstrue)' }),
  nextRuns: Type.Array(Type.String({ format: 'date-time' }), { description: `The next ${PREVIEW_COUNT} fire times, in UTC` }),
  forecast: Type.Optional(ForecastJson),
});
export type SchedulePreviewJson = Static<typeof SchedulePreviewJson>;

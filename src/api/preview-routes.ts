import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DEFAULT_TIMEZONE } from '../domain/agent-fields.js';
import { previewSchedule } from '../domain/schedule-preview.js';
import type { ApiDeps } from './api-deps.js';
import { Data, ErrorBody } from './schemas.js';

const PREVIEW_COUNT = 5;

/** Extension for the dashboard's schedule editor: a schedule in words and its next fire times. */
export function previewRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post(
    '/api/schedules/preview',
    {
      // It changes nothing: every role may ask (POST only because it takes a body).
      config: { role: 'viewer' },
      schema: {
        tags: ['schedules'],
        security: [{ bearer: [] }, { session: [] }],
        summary: 'Check a schedule; describe it and list its next five fire times',
        body: Type.Object(
          {
            schedule: Type.String({ minLength: 1, maxLength: 200, description: 'Cron expression, as for an agent' }),
            timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'IANA timezone. Default: UTC' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Data(
            Type.Object({
              schedule: Type.String(),
              timezone: Type.String({ description: 'Canonical IANA name' }),
              description: Type.Union([Type.String(), Type.Null()], { description: 'The schedule in words (cronstrue)' }),
              nextRuns: Type.Array(Type.String({ format: 'date-time' }), { description: `The next ${PREVIEW_COUNT} fire times, in UTC` }),
            }),
          ),
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
        },
      },
    },
    async (request) => {
      const preview = previewSchedule(request.body.schedule, request.body.timezone ?? DEFAULT_TIMEZONE, deps.clock.now(), PREVIEW_COUNT);
      return { data: { ...preview, nextRuns: preview.nextRuns.map((t) => new Date(t).toISOString()) } };
    },
  );
}

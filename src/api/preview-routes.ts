import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIMITS } from '../defaults.js';
import type { Services } from '../services/services.js';
import { presentSchedulePreview } from './present.js';
import { Data, ErrorBody, PREVIEW_COUNT, PreviewBody, SchedulePreviewJson } from './schemas/index.js';

/** Extension for the dashboard's schedule editor: a schedule in words and its next fire times, and (with an agent) its cost forecast. */
export const previewRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  api.post(
    '/api/schedules/preview',
    {
      // It changes nothing: every role may ask (POST only because it takes a body).
      config: { role: 'viewer' },
      bodyLimit: LIMITS.smallBodyBytes,
      schema: {
        tags: ['schedules'],
        security: [{ bearer: [] }, { session: [] }],
        operationId: 'previewSchedule',
        summary: "Check a schedule; describe it and list its next five fire times; with agentId, price it at that agent's latest runs",
        body: PreviewBody,
        response: { 200: Data(SchedulePreviewJson), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const { schedule, timezone, agentId } = request.body;
      const preview = services.agents.previewSchedule(schedule, timezone, PREVIEW_COUNT, request);
      // With an agent: what the schedule being typed would cost at that agent's recent runs.
      const forecast = agentId === undefined ? undefined : await services.forecasts.schedule(agentId, preview.schedule, preview.timezone);
      return { data: presentSchedulePreview(preview, forecast) };
    },
  );
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LIMITS } from '../defaults.js';
import type { Services } from '../services/services.js';
import { BudgetJson, Data, ErrorBody, PutBudgetBody } from './schemas/index.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 503: ErrorBody };
const tags = ['budget'];
/** A bearer token or the dashboard's session cookie: auth.ts takes either on every /api route. */
const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];
/** The deployment's caps are the admins' (agents' own caps are agent fields, for members). */
const admin = { role: 'admin' as const };

/** GET/PUT /api/budget: the deployment's spend caps, with today's and this month's spend (UTC). */
export const budgetRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { budget } = services;

  api.get(
    '/api/budget',
    {
      config: admin,
      schema: {
        tags,
        security,
        operationId: 'getBudget',
        summary: "The deployment's spend caps and its spend today and this month (UTC; admin)",
        response: { 200: Data(BudgetJson), ...errors },
      },
    },
    async () => ({ data: await budget.get() }),
  );

  api.put(
    '/api/budget',
    {
      config: admin,
      bodyLimit: LIMITS.smallBodyBytes,
      schema: {
        tags,
        security,
        operationId: 'putBudget',
        summary: "Replace the deployment's spend caps and warning level (admin)",
        description:
          'Caps apply from the next run that starts: a run reserves its budget when it starts, so runs already running keep theirs. A cap already reached is announced at once (budget.warning / budget.exhausted, once per window).',
        body: PutBudgetBody,
        response: { 200: Data(BudgetJson), ...errors },
      },
    },
    async (request) => ({ data: await budget.put(request.body, request) }),
  );
};

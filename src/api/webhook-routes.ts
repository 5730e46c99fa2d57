import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { WebhookWithSecret } from '../services/webhooks.js';
import type { Services } from '../services/services.js';
import { presentDelivery, presentWebhook } from './present.js';
import {
  CreateWebhookBody,
  Data,
  DeletedWebhookJson,
  DeliveriesQuery,
  DeliveryJson,
  DeliveryParams,
  ErrorBody,
  IdParams,
  UpdateWebhookBody,
  WebhookJson,
  WebhookWithSecretJson,
} from './schemas/index.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 503: ErrorBody };
const tags = ['webhooks'];
/** A bearer token or the dashboard's session cookie: auth.ts takes either on every /api route. */
const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];

const withSecret = ({ webhook, secret }: WebhookWithSecret) => ({ data: { ...presentWebhook(webhook), secret } });

/**
 * Webhooks and their delivery log. Viewers read them; members and admins manage them (auth.ts's
 * defaults by method). The signing secret is in the answers of create and rotate-secret only.
 */
export const webhookRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  await api.register(webhookCrudRoutes, { services });
  await api.register(deliveryRoutes, { services });
};

/** Create, list, read, change, delete, and rotate the secret. */
const webhookCrudRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { webhooks } = services;

  api.get(
    '/api/webhooks',
    {
      schema: {
        tags,
        security,
        operationId: 'listWebhooks',
        summary: 'List webhooks (without their secrets)',
        response: { 200: Data(Type.Array(WebhookJson)), ...errors },
      },
    },
    async () => ({ data: (await webhooks.list()).map(presentWebhook) }),
  );

  api.post(
    '/api/webhooks',
    {
      schema: {
        tags,
        security,
        operationId: 'createWebhook',
        summary: 'Create a webhook; the answer carries its signing secret, shown this once',
        body: CreateWebhookBody,
        response: { 201: Data(WebhookWithSecretJson), ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(withSecret(await webhooks.create(request.body, request))),
  );

  api.get(
    '/api/webhooks/:id',
    { schema: { tags, security, operationId: 'getWebhook', summary: 'Get a webhook', params: IdParams, response: { 200: Data(WebhookJson), ...errors } } },
    async (request) => ({ data: presentWebhook(await webhooks.get(request.params.id)) }),
  );

  api.patch(
    '/api/webhooks/:id',
    {
      schema: {
        tags,
        security,
        operationId: 'updateWebhook',
        summary: 'Change a webhook',
        params: IdParams,
        body: UpdateWebhookBody,
        response: { 200: Data(WebhookJson), ...errors },
      },
    },
    async (request) => ({ data: presentWebhook(await webhooks.update(request.params.id, request.body, request)) }),
  );

  api.delete(
    '/api/webhooks/:id',
    {
      schema: {
        tags,
        security,
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook and its delivery log',
        params: IdParams,
        response: { 200: Data(DeletedWebhookJson), ...errors },
      },
    },
    async (request) => ({ data: await webhooks.delete(request.params.id, request) }),
  );

  api.post(
    '/api/webhooks/:id/rotate-secret',
    {
      schema: {
        tags,
        security,
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret; the answer carries the new one, shown this once (the old one stops signing at once)',
        params: IdParams,
        response: { 200: Data(WebhookWithSecretJson), ...errors },
      },
    },
    async (request) => withSecret(await webhooks.rotateSecret(request.params.id, request)),
  );
};

/** The delivery log, a test event, and a retry. */
const deliveryRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (api, { services }) => {
  const { webhooks } = services;

  api.get(
    '/api/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        security,
        operationId: 'listWebhookDeliveries',
        summary: "The webhook's deliveries, newest first",
        params: IdParams,
        querystring: DeliveriesQuery,
        response: { 200: Data(Type.Array(DeliveryJson)), ...errors },
      },
    },
    async (request) => ({ data: (await webhooks.deliveries(request.params.id, request.query.limit)).map(presentDelivery) }),
  );

  api.post(
    '/api/webhooks/:id/test',
    {
      schema: {
        tags,
        security,
        operationId: 'testWebhook',
        summary: 'Send a webhook.test event to this webhook now; answers its delivery (pending)',
        params: IdParams,
        response: { 200: Data(DeliveryJson), ...errors },
      },
    },
    async (request) => ({ data: presentDelivery(await webhooks.test(request.params.id, request)) }),
  );

  api.post(
    '/api/webhooks/:id/deliveries/:deliveryId/retry',
    {
      schema: {
        tags,
        security,
        operationId: 'retryWebhookDelivery',
        summary: 'Send a failed delivery again now (one more attempt)',
        params: DeliveryParams,
        response: { 200: Data(DeliveryJson), ...errors },
      },
    },
    async (request) => ({ data: presentDelivery(await webhooks.retry(request.params.id, request.params.deliveryId, request)) }),
  );
};

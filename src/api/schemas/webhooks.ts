import { Type, type Static } from 'typebox';
import { LIMITS } from '../../defaults.js';
import { WEBHOOK_EVENT_TYPES } from '../../domain/webhook-events.js';
import { DELIVERY_STATUSES, WEBHOOK_FORMATS } from '../../domain/webhooks.js';
import { Instant, NonBlank, NullableInstant, OrNull, StringEnum } from './common.js';

/** Webhooks and their deliveries: request and response schemas. No response but create and rotate-secret carries the secret. */

const EventsField = Type.Array(StringEnum(WEBHOOK_EVENT_TYPES), {
  minItems: 1,
  maxItems: WEBHOOK_EVENT_TYPES.length,
  description: `The event types to send: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
});
const AgentIdsField = Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: LIMITS.webhookAgentIds }), Type.Null()], {
  description: 'The agents whose events to send; null or absent: every agent',
});
const UrlField = Type.String({
  minLength: 1,
  maxLength: LIMITS.urlLength,
  description: 'Where to POST: http:// or https://; loopback, private and link-local addresses are refused unless CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE=true',
});
const FormatField = StringEnum(WEBHOOK_FORMATS, {
  description: '`standard` (signed Standard Webhooks JSON) or `slack` (an incoming-webhook message, unsigned). Default: standard',
});

export const CreateWebhookBody = Type.Object(
  {
    name: NonBlank(LIMITS.nameLength, 'Webhook name'),
    url: UrlField,
    events: EventsField,
    agentIds: Type.Optional(AgentIdsField),
    format: Type.Optional(FormatField),
    enabled: Type.Optional(Type.Boolean({ description: 'Default: true' })),
  },
  { additionalProperties: false },
);
export type CreateWebhookBody = Static<typeof CreateWebhookBody>;

export const UpdateWebhookBody = Type.Object(
  {
    name: Type.Optional(NonBlank(LIMITS.nameLength, 'New name')),
    url: Type.Optional(UrlField),
    events: Type.Optional(EventsField),
    agentIds: Type.Optional(AgentIdsField),
    format: Type.Optional(FormatField),
    enabled: Type.Optional(Type.Boolean({ description: 'Enabling a webhook the service disabled clears disabledReason' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateWebhookBody = Static<typeof UpdateWebhookBody>;

const webhookFields = {
  id: Type.String(),
  name: Type.String(),
  url: Type.String(),
  events: Type.Array(StringEnum(WEBHOOK_EVENT_TYPES)),
  agentIds: OrNull(Type.Array(Type.String())),
  format: StringEnum(WEBHOOK_FORMATS),
  enabled: Type.Boolean(),
  disabledReason: OrNull(Type.String(), { description: 'Why the service disabled it (410 Gone, 20 failed deliveries in a row); null otherwise' }),
  createdAt: Instant,
};

export const WebhookJson = Type.Object(webhookFields, { $id: 'Webhook' });
export type WebhookJson = Static<typeof WebhookJson>;

export const WebhookWithSecretJson = Type.Object(
  {
    ...webhookFields,
    secret: Type.String({ description: 'The signing secret, `whsec_` + base64 of 32 random bytes: shown here only, never again' }),
  },
  { $id: 'WebhookWithSecret' },
);
export type WebhookWithSecretJson = Static<typeof WebhookWithSecretJson>;

export const DeletedWebhookJson = Type.Object({ id: Type.String(), name: Type.String() });

export const DeliveryJson = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String({ description: 'The event id, sent as webhook-id (the same on every attempt)' }),
    eventType: StringEnum(WEBHOOK_EVENT_TYPES),
    status: StringEnum(DELIVERY_STATUSES),
    attempts: Type.Integer(),
    lastStatusCode: OrNull(Type.Integer()),
    lastError: OrNull(Type.String()),
    nextAttemptAt: OrNull(Instant, { description: 'When the next attempt is due; null unless pending' }),
    deliveredAt: NullableInstant,
    createdAt: Instant,
  },
  { $id: 'WebhookDelivery' },
);
export type DeliveryJson = Static<typeof DeliveryJson>;

export const DeliveriesQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: LIMITS.deliveriesLimitMax, description: `Deliveries, newest first. Default: ${LIMITS.deliveriesLimitDefault}` }),
    ),
  },
  { additionalProperties: false },
);

export const DeliveryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), deliveryId: Type.String({ minLength: 1, maxLength: 100 }) });

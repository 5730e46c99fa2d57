import { Type } from 'typebox';
import { LIMITS } from '../../defaults.js';
import { RUN_EVENT_TYPES, type RunEventBody } from '../../domain/run-events.js';
import { StringEnum } from './common.js';

/** One run and its transcript: its events, the live stream, the download. */

export const RunIdParams = Type.Object({ runId: Type.String({ minLength: 1, maxLength: 100 }) });

const AfterField = Type.Integer({ minimum: 0, description: 'Only the events after this seq. Default: 0 (from the first)' });

export const RunEventsQuery = Type.Object(
  {
    after: Type.Optional(AfterField),
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: LIMITS.runEventsLimitMax, description: `Maximum number of events. Default: ${LIMITS.runEventsLimitDefault}` }),
    ),
  },
  { additionalProperties: false },
);

export const RunStreamQuery = Type.Object({ after: Type.Optional(AfterField) }, { additionalProperties: false });

/** A reconnecting EventSource sends the id of the last event it received; it wins over `?after=`. */
export const RunStreamHeaders = Type.Object({
  'last-event-id': Type.Optional(Type.Integer({ minimum: 0, description: 'The seq of the last event received: the stream goes on after it' })),
});

/** An event as the API shows it: the stored event with `at` as an ISO instant. */
export type RunEventJson = RunEventBody & { seq: number; at: string };

const EVENT_FIELDS = [
  '`init`: `model`, `tools`, `mcpServers` [{`name`, `status`}]',
  '`text`: `text` (assistant text, Markdown)',
  '`thinking`: `text` (summarised; cut to 16 KiB with `truncated: true`)',
  '`tool_use`: `id`, `name`, `input`',
  '`tool_result`: `toolUseId`, `isError`, `content` (text, cut to 16 KiB with `truncated: true`)',
  '`usage`: `costUsd`, `inputTokens`, `outputTokens`, `cacheReadInputTokens`, `cacheCreationInputTokens`, `numTurns` (so far; at most one a second)',
  '`result`: `status` and the same usage fields (the final ones)',
  '`error`: `message`',
  '`truncated`: `message` (the transcript reached 2 MiB; later events were not recorded)',
];

/**
 * One event of a run's transcript. Described, not enumerated as a union: the serializer would try
 * every branch of a `oneOf` on every event of a 5,000-event page.
 */
export const RunEventJson = Type.Unsafe<RunEventJson>({
  $id: 'RunEvent',
  type: 'object',
  required: ['seq', 'type', 'at'],
  properties: {
    seq: Type.Integer({ minimum: 1, description: 'Position in the run: 1, 2, 3...' }),
    type: StringEnum(RUN_EVENT_TYPES),
    at: Type.String({ format: 'date-time' }),
    parentToolUseId: Type.String({ nullable: true, description: "A subagent's event: the id of the tool call (Task) that started it" }),
  },
  additionalProperties: true,
  description: `An event of a run's transcript; the other fields depend on its type. ${EVENT_FIELDS.join('; ')}.`,
});

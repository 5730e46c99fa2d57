import { runJson, type RunJsonShape } from './run-json.js';
import type { FinalRunStatus, Run } from './types.js';

/**
 * Glossary of notifications
 *
 * - event: something that happened that people may want to hear of (a run ended, an agent
 *   recovered), written to the outbox in the transaction of the change that caused it. Its id is
 *   the Standard Webhooks `webhook-id`: the same on every attempt, so receivers can drop repeats.
 * - webhook: a receiver's URL, the event types it wants, the agents it covers (null: all), and
 *   the format it speaks (`standard`: signed Standard Webhooks; `slack`: an incoming-webhook message).
 * - delivery: one event for one webhook; pending until a 2xx answer (delivered) or until its
 *   attempts are spent (failed).
 */

/** Every event type a webhook may subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  'run.succeeded',
  'run.failed',
  'run.cancelled',
  'agent.recovered',
  'webhook.test',
  // Skipped slots (store/sql/skips.ts), automatic pauses (store/sql/run-endings.ts), spend caps (store/sql/budgets.ts).
  'run.skipped',
  'agent.paused',
  'budget.warning',
  'budget.exhausted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** How much of a run's output (and structured output, as JSON) an event carries, in UTF-8 bytes. */
export const EVENT_OUTPUT_BYTES = 4096;

/** A run as an event carries it: the API's run without its executor, its output cut to EVENT_OUTPUT_BYTES. */
export interface RunSnapshot extends Omit<RunJsonShape, 'status' | 'executorId'> {
  status: FinalRunStatus;
  /** True when `output` was cut. */
  outputTruncated: boolean;
  /** Null as well when its JSON is longer than EVENT_OUTPUT_BYTES. */
  structuredOutput: unknown;
}

/** What an event says (the `data` of a Standard Webhooks body, without the dashboard link). */
export interface EventData {
  agent?: { id: string; name: string } | null;
  run?: RunSnapshot | null;
  [key: string]: unknown;
}

/** An event to write into the outbox. */
export interface NewOutboxEvent {
  type: WebhookEventType;
  /** The agent it is about, matched against webhooks' `agentIds`; null: every webhook of the type. */
  agentId: string | null;
  runId: string | null;
  data: EventData;
}

/** An event as the sender reads it back. */
export interface OutboxEvent {
  id: string;
  type: WebhookEventType;
  agentId: string | null;
  runId: string | null;
  data: EventData;
  createdAt: number;
}

const FAILED: readonly FinalRunStatus[] = ['error', 'budget_exceeded'];

/** Whether a final status counts as a failure (for `run.failed` and `agent.recovered`). */
export function isFailedStatus(status: string): boolean {
  return (FAILED as readonly string[]).includes(status);
}

/** The event type a run that ended with `status` emits (a skipped row: once, when it is written). */
export function runEndedEventType(status: FinalRunStatus): WebhookEventType {
  if (status === 'success') return 'run.succeeded';
  if (status === 'cancelled') return 'run.cancelled';
  if (status === 'skipped') return 'run.skipped';
  return 'run.failed';
}

const encoder = new TextEncoder();
const utf8Bytes = (text: string): number => encoder.encode(text).length;

/** The longest prefix of `text` that fits in `bytes` of UTF-8, cut between characters. */
export function cutUtf8(text: string, bytes: number): string {
  const encoded = encoder.encode(text);
  if (encoded.length <= bytes) return text;
  let end = bytes;
  // A continuation byte (10xxxxxx) just past the cut means the cut splits a character: back off to its start.
  while (end > 0 && ((encoded[end] ?? 0) & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(encoded.subarray(0, end));
}

/** A finished run as events carry it. */
export function runSnapshot(run: Run & { status: FinalRunStatus }): RunSnapshot {
  const { executorId, ...json } = runJson(run);
  const output = run.output === null ? null : cutUtf8(run.output, EVENT_OUTPUT_BYTES);
  const structured = run.structuredOutput === null || run.structuredOutput === undefined ? null : run.structuredOutput;
  const structuredFits = structured === null || utf8Bytes(JSON.stringify(structured)) <= EVENT_OUTPUT_BYTES;
  return { ...json, status: run.status, output, outputTruncated: output !== run.output, structuredOutput: structuredFits ? structured : null };
}

/**
 * The events a run's end emits: its `run.*` event, and `agent.recovered` when it succeeded and
 * the agent's previous finished run (cancelled ones aside) had failed.
 */
export function runEndedEvents(run: Run & { status: FinalRunStatus }, agentName: string, previousStatus: string | null): NewOutboxEvent[] {
  const data: EventData = { agent: { id: run.agentId, name: agentName }, run: runSnapshot(run) };
  const events: NewOutboxEvent[] = [{ type: runEndedEventType(run.status), agentId: run.agentId, runId: run.id, data }];
  if (run.status === 'success' && previousStatus !== null && isFailedStatus(previousStatus)) {
    events.push({ type: 'agent.recovered', agentId: run.agentId, runId: run.id, data });
  }
  return events;
}

/**
 * `agent.paused`: the service disabled the agent after `failures` failed runs in a row
 * (pauseAfterFailures); `lastRun` is the last of them. Its link is the agent's page.
 */
export function agentPausedEvent(
  agent: { id: string; name: string },
  pausedReason: string,
  pausedAt: string,
  failures: number,
  lastRun: (Run & { status: FinalRunStatus }) | null,
): NewOutboxEvent {
  return {
    type: 'agent.paused',
    agentId: agent.id,
    runId: null,
    data: { agent, pausedReason, pausedAt, consecutiveFailures: failures, lastRun: lastRun ? runSnapshot(lastRun) : null },
  };
}

function isEventData(value: unknown): value is EventData {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An event's data as the store wrote it (JSON of an EventData); an empty object if it is not one. */
export function decodeEventData(text: string): EventData {
  const value: unknown = JSON.parse(text);
  return isEventData(value) ? value : {};
}

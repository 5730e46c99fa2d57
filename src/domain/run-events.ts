/**
 * A run's transcript: what happened during the run, as events in order.
 *
 *   RunEventInput  what a runner reports (AgentRunRequest.onEvent): an event without `seq` and
 *                  usually without `at`
 *   RunEvent       an event as stored and listed: `seq` (1, 2, 3... within the run), `at` (epoch
 *                  ms; the API renders ISO) and the fields of its type
 *   EncodedRunEvent  a RunEvent with its JSON text, as the store writes it
 *   encodeRunEvent / decodeRunEvent  RunEvent <-> its stored JSON
 *   limitEventText  the per-event cuts (tool results and thinking: 16 KiB, marked `truncated`)
 *
 * Events of a subagent carry `parentToolUseId`: the id of the tool call (Task) that started it.
 * The limits of a whole transcript (2 MiB, then one `truncated` event) are the executor's
 * (src/engine/run-event-writer.ts).
 */
import type { FinalRunStatus, RunUsage } from './types.js';

export const RUN_EVENT_TYPES = ['init', 'text', 'thinking', 'tool_use', 'tool_result', 'usage', 'result', 'error', 'truncated'] as const;
export type RunEventType = (typeof RUN_EVENT_TYPES)[number];

/** The session as it started: its model, its tools and its MCP servers with their status (`connected`, `failed`...). */
export interface InitEvent {
  type: 'init';
  model: string;
  tools: string[];
  mcpServers: { name: string; status: string }[];
}

/** Assistant text (Markdown as the model wrote it). */
export interface TextEvent {
  type: 'text';
  text: string;
}

/** The model's thinking, as the SDK reports it (summarised), cut to EVENT_TEXT_MAX_BYTES. */
export interface ThinkingEvent {
  type: 'thinking';
  text: string;
  truncated?: true;
}

export interface ToolUseEvent {
  type: 'tool_use';
  /** The tool call's id; its tool_result names it as `toolUseId`. */
  id: string;
  name: string;
  input: unknown;
}

/** What a tool call gave back, as text, cut to EVENT_TEXT_MAX_BYTES (then `truncated: true`). */
export interface ToolResultEvent {
  type: 'tool_result';
  toolUseId: string;
  isError: boolean;
  content: string;
  truncated?: true;
}

/** The run's usage and cost so far (at most one a second). */
export interface UsageEvent extends RunUsage {
  type: 'usage';
}

/** How the run ended: its final status, cost and tokens (the run's own, as recorded). */
export interface ResultEvent extends RunUsage {
  type: 'result';
  status: FinalRunStatus;
}

/** Something went wrong: an API error during the run, or why the run ended as `error`. */
export interface ErrorEvent {
  type: 'error';
  message: string;
}

/** The transcript reached its size limit: later events of the run were not recorded (but its result). */
export interface TruncatedEvent {
  type: 'truncated';
  message: string;
}

/** The fields of an event, by type; `parentToolUseId` names the Task call of a subagent's event. */
export type RunEventBody = (InitEvent | TextEvent | ThinkingEvent | ToolUseEvent | ToolResultEvent | UsageEvent | ResultEvent | ErrorEvent | TruncatedEvent) & {
  parentToolUseId?: string | null;
};

/** What a runner reports; the executor numbers it, and stamps it unless `at` is given. */
export type RunEventInput = RunEventBody & { at?: number };

/** An event of a run's transcript, as stored and listed. */
export type RunEvent = RunEventBody & { seq: number; at: number };

/** A RunEvent with its JSON text (the stored form): the writer encodes each event once. */
export interface EncodedRunEvent {
  seq: number;
  type: RunEventType;
  at: number;
  /** The whole event as JSON, `seq`, `type` and `at` included. */
  json: string;
}

/** Tool results and thinking are cut to this many bytes (UTF-8) in the transcript. */
export const EVENT_TEXT_MAX_BYTES = 16 * 1024;

const TYPES: ReadonlySet<string> = new Set(RUN_EVENT_TYPES);
const UTF8 = new TextEncoder();

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether a value read back from the store is a RunEvent. Shallow on purpose: only the executor's
 * writer stores events, always from typed values, so a row needs no field-by-field check.
 */
export function isRunEvent(value: unknown): value is RunEvent {
  return isObject(value) && typeof value.type === 'string' && TYPES.has(value.type) && typeof value.seq === 'number' && typeof value.at === 'number';
}

export function encodeRunEvent(event: RunEvent): EncodedRunEvent {
  return { seq: event.seq, type: event.type, at: event.at, json: JSON.stringify(event) };
}

/** The event a stored JSON text holds; null for text that is not one (never written by the store). */
export function decodeRunEvent(json: string): RunEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  return isRunEvent(value) ? value : null;
}

/**
 * `text` cut to at most `maxBytes` bytes of UTF-8, never inside a character; `cut` says whether
 * anything was left out.
 */
export function cutText(text: string, maxBytes: number): { text: string; cut: boolean } {
  // A UTF-16 unit is at most 3 bytes of UTF-8 (a pair of them, 4): short texts need no count.
  if (text.length * 3 <= maxBytes) return { text, cut: false };
  const bytes = UTF8.encode(text);
  if (bytes.length <= maxBytes) return { text, cut: false };
  // Back off to the start of a character: the first byte left out must not continue one (10xxxxxx).
  let end = maxBytes;
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return { text: new TextDecoder().decode(bytes.subarray(0, end)), cut: true };
}

/** The event with its long texts (a tool result's content, thinking) cut to EVENT_TEXT_MAX_BYTES. */
export function limitEventText(event: RunEventInput): RunEventInput {
  if (event.type === 'tool_result') {
    const { text, cut } = cutText(event.content, EVENT_TEXT_MAX_BYTES);
    return cut ? { ...event, content: text, truncated: true } : event;
  }
  if (event.type === 'thinking') {
    const { text, cut } = cutText(event.text, EVENT_TEXT_MAX_BYTES);
    return cut ? { ...event, text, truncated: true } : event;
  }
  return event;
}

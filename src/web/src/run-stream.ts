import { RUN_EVENT_TYPES } from '../../domain/run-events';
import { RUN_STATUSES } from '../../domain/types';
import { authHeaders, runPath, type Run, type RunEvent } from './api';

/**
 * A run's events as the server streams them (GET /api/runs/:id/stream, Server-Sent Events): the
 * recorded ones first, then each new one as it is recorded, then `end` with the finished run.
 * A password session uses EventSource (the cookie goes along; it reconnects by itself with
 * Last-Event-ID). EventSource cannot send a header, so a pasted API token reads the same stream
 * through fetch and reconnects the same way. No polling either way.
 */

/** `live`: receiving; `reconnecting`: the connection dropped and is being made again; `failed`: it will not be (404, 429, 401...). */
export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'failed';

export interface RunStreamHandlers {
  onEvent: (event: RunEvent) => void;
  /** The run has ended; the stream is closed. */
  onEnd: (run: Run) => void;
  onState: (state: StreamState) => void;
}

const EVENT_TYPES: ReadonlySet<string> = new Set(RUN_EVENT_TYPES);
const STATUSES: ReadonlySet<string> = new Set(RUN_STATUSES);
const RECONNECT_MS = 2000;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Shallow, as the server's own reading of its stored events: the server wrote it from typed values. */
function isRunEvent(value: unknown): value is RunEvent {
  return isObject(value) && typeof value.seq === 'number' && typeof value.type === 'string' && EVENT_TYPES.has(value.type) && typeof value.at === 'string';
}

function isRun(value: unknown): value is Run {
  return isObject(value) && typeof value.id === 'string' && typeof value.status === 'string' && STATUSES.has(value.status);
}

/** Hands one SSE message (its `event` name and `data`) to the handlers; true when it was the end. */
function dispatch(type: string, data: string, handlers: RunStreamHandlers): boolean {
  const value = parseJson(data);
  if (type === 'end') {
    if (isRun(value)) handlers.onEnd(value);
    else handlers.onState('failed');
    return true;
  }
  if (isRunEvent(value)) handlers.onEvent(value);
  return false;
}

function viaEventSource(url: string, handlers: RunStreamHandlers): () => void {
  const source = new EventSource(url);
  const onMessage = (message: MessageEvent<string>) => {
    if (dispatch(message.type, message.data, handlers)) source.close();
  };
  for (const type of [...RUN_EVENT_TYPES, 'end']) source.addEventListener(type, onMessage);
  source.onopen = () => handlers.onState('live');
  // A dropped connection is made again by EventSource itself; an answer other than a stream
  // (404, 429, 401) closes it for good.
  source.onerror = () => handlers.onState(source.readyState === EventSource.CLOSED ? 'failed' : 'reconnecting');
  return () => source.close();
}

/** Reads SSE messages off a response body, calling `onMessage(type, data, id)` for each. */
async function readMessages(body: ReadableStream<Uint8Array>, onMessage: (type: string, data: string, id: string | null) => boolean): Promise<boolean> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let type = 'message';
  let data: string[] = [];
  let id: string | null = null;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return false;
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (data.length > 0 && onMessage(type, data.join('\n'), id)) {
          await reader.cancel();
          return true;
        }
        [type, data, id] = ['message', [], null];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') type = text;
        else if (field === 'data') data.push(text);
        else if (field === 'id') id = text;
      }
    }
  }
}

function viaFetch(url: string, after: number, handlers: RunStreamHandlers): () => void {
  const controller = new AbortController();
  let lastId = after;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const connect = async (again: boolean): Promise<void> => {
    handlers.onState(again ? 'reconnecting' : 'connecting');
    try {
      const headers = { ...authHeaders(), accept: 'text/event-stream', ...(lastId > 0 ? { 'last-event-id': String(lastId) } : {}) };
      const response = await fetch(url, { headers, signal: controller.signal, credentials: 'same-origin' });
      if (!response.ok || !response.body) return handlers.onState('failed');
      handlers.onState('live');
      const ended = await readMessages(response.body, (type, data, id) => {
        if (id !== null && Number.isInteger(Number(id))) lastId = Number(id);
        return dispatch(type, data, handlers);
      });
      if (ended) return;
    } catch {
      if (controller.signal.aborted) return;
    }
    handlers.onState('reconnecting');
    timer = setTimeout(() => void connect(true), RECONNECT_MS);
  };
  void connect(false);
  return () => {
    clearTimeout(timer);
    controller.abort();
  };
}

/** Follows a run's stream from after `after` (a seq); returns what closes it. */
export function openRunStream(runId: string, after: number, handlers: RunStreamHandlers): () => void {
  const url = `${runPath(runId)}/stream${after > 0 ? `?after=${after}` : ''}`;
  return authHeaders().authorization ? viaFetch(url, after, handlers) : viaEventSource(url, handlers);
}

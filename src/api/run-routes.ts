import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { Type } from 'typebox';
import type { Clock } from '../clock.js';
import { DEFAULTS, LIMITS } from '../defaults.js';
import type { RunEvent } from '../domain/run-events.js';
import type { Services } from '../services/services.js';
import { STRICT_TRANSPORT_SECURITY } from './edge-hooks.js';
import { presentRun, presentRunEvent } from './present.js';
import { RunEventStream } from './run-event-stream.js';
import { Data, ErrorBody, RunEventJson, RunEventsQuery, RunIdParams, RunJson, RunStreamHeaders, RunStreamQuery } from './schemas/index.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 503: ErrorBody };
const tags = ['runs'];
const security: Record<string, string[]>[] = [{ bearer: [] }, { session: [] }];

export interface RunRoutesOptions {
  services: Services;
  clock: Clock;
  /** Default DEFAULTS.streamHeartbeatMs. */
  heartbeatMs?: number;
  /** Open streams per user on this instance; default LIMITS.streamsPerUser. */
  streamsPerUser?: number;
}

/**
 * The streams open on this instance: at most `perUser` per user (a user past the bound gets 429,
 * not one more held connection), each ended when the server closes.
 */
class OpenStreams {
  private readonly perUser = new Map<string, number>();
  private readonly streams = new Set<RunEventStream>();

  constructor(
    private readonly services: Services,
    private readonly clock: Clock,
    private readonly heartbeatMs: number,
    private readonly maxPerUser: number,
  ) {}

  /** Takes one of the user's slots; false when they hold them all. */
  admit(userId: string): boolean {
    const count = this.perUser.get(userId) ?? 0;
    if (count >= this.maxPerUser) return false;
    this.perUser.set(userId, count + 1);
    return true;
  }

  /** Streams the run on a hijacked response, in an admitted slot, until the run ends or the client goes. */
  start(raw: ServerResponse, request: { log: FastifyBaseLogger; protocol: string }, userId: string, runId: string, after: number): void {
    let follow: { stop(): void } | null = null;
    const stream = new RunEventStream(raw, {
      clock: this.clock,
      heartbeatMs: this.heartbeatMs,
      log: request.log,
      headers: request.protocol === 'https' ? { 'strict-transport-security': STRICT_TRANSPORT_SECURITY } : {},
      onClose: () => {
        follow?.stop();
        this.streams.delete(stream);
        this.release(userId);
      },
    });
    this.streams.add(stream);
    stream.open();
    follow = this.services.runs.follow(runId, after, stream);
    // The client may have gone before the follow existed to be stopped.
    if (stream.isClosed) follow.stop();
  }

  /** Open streams would hold the server's close until their clients left. */
  closeAll(): void {
    for (const stream of this.streams) stream.close();
  }

  private release(userId: string): void {
    const count = (this.perUser.get(userId) ?? 1) - 1;
    if (count > 0) this.perUser.set(userId, count);
    else this.perUser.delete(userId);
  }
}

/** The transcript as JSON Lines, a page of the store at a time. */
async function* jsonLines(pages: AsyncIterable<readonly RunEvent[]>): AsyncGenerator<string> {
  for await (const page of pages) {
    let text = '';
    for (const event of page) text += `${JSON.stringify(presentRunEvent(event))}\n`;
    yield text;
  }
}

/** The download's body: text in the document, a stream of the store's pages in the handler. */
const JsonLinesBody = Type.Unsafe<Readable>({ type: 'string', description: 'One event (JSON) per line' });

const STREAM_DESCRIPTION = `Server-Sent Events. Each event has \`id: <seq>\`, \`event: <type>\` and \`data: <the event as JSON>\`. The stream first replays the events after \`Last-Event-ID\` (the header a reconnecting EventSource sends) or \`?after=\`, then sends new ones as they are recorded; once the run has ended it sends \`event: end\` with the run as its data and closes (an EventSource should close itself on \`end\`, or it reconnects and gets \`end\` again). A \`: heartbeat\` comment comes every ${DEFAULTS.streamHeartbeatMs / 1000} s. A user may hold ${LIMITS.streamsPerUser} streams open per instance; beyond that, 429. Browsers authenticate with the session cookie (EventSource sends no headers of its own).`;

/**
 * One run and its transcript: the run, its events a page at a time, the live stream (SSE) and
 * the download (JSON Lines). Every route but the stream is plain JSON; the stream hijacks its
 * reply once the run is known to exist, so a 404 or 429 is an ordinary error answer.
 */
export const runRoutes: FastifyPluginAsyncTypebox<RunRoutesOptions> = async (api, options) => {
  const { services, clock } = options;
  const maxPerUser = options.streamsPerUser ?? LIMITS.streamsPerUser;
  const streams = new OpenStreams(services, clock, options.heartbeatMs ?? DEFAULTS.streamHeartbeatMs, maxPerUser);
  api.addHook('preClose', async () => streams.closeAll());

  api.get(
    '/api/runs/:runId',
    { schema: { tags, security, operationId: 'getRun', summary: 'Get a single run', params: RunIdParams, response: { 200: Data(RunJson), ...errors } } },
    async (request) => ({ data: presentRun(await services.runs.get(request.params.runId)) }),
  );

  api.get(
    '/api/runs/:runId/events',
    {
      schema: {
        tags,
        security,
        operationId: 'listRunEvents',
        summary: "A page of the run's events, oldest first",
        params: RunIdParams,
        querystring: RunEventsQuery,
        response: { 200: Data(Type.Array(RunEventJson)), ...errors },
      },
    },
    async (request) => ({ data: (await services.runs.events(request.params.runId, request.query)).map(presentRunEvent) }),
  );

  api.get(
    '/api/runs/:runId/stream',
    {
      // A HEAD would hold a connection (and a slot) open for a stream it never reads.
      exposeHeadRoute: false,
      schema: {
        tags,
        security,
        operationId: 'streamRunEvents',
        summary: "The run's events, live",
        description: STREAM_DESCRIPTION,
        params: RunIdParams,
        querystring: RunStreamQuery,
        headers: RunStreamHeaders,
        response: { 200: { description: 'An event stream', content: { 'text/event-stream': { schema: Type.String() } } }, ...errors, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      await services.runs.get(runId);
      const userId = request.user?.id ?? '';
      if (!streams.admit(userId)) {
        const message = `at most ${maxPerUser} run streams may be open per user; close one first`;
        return reply
          .status(429)
          .header('retry-after', '5')
          .send({ error: { code: 'too_many_streams', message, details: [] } });
      }
      reply.hijack();
      streams.start(reply.raw, request, userId, runId, request.headers['last-event-id'] ?? request.query.after ?? 0);
    },
  );

  api.get(
    '/api/runs/:runId/transcript.jsonl',
    {
      schema: {
        tags,
        security,
        operationId: 'getRunTranscript',
        summary: 'Download the whole transcript',
        description: 'One event per line (JSON Lines), oldest first, as the events page shows them.',
        params: RunIdParams,
        response: { 200: { description: 'JSON Lines', content: { 'application/x-ndjson': { schema: JsonLinesBody } } }, ...errors },
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      const pages = await services.runs.transcript(runId);
      const filename = `run-${runId.replace(/[^A-Za-z0-9_-]/g, '_')}.jsonl`;
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(Readable.from(jsonLines(pages)));
    },
  );
};

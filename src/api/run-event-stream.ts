import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock, TimerHandle } from '../clock.js';
import type { RunEvent } from '../domain/run-events.js';
import type { Run } from '../domain/types.js';
import type { RunFollowSink } from '../services/run-follow.js';
import { presentRun, presentRunEvent } from './present.js';

/**
 * Each event's frame, made once however many clients it goes to: the events the bus publishes
 * are the same objects for every stream of their run.
 */
const frames = new WeakMap<RunEvent, string>();

function frameOf(event: RunEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    // JSON has no raw line breaks, so `data` is one line.
    frame = `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(presentRunEvent(event))}\n\n`;
    frames.set(event, frame);
  }
  return frame;
}

/** How long a browser waits before it reconnects a dropped stream (the SSE `retry` field). */
const RECONNECT_MS = 1_000;

export interface RunEventStreamOptions {
  clock: Clock;
  heartbeatMs: number;
  log: FastifyBaseLogger;
  /** Extra response headers (e.g. Strict-Transport-Security on HTTPS). */
  headers?: Record<string, string>;
  /** Called once when the response is over, however it ended (the client went away included). */
  onClose: () => void;
}

/**
 * A run's events as Server-Sent Events on a hijacked response: `id: <seq>`, `event: <type>`,
 * `data: <event JSON>`; `event: end` with the run as its data, then the response ends; a
 * `: heartbeat` comment every `heartbeatMs` so that proxies keep an idle stream open.
 */
export class RunEventStream implements RunFollowSink {
  private heartbeat: TimerHandle | null = null;
  /** Nothing more is written: the response was ended, or its connection closed. */
  private over = false;
  private closeHandled = false;

  constructor(
    private readonly raw: ServerResponse,
    private readonly options: RunEventStreamOptions,
  ) {}

  /** Whether the response is over (its 'close' has come). */
  get isClosed(): boolean {
    return this.closeHandled;
  }

  /** Sends the headers. Call once, before anything else. */
  open(): void {
    this.raw.on('close', () => this.closed());
    this.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
      ...this.options.headers,
    });
    this.raw.write(`retry: ${RECONNECT_MS}\n\n`);
    this.armHeartbeat();
  }

  send(events: readonly RunEvent[]): void | Promise<void> {
    if (this.over) return;
    let text = '';
    for (const event of events) text += frameOf(event);
    if (this.raw.write(text)) return;
    // A slow client: the follow waits (and reads no more pages) until its socket has drained.
    return new Promise((resolve) => {
      const done = () => {
        this.raw.off('drain', done);
        this.raw.off('close', done);
        resolve();
      };
      this.raw.on('drain', done);
      this.raw.on('close', done);
    });
  }

  end(run: Run): void {
    this.finish(`event: end\ndata: ${JSON.stringify(presentRun(run))}\n\n`);
  }

  fail(reason: unknown): void {
    if (this.over) return;
    this.options.log.warn({ err: reason }, 'run stream stopped; the client may reconnect with Last-Event-ID');
    this.finish('');
  }

  /** Ends the response without an end event (the server is closing): the client reconnects elsewhere. */
  close(): void {
    this.finish('');
  }

  private finish(last: string): void {
    if (this.over) return;
    this.over = true;
    this.stopHeartbeat();
    this.raw.end(last);
  }

  private armHeartbeat(): void {
    this.heartbeat = this.options.clock.setTimer(() => {
      this.heartbeat = null;
      if (this.over) return;
      this.raw.write(': heartbeat\n\n');
      this.armHeartbeat();
    }, this.options.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) this.options.clock.clearTimer(this.heartbeat);
    this.heartbeat = null;
  }

  /** The response is over, whoever ended it: the 'close' of the response comes in every case. */
  private closed(): void {
    if (this.closeHandled) return;
    this.closeHandled = true;
    this.over = true;
    this.stopHeartbeat();
    this.options.onClose();
  }
}

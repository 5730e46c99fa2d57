/**
 * One run's transcript on its way to the store, as the executor writes it:
 *
 *   new RunEventWriter({ runId, executorId, store, bus, clock, logger, secrets, limits? })
 *   push(input)        a runner's event (AgentRunRequest.onEvent); synchronous, never throws
 *   close(closing)     the run's last events (closingEvents(outcome): its error, its result),
 *                      then the final flush; resolves once they are stored (or given up on).
 *                      The executor calls it before it records the outcome (finishRun).
 *
 * Each event gets the next `seq` and a time, has the run's secrets redacted, its long texts cut
 * (limitEventText), and is counted against the run's byte budget: past it, one `truncated` event
 * and nothing more but the closing ones. Events are written in batches, one statement per flush
 * (every `flushMs`, or at once when `flushEvents` wait), never one per SDK message; each batch
 * stored is then published on the bus, in seq order. `usage` events are kept to one a second.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { cutText, limitEventText, isRunEvent, type EncodedRunEvent, type RunEvent, type RunEventInput } from '../domain/run-events.js';
import { redactJsonValue, secretRedactor, type SecretValues } from '../domain/secret-refs.js';
import type { RunOutcome } from '../domain/types.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import type { RunEventBus } from './run-event-bus.js';

export interface RunEventLimits {
  /** How long an event may wait for its batch to be written. */
  flushMs: number;
  /** A batch this big is written at once. */
  flushEvents: number;
  /** The run's transcript, as stored JSON, stays within this many bytes (closing events included). */
  maxBytes: number;
  /** At most one `usage` event per this many ms (the latest one waiting is written when it is due). */
  usageIntervalMs: number;
}

export const RUN_EVENT_LIMITS: Readonly<RunEventLimits> = Object.freeze({
  flushMs: 200,
  flushEvents: 100,
  maxBytes: 2 * 1024 * 1024,
  usageIntervalMs: 1000,
});

/** Kept free of the budget for the closing events: the `truncated` marker, the error, the result. */
const CLOSING_RESERVE_BYTES = 8 * 1024;
/** The closing error's message is cut to this, so that it fits the reserve. */
const CLOSING_MESSAGE_BYTES = 4 * 1024;
/** Rows in one insert: within both databases' bound-parameter limits. */
const MAX_ROWS_PER_INSERT = 500;
/** Attempts of the final flush: the run's result is recorded after it either way. */
const FINAL_ATTEMPTS = 3;
const RETRY_MAX_MS = 5_000;

export interface RunEventWriterOptions {
  runId: string;
  executorId: string;
  store: Pick<Store, 'appendRunEvents'>;
  bus: RunEventBus;
  clock: Clock;
  logger: Logger;
  /** The agent's secrets: their values never reach the transcript. */
  secrets: SecretValues;
  limits?: Partial<RunEventLimits>;
}

interface Pending {
  event: RunEvent;
  encoded: EncodedRunEvent;
}

export class RunEventWriter {
  private readonly limits: RunEventLimits;
  private readonly redact: (text: string) => string;
  private seq = 0;
  private bytes = 0;
  private truncated = false;
  private closed = false;
  /** The store refused a batch: the run is no longer this executor's, so nothing more is written. */
  private fenced = false;
  private pending: Pending[] = [];
  private timer: TimerHandle | null = null;
  /** Writes one after the other, so batches are stored and published in seq order. */
  private writing: Promise<void> = Promise.resolve();
  /** A write is queued and has not started: events pushed meanwhile join it. */
  private writeQueued = false;
  private failures = 0;
  private retryAt = 0;
  private lastUsageAt = Number.NEGATIVE_INFINITY;
  private heldUsage: RunEventInput | null = null;

  constructor(private readonly options: RunEventWriterOptions) {
    this.limits = { ...RUN_EVENT_LIMITS, ...options.limits };
    this.redact = secretRedactor(options.secrets);
  }

  push(input: RunEventInput): void {
    if (this.closed || this.fenced) return;
    try {
      if (input.type === 'usage' && !this.usageDue()) {
        this.heldUsage = input;
        this.armTimer();
        return;
      }
      if (input.type === 'usage') this.heldUsage = null;
      this.add(input, false);
    } catch (error) {
      // A runner's event that cannot be encoded (a cycle in a tool input) is left out, not the run.
      this.options.logger.warn({ runId: this.options.runId, err: error, type: input.type }, 'run event left out');
    }
  }

  async close(closing: readonly RunEventInput[]): Promise<void> {
    if (this.closed) return this.writing;
    this.closed = true;
    this.heldUsage = null;
    if (this.timer !== null) this.options.clock.clearTimer(this.timer);
    this.timer = null;
    if (!this.fenced) for (const input of closing) this.add(closingEvent(input), true);
    for (let attempt = 1; attempt <= FINAL_ATTEMPTS && this.pending.length > 0 && !this.fenced; attempt++) {
      this.retryAt = 0;
      await this.flush();
    }
    await this.writing;
    if (this.pending.length > 0 && !this.fenced) {
      this.options.logger.error({ runId: this.options.runId, events: this.pending.length }, 'could not store the last events of the run');
    }
  }

  private usageDue(): boolean {
    return this.options.clock.now() - this.lastUsageAt >= this.limits.usageIntervalMs;
  }

  /** Numbers, redacts, cuts and counts one event, and queues it (or the `truncated` marker instead). */
  private add(input: RunEventInput, closing: boolean): void {
    const budget = this.limits.maxBytes - (closing ? 0 : CLOSING_RESERVE_BYTES);
    if (this.truncated && !closing) return;
    const next = this.encode(input);
    if (this.bytes + next.bytes > budget) {
      if (closing) return;
      this.truncated = true;
      const message = `The transcript reached its limit of ${sizeText(this.limits.maxBytes)}: later events of this run were not recorded.`;
      this.queue(this.encode({ type: 'truncated', message }));
      return;
    }
    this.queue(next);
    if (input.type === 'usage') this.lastUsageAt = next.pending.event.at;
  }

  private queue(next: { pending: Pending; bytes: number }): void {
    this.seq = next.pending.event.seq;
    this.bytes += next.bytes;
    this.pending.push(next.pending);
    if (this.pending.length >= this.limits.flushEvents) void this.flush();
    else this.armTimer();
  }

  /** The event as stored, with the next seq (taken only if the event is queued). */
  private encode(input: RunEventInput): { pending: Pending; bytes: number } {
    const limited = limitEventText(this.redactLongText(input));
    let event: RunEvent = { seq: this.seq + 1, ...limited, at: limited.at ?? this.options.clock.now() };
    let json = JSON.stringify(event);
    const redacted = this.redact(json);
    if (redacted !== json) {
      // A secret in a field: the redacted text is still the event (the replacement holds no
      // quote or backslash) unless a value spans JSON syntax or names a key; then each string is
      // redacted on its own, and an event that even so is no longer one is left out, said so.
      const reparsed = parseJson(redacted);
      const walked = isSameEvent(reparsed, event) ? reparsed : redactJsonValue(event, this.redact);
      event = isSameEvent(walked, event)
        ? walked
        : { seq: event.seq, at: event.at, type: 'error', message: `A ${event.type} event was left out: it could not be redacted.` };
      json = walked === reparsed ? redacted : JSON.stringify(event);
    }
    return { pending: { event, encoded: { seq: event.seq, type: event.type, at: event.at, json } }, bytes: Buffer.byteLength(json) };
  }

  /** A long text is redacted before it is cut, so no secret is left half-way across the cut. */
  private redactLongText(input: RunEventInput): RunEventInput {
    if (input.type === 'tool_result') return { ...input, content: this.redact(input.content) };
    if (input.type === 'thinking') return { ...input, text: this.redact(input.text) };
    return input;
  }

  /** One timer: for the pending batch (`flushMs`), for a held usage event (when it is due), not before a retry. */
  private armTimer(): void {
    if (this.timer !== null || this.closed) return;
    const now = this.options.clock.now();
    const usageDue = this.heldUsage ? this.lastUsageAt + this.limits.usageIntervalMs - now : Number.POSITIVE_INFINITY;
    const wait = Math.min(this.pending.length > 0 ? this.limits.flushMs : Number.POSITIVE_INFINITY, usageDue);
    if (wait === Number.POSITIVE_INFINITY) return;
    const delay = Math.max(wait, this.retryAt - now, 0);
    this.timer = this.options.clock.setTimer(() => {
      this.timer = null;
      if (this.heldUsage && this.usageDue()) {
        const usage = this.heldUsage;
        this.heldUsage = null;
        this.add(usage, false);
      }
      void this.flush();
      if (this.heldUsage || this.pending.length > 0) this.armTimer();
    }, delay);
  }

  /** Queues a write of whatever is pending when its turn comes. */
  private flush(): Promise<void> {
    if (this.writeQueued) return this.writing;
    this.writeQueued = true;
    this.writing = this.writing.then(() => {
      this.writeQueued = false;
      return this.writePending();
    });
    return this.writing;
  }

  private async writePending(): Promise<void> {
    const { store, bus, clock, logger, runId, executorId } = this.options;
    if (this.fenced || this.pending.length === 0 || clock.now() < this.retryAt) return;
    const batch = this.pending.splice(0, MAX_ROWS_PER_INSERT);
    let held: boolean;
    try {
      held = await store.appendRunEvents(
        runId,
        executorId,
        batch.map((p) => p.encoded),
      );
    } catch (error) {
      // Put back in front: a later batch must not be stored (and published) before this one.
      this.pending.unshift(...batch);
      this.failures++;
      this.retryAt = clock.now() + Math.min(this.limits.flushMs * 2 ** this.failures, RETRY_MAX_MS);
      logger.warn({ runId, err: error, events: batch.length }, 'could not store run events; trying again');
      this.armTimer();
      return;
    }
    this.failures = 0;
    this.retryAt = 0;
    if (!held) {
      this.fenced = true;
      this.pending = [];
      logger.warn({ runId }, 'run events refused: the run is no longer held by this instance');
      return;
    }
    bus.publish(
      runId,
      batch.map((p) => p.event),
    );
    if (this.pending.length > 0) void this.flush();
  }
}

/** The events that close a run's transcript at `at` (when it ends): why it failed (an `error` run), then its `result`. */
export function closingEvents(outcome: RunOutcome, at: number): RunEventInput[] {
  const { status, costUsd, inputTokens, outputTokens, cacheReadInputTokens, cacheCreationInputTokens, numTurns } = outcome;
  const result: RunEventInput = { type: 'result', status, costUsd, inputTokens, outputTokens, cacheReadInputTokens, cacheCreationInputTokens, numTurns, at };
  return status === 'error' ? [{ type: 'error', message: outcome.output, at }, result] : [result];
}

/** A closing event fits the reserve: an error's message is cut. */
function closingEvent(input: RunEventInput): RunEventInput {
  if (input.type !== 'error') return input;
  const { text, cut } = cutText(input.message, CLOSING_MESSAGE_BYTES);
  return cut ? { ...input, message: `${text}…` } : input;
}

/** 2 MiB, 64 KiB. */
function sizeText(bytes: number): string {
  const MiB = 1024 * 1024;
  return bytes % MiB === 0 ? `${bytes / MiB} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** Whether `value` is still the event `event` was (redaction must not touch its type, seq or time). */
function isSameEvent(value: unknown, event: RunEvent): value is RunEvent {
  return isRunEvent(value) && value.type === event.type && value.seq === event.seq && value.at === event.at;
}

function parseJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return null;
  }
}

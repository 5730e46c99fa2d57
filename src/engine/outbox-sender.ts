import http from 'node:http';
import https from 'node:https';
import type { Clock } from '../clock.js';
import { CONSECUTIVE_FAILURES_LIMIT, retryDelayMs } from '../domain/delivery-retry.js';
import type { SecretCipher } from '../domain/secret-cipher.js';
import { webhookMessage } from '../domain/webhook-message.js';
import { WEBHOOK_SECRET_NAME } from '../domain/webhooks.js';
import type { Logger } from '../logger.js';
import type { ClaimedDelivery, DeliveryAttempt, Store } from '../store/store.js';
import { BackgroundLoop } from './background-loop.js';
import type { EngineMetrics } from './engine-metrics.js';
import { postWebhook, type WebhookLookup, type WebhookResponse } from './webhook-request.js';

export interface OutboxSenderOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Decrypts webhooks' signing secrets. */
  cipher: SecretCipher;
  /** Names this instance as the claimer of the deliveries it sends. */
  instanceId: string;
  /** CRON_AGENTS_PUBLIC_URL: the dashboard's address, for the links in messages. */
  publicUrl: string;
  /** CRON_AGENTS_WEBHOOK_RETRY_BASE_MS: the first wait after a failed attempt. */
  retryBaseMs: number;
  /** CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE. */
  allowPrivate: boolean;
  /** The poll for deliveries written by other instances, or come due. */
  pollMs: number;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** One attempt's limit: a 2xx within this time is a success. */
  timeoutMs: number;
  /** The most of an answer read. */
  maxResponseBytes: number;
  /** How long a claim lasts: longer than any attempt, so a claim runs out only when its sender died. */
  claimMs: number;
  /** For tests: resolves host names (default: the system's resolver). */
  lookup?: WebhookLookup;
  /** Deliveries by result (/metrics); default: none. */
  metrics?: EngineMetrics;
}

/** What an answer becomes: delivered, tried again later, or failed. */
function attemptOf(response: WebhookResponse, attempts: number, retryAt: (delayMs: number) => number, retryBaseMs: number): DeliveryAttempt {
  const code = response.statusCode;
  if (code !== null && code >= 200 && code < 300) return { outcome: 'delivered', statusCode: code };
  const error = response.error ?? `HTTP ${code}${response.body.trim() ? `: ${response.body.trim().slice(0, 300)}` : ''}`;
  if (code === 410) return { outcome: 'failed', statusCode: code, error, disableReason: 'the receiver answered 410 Gone' };
  const delayMs = retryDelayMs(attempts, retryBaseMs);
  if (delayMs === null) return { outcome: 'failed', statusCode: code, error, disableReason: null };
  return { outcome: 'retry', statusCode: code, error, nextAttemptAt: retryAt(delayMs) };
}

/**
 * Sends the outbox's deliveries (engine/, like the executor): claims due ones while it has room
 * (at most `concurrency` in flight), posts each on its own, and records each attempt fenced by
 * its claim. It runs beside scheduling and runs, never in their way: a slow receiver holds one
 * of its slots for at most `timeoutMs`, and nothing else waits on it. Woken at once when this
 * instance writes deliveries; otherwise it polls, and aims at the next retry that comes due.
 */
export class OutboxSender {
  private readonly loop: BackgroundLoop;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  private unsubscribe: (() => void) | null = null;
  /** Aborted by stop(): attempts in flight end at once (and are tried again later) instead of holding the shutdown. */
  private stopping = new AbortController();
  /** When the next delivery is due, as the last round found it (null: none pending); undefined: not known. */
  private nextDue: number | null | undefined = undefined;

  constructor(private readonly options: OutboxSenderOptions) {
    this.loop = new BackgroundLoop({
      clock: options.clock,
      logger: options.logger,
      name: 'sending webhook deliveries',
      round: () => this.claimWhileRoom(),
      intervalMs: options.pollMs,
      delayAfterRound: () => this.untilNextDue(),
      roundAtStart: true,
      metrics: options.metrics,
    });
  }

  start(): void {
    if (this.loop.running) return;
    this.stopping = new AbortController();
    this.unsubscribe = this.options.store.onOutboxWritten(() => this.loop.wake());
    this.loop.start();
  }

  /** Sends what is due now (deliveries were written, or a retry asked for). */
  wake(): void {
    this.loop.wake();
  }

  /**
   * Stops claiming, ends the attempts in flight (each is recorded as failed, and tried again
   * after its backoff, here or on another instance) and returns once they are recorded. Safe twice.
   */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.loop.stop();
    this.stopping.abort();
    await Promise.allSettled([...this.inFlight.values()]);
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /**
   * One round: claims what is due, as much as there is room for. An idle round is one read (is
   * anything due?), not a claim: on SQLite a claim is a write, which would contend with runs.
   */
  private async claimWhileRoom(): Promise<void> {
    const { store, clock, instanceId, concurrency, claimMs } = this.options;
    this.nextDue = undefined;
    if (this.inFlight.size >= concurrency) return;
    const now = clock.now();
    const due = await store.nextDeliveryDueAt(now);
    if (due === null || due > now) {
      this.nextDue = due;
      return;
    }
    for (const delivery of await store.claimDeliveries(instanceId, now, now + claimMs, concurrency - this.inFlight.size)) {
      const sending = this.deliver(delivery).finally(() => {
        this.inFlight.delete(delivery.id);
        // A slot is free: claim what waits (coalesced with any other wake-up).
        this.loop.wake();
      });
      this.inFlight.set(delivery.id, sending);
    }
  }

  /** How long to wait: until the next delivery is due, at most the poll; the poll while every slot is busy. */
  private async untilNextDue(): Promise<number> {
    const { store, clock, pollMs, concurrency } = this.options;
    if (this.inFlight.size >= concurrency) return pollMs;
    const due = this.nextDue !== undefined ? this.nextDue : await store.nextDeliveryDueAt(clock.now());
    if (due === null) return pollMs;
    return Math.min(pollMs, Math.max(10, due - clock.now()));
  }

  /** One attempt of one delivery, recorded; never throws (a failure to record is logged, and the claim runs out). */
  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const { store, clock, logger, instanceId } = this.options;
    try {
      const attempt = await this.attempt(delivery);
      const result = await store.recordDeliveryAttempt(delivery.id, instanceId, attempt, clock.now(), CONSECUTIVE_FAILURES_LIMIT);
      this.options.metrics?.deliveryAttempted(attempt.outcome);
      const context = { deliveryId: delivery.id, webhookId: delivery.webhook.id, eventId: delivery.event.id, type: delivery.event.type };
      if (attempt.outcome === 'delivered') logger.debug({ ...context, statusCode: attempt.statusCode }, 'webhook delivered');
      else if (attempt.outcome !== 'abandoned')
        logger.warn({ ...context, attempt: delivery.attempts + 1, outcome: attempt.outcome, error: attempt.error }, 'webhook delivery failed');
      if (result.webhookDisabled) logger.warn({ webhookId: delivery.webhook.id, reason: result.webhookDisabled }, 'webhook disabled');
    } catch (error) {
      this.options.metrics?.deliveryAttempted('error');
      logger.error({ err: error, deliveryId: delivery.id }, 'could not send or record a webhook delivery; it is tried again when its claim runs out');
    }
  }

  private async attempt(delivery: ClaimedDelivery): Promise<DeliveryAttempt> {
    const { clock, cipher, publicUrl, retryBaseMs, allowPrivate, timeoutMs, maxResponseBytes, lookup } = this.options;
    const { webhook, event } = delivery;
    if (!webhook.enabled) return { outcome: 'abandoned', error: 'the webhook was disabled' };
    let secret: string;
    try {
      secret = cipher.decrypt(webhook.id, WEBHOOK_SECRET_NAME, webhook.encryptedSecret);
    } catch (error) {
      // Another instance's key: the attempt fails like any other, and says why.
      return attemptOf(
        { statusCode: null, body: '', error: error instanceof Error ? error.message : String(error) },
        delivery.attempts + 1,
        (d) => clock.now() + d,
        retryBaseMs,
      );
    }
    const message = webhookMessage(event, { format: webhook.format, secret }, publicUrl, Math.floor(clock.now() / 1000));
    const response = await postWebhook(webhook.url, message, {
      allowPrivate,
      timeoutMs,
      maxResponseBytes,
      lookup,
      agents: this.agents,
      signal: this.stopping.signal,
    });
    return attemptOf(response, delivery.attempts + 1, (d) => clock.now() + d, retryBaseMs);
  }
}

import dns from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import { isPrivateAddress } from '../domain/private-addresses.js';
import { urlHost } from '../domain/webhook-fields.js';
import type { WebhookMessage } from '../domain/webhook-message.js';

/** Resolves a host name to its addresses (and their families). */
export type WebhookLookup = (hostname: string) => Promise<{ address: string; family: number }[]>;

const systemLookup: WebhookLookup = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export interface WebhookRequestOptions {
  /** CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE: loopback, private and link-local addresses may be reached. */
  allowPrivate: boolean;
  /** The whole attempt: resolving, connecting, sending, and reading the answer. */
  timeoutMs: number;
  /** The most of an answer's body read (the rest is dropped). */
  maxResponseBytes: number;
  lookup?: WebhookLookup;
  /** Aborts the attempt (the service is stopping). */
  signal?: AbortSignal;
  /** Connection pools to reuse (the sender's, with keep-alive); default: a new connection per request. */
  agents?: { http: http.Agent; https: https.Agent };
}

/** What one attempt got: a status code (any), or an error (no answer, or refused before sending). */
export interface WebhookResponse {
  statusCode: number | null;
  /** The start of the answer's body, for the delivery log; empty without an answer. */
  body: string;
  /** Why there is no answer; null when there is one. */
  error: string | null;
}

const USER_AGENT = 'cron-agents-webhooks/1';

/** Resolves the URL's host, refuses it when it is (or resolves to) an address it may not reach, and returns the address to connect to. */
async function pickAddress(url: URL, options: WebhookRequestOptions): Promise<{ address: string; family: number }> {
  const host = urlHost(url);
  const family = net.isIP(host);
  const addresses = family !== 0 ? [{ address: host, family }] : await (options.lookup ?? systemLookup)(host);
  const first = addresses[0];
  if (!first) throw new Error(`${host} could not be resolved`);
  if (!options.allowPrivate) {
    // Every address is checked, not only the one used: a name must not mix public and private answers.
    const refused = addresses.find((a) => isPrivateAddress(a.address));
    if (refused) {
      const which = refused.address === host ? host : `${host} resolves to ${refused.address}, which`;
      throw new Error(`refused: ${which} is a loopback, private or link-local address (CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE=true allows it)`);
    }
  }
  return first;
}

/** A lookup that answers the address already checked, so the connection goes where the check looked (no second resolution to rebind). */
function pinned(address: string, family: number): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  };
}

/** Sends the request to `address` and reads at most `maxResponseBytes` of the answer. */
function send(url: URL, target: { address: string; family: number }, message: WebhookMessage, options: WebhookRequestOptions, signal: AbortSignal) {
  return new Promise<WebhookResponse>((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const client = secure ? https : http;
    const request = client.request(
      url,
      {
        method: 'POST',
        headers: { ...message.headers, 'user-agent': USER_AGENT, 'content-length': String(Buffer.byteLength(message.body)) },
        lookup: pinned(target.address, target.family),
        agent: (secure ? options.agents?.https : options.agents?.http) ?? false,
        signal,
        // Redirects are answers like any other: Node's client never follows them, and a 3xx is not a 2xx.
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => resolve({ statusCode: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), error: null });
        response.on('data', (chunk: Buffer) => {
          if (size >= options.maxResponseBytes) return;
          chunks.push(chunk.subarray(0, options.maxResponseBytes - size));
          size += chunk.length;
          // Enough read: the status is known, and a receiver that streams on for ever is not waited for.
          if (size >= options.maxResponseBytes) {
            response.destroy();
            done();
          }
        });
        response.on('end', done);
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(message.body);
  });
}

/**
 * Posts one webhook message: resolves the host and refuses loopback, private, link-local and
 * metadata addresses (unless allowed) at send time, connects to the address it checked, follows
 * no redirect, reads at most `maxResponseBytes` of the answer, and gives up after `timeoutMs`.
 * It never throws: a failure is an error in the result.
 */
export async function postWebhook(urlText: string, message: WebhookMessage, options: WebhookRequestOptions): Promise<WebhookResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no answer within ${options.timeoutMs / 1000} s`)), options.timeoutMs);
  const stop = () => controller.abort(new Error('the service stopped during the attempt'));
  if (options.signal?.aborted) stop();
  options.signal?.addEventListener('abort', stop, { once: true });
  try {
    const url = new URL(urlText);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${url.protocol} URLs are not sent to`);
    const aborted = new Promise<never>((_, reject) =>
      controller.signal.addEventListener('abort', () => reject(abortReason(controller.signal)), { once: true }),
    );
    aborted.catch(() => {});
    const target = await Promise.race([pickAddress(url, options), aborted]);
    return await Promise.race([send(url, target, message, options, controller.signal), aborted]);
  } catch (error) {
    const reason = controller.signal.aborted ? abortReason(controller.signal) : error;
    return { statusCode: null, body: '', error: reason instanceof Error ? reason.message : String(reason) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

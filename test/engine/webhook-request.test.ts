import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postWebhook, type WebhookRequestOptions } from '../../src/engine/webhook-request.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const MESSAGE = { headers: { 'content-type': 'application/json' }, body: '{"type":"webhook.test"}' };
const OPTIONS: WebhookRequestOptions = { allowPrivate: true, timeoutMs: 2_000, maxResponseBytes: 65_536 };

describe('an outbound webhook request', () => {
  let receiver: WebhookReceiver;

  beforeEach(async () => {
    receiver = await WebhookReceiver.start();
  });

  afterEach(async () => {
    await receiver.close();
  });

  it('posts the message and reports the answer', async () => {
    receiver.respond = () => ({ status: 204 });
    const response = await postWebhook(`${receiver.url}/hook?x=1`, MESSAGE, OPTIONS);
    expect(response).toEqual({ statusCode: 204, body: '', error: null });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]).toMatchObject({ method: 'POST', path: '/hook?x=1', body: MESSAGE.body });
    expect(receiver.requests[0]!.headers['user-agent']).toBe('cron-agents-webhooks/1');
  });

  describe('without CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE', () => {
    const strict = { ...OPTIONS, allowPrivate: false };

    it('refuses 127.0.0.1 and sends nothing', async () => {
      const response = await postWebhook(`${receiver.url}/hook`, MESSAGE, strict);
      expect(response.statusCode).toBeNull();
      expect(response.error).toMatch(/^refused: 127\.0\.0\.1 is a loopback, private or link-local address/);
      expect(receiver.requests).toHaveLength(0);
    });

    it('refuses the metadata address 169.254.169.254 without connecting', async () => {
      const started = Date.now();
      const response = await postWebhook('http://169.254.169.254/latest/meta-data/', MESSAGE, strict);
      expect(response.error).toMatch(/^refused: 169\.254\.169\.254 is a loopback, private or link-local address/);
      expect(Date.now() - started).toBeLessThan(1_000);
    });

    it('refuses a host name that resolves to 127.0.0.1 (after resolving it, at send time)', async () => {
      const port = new URL(receiver.url).port;
      const viaLocalhost = await postWebhook(`http://localhost:${port}/hook`, MESSAGE, strict);
      expect(viaLocalhost.error).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), which is a loopback/);
      const lookup = async (host: string) => (host === 'hooks.example.test' ? [{ address: '127.0.0.1', family: 4 }] : []);
      const viaName = await postWebhook(`http://hooks.example.test:${port}/hook`, MESSAGE, { ...strict, lookup });
      expect(viaName.error).toMatch(/^refused: hooks\.example\.test resolves to 127\.0\.0\.1/);
      // A name with a public answer and a private one is refused too.
      const mixed = async () => [
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.7', family: 4 },
      ];
      expect((await postWebhook('http://mixed.example.test/', MESSAGE, { ...strict, lookup: mixed })).error).toMatch(/resolves to 10\.0\.0\.7/);
      expect(receiver.requests).toHaveLength(0);
    });
  });

  it('connects to the address it checked (the name is resolved once, then pinned)', async () => {
    const port = new URL(receiver.url).port;
    const looked: string[] = [];
    const lookup = async (host: string) => {
      looked.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const response = await postWebhook(`http://receiver.example.test:${port}/pinned`, MESSAGE, { ...OPTIONS, lookup });
    expect(response.statusCode).toBe(200);
    expect(looked).toEqual(['receiver.example.test']);
    expect(receiver.requests[0]!.headers.host).toBe(`receiver.example.test:${port}`);
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    receiver.respond = (request) => (request.path === '/moved' ? { status: 302, headers: { location: `${receiver.url}/elsewhere` } } : { status: 200 });
    const response = await postWebhook(`${receiver.url}/moved`, MESSAGE, OPTIONS);
    expect(response.statusCode).toBe(302);
    expect(receiver.requests.map((r) => r.path)).toEqual(['/moved']);
  });

  it('reads at most 64 KiB of an answer', async () => {
    receiver.respond = () => ({ status: 500, body: 'x'.repeat(1024 * 1024) });
    const response = await postWebhook(`${receiver.url}/big`, MESSAGE, OPTIONS);
    expect(response.statusCode).toBe(500);
    expect(response.body.length).toBe(65_536);
  });

  it('gives up after the timeout', async () => {
    receiver.respond = () => 'hang';
    const response = await postWebhook(`${receiver.url}/slow`, MESSAGE, { ...OPTIONS, timeoutMs: 200 });
    expect(response).toEqual({ statusCode: null, body: '', error: 'no answer within 0.2 s' });
  });
});

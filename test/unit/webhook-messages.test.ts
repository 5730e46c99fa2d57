import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DELIVERY_ATTEMPTS, retryDelayMs } from '../../src/domain/delivery-retry.js';
import { slackMessage, type SlackBlock } from '../../src/domain/slack-message.js';
import { generateWebhookSecret, signWebhook, verifyWebhook } from '../../src/domain/standard-webhooks.js';
import { cutUtf8, EVENT_OUTPUT_BYTES, runEndedEvents, runSnapshot, type OutboxEvent } from '../../src/domain/webhook-events.js';
import { checkWebhookFields, refusedWebhookUrl } from '../../src/domain/webhook-fields.js';
import { webhookMessage } from '../../src/domain/webhook-message.js';
import type { FinalRunStatus, Run } from '../../src/domain/types.js';

/** The spec's own test vector (standard-webhooks, the reference libraries' tests). */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

function run(overrides: Partial<Run> & { status: FinalRunStatus }): Run & { status: FinalRunStatus } {
  return {
    id: 'run-1',
    agentId: 'agent-1',
    trigger: 'schedule',
    scheduledFor: Date.parse('2026-01-05T09:00:00Z'),
    output: 'line 1\nline 2',
    costUsd: 0.0123,
    inputTokens: 10,
    outputTokens: 5,
    cacheReadInputTokens: 0,
    cacheCreationInputTokens: 0,
    numTurns: 1,
    queuedAt: Date.parse('2026-01-05T09:00:00Z'),
    startedAt: Date.parse('2026-01-05T09:00:01Z'),
    completedAt: Date.parse('2026-01-05T09:00:13Z'),
    durationMs: 12_000,
    executorId: 'x',
    leaseExpiresAt: null,
    structuredOutput: null,
    retryOf: null,
    attempt: 1,
    skippedSlots: null,
    lastSkippedFor: null,
    reservedUsd: 0,
    notBefore: null,
    agentVersion: null,
    ...overrides,
  };
}

function eventOf(r: Run & { status: FinalRunStatus }): OutboxEvent {
  const [event] = runEndedEvents(r, 'Daily <Digest> & co', null);
  return { ...event!, id: 'evt_1', createdAt: Date.parse('2026-01-05T09:00:13Z') };
}

describe('Standard Webhooks signatures', () => {
  it("signs the spec's test vector as the spec says", () => {
    expect(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    const headers = { id: VECTOR.id, timestamp: String(VECTOR.timestamp), signature: `v1,bogus ${VECTOR.signature}` };
    expect(verifyWebhook(VECTOR.secret, headers, VECTOR.body, VECTOR.timestamp + 60)).toBe(true);
    expect(verifyWebhook(VECTOR.secret, headers, VECTOR.body, VECTOR.timestamp + 600)).toBe(false);
    expect(verifyWebhook(VECTOR.secret, headers, `${VECTOR.body} `, VECTOR.timestamp)).toBe(false);
  });

  it('makes secrets of whsec_ and 32 random bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });

  it('sends the standard format signed, the same body on every attempt', () => {
    const secret = generateWebhookSecret();
    const event = eventOf(run({ status: 'success' }));
    const first = webhookMessage(event, { format: 'standard', secret }, 'https://agents.example.com/', 1767603613);
    const later = webhookMessage(event, { format: 'standard', secret }, 'https://agents.example.com/', 1767603700);
    expect(later.body).toBe(first.body);
    expect(first.headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': 'evt_1', 'webhook-timestamp': '1767603613' });
    // The receiver's side, written from the spec rather than from our code.
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = `v1,${createHmac('sha256', key).update(`evt_1.1767603613.${first.body}`).digest('base64')}`;
    expect(timingSafeEqual(Buffer.from(first.headers['webhook-signature']!), Buffer.from(expected))).toBe(true);
    const body = JSON.parse(first.body) as { type: string; timestamp: string; data: Record<string, unknown> };
    expect(body.type).toBe('run.succeeded');
    expect(body.timestamp).toBe('2026-01-05T09:00:13.000Z');
    expect(Object.keys(body.data)).toEqual(['agent', 'run', 'url']);
    expect(body.data.agent).toEqual({ id: 'agent-1', name: 'Daily <Digest> & co' });
    expect(body.data.url).toBe('https://agents.example.com/runs/run-1');
    expect(body.data.run).toMatchObject({ id: 'run-1', status: 'success', costUsd: 0.0123, durationMs: 12_000, completedAt: '2026-01-05T09:00:13.000Z' });
  });
});

describe('events', () => {
  it('cuts the output to 4 KiB of UTF-8 between characters', () => {
    const snapshot = runSnapshot(run({ status: 'error', output: 'é'.repeat(3000) }));
    expect(Buffer.byteLength(snapshot.output!, 'utf8')).toBeLessThanOrEqual(EVENT_OUTPUT_BYTES);
    expect(snapshot.output).toBe('é'.repeat(2048));
    expect(snapshot.outputTruncated).toBe(true);
    expect(cutUtf8('ab😀', 4)).toBe('ab');
    expect(runSnapshot(run({ status: 'success' })).outputTruncated).toBe(false);
  });

  it('maps statuses to event types, and a success after a failure to agent.recovered too', () => {
    const types = (status: FinalRunStatus, previous: string | null) => runEndedEvents(run({ status }), 'a', previous).map((e) => e.type);
    expect(types('success', null)).toEqual(['run.succeeded']);
    expect(types('success', 'success')).toEqual(['run.succeeded']);
    expect(types('success', 'error')).toEqual(['run.succeeded', 'agent.recovered']);
    expect(types('success', 'budget_exceeded')).toEqual(['run.succeeded', 'agent.recovered']);
    expect(types('error', 'error')).toEqual(['run.failed']);
    expect(types('budget_exceeded', null)).toEqual(['run.failed']);
    expect(types('cancelled', 'error')).toEqual(['run.cancelled']);
  });
});

describe('retries', () => {
  it('waits base x 1, 6, 24, 120, 720 (within 10% jitter), 6 attempts in all', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 5_000, mid))).toEqual([5_000, 30_000, 120_000, 600_000, 3_600_000]);
    expect(retryDelayMs(DELIVERY_ATTEMPTS, 5_000, mid)).toBeNull();
    expect(retryDelayMs(1, 5_000, () => 0)).toBe(4_500);
    expect(retryDelayMs(1, 5_000, () => 1)).toBe(5_500);
  });
});

describe('webhook fields', () => {
  const fields = {
    name: ' Ops ',
    url: 'https://hooks.example.com/x',
    events: ['run.failed' as const, 'run.failed' as const],
    agentIds: null,
    format: 'standard' as const,
    enabled: true,
  };

  it('normalizes, and names the field that is wrong', () => {
    expect(checkWebhookFields(fields, false)).toMatchObject({ name: 'Ops', events: ['run.failed'] });
    expect(() => checkWebhookFields({ ...fields, url: 'ftp://x.example.com' }, false)).toThrow(/url: must be an http/);
    expect(() => checkWebhookFields({ ...fields, events: [] }, false)).toThrow(/events/);
    expect(() => checkWebhookFields({ ...fields, agentIds: [] }, false)).toThrow(/agentIds/);
  });

  it('refuses loopback, private and metadata addresses when saved, unless allowed', () => {
    for (const url of ['http://127.0.0.1:8080/x', 'http://169.254.169.254/latest', 'http://[::1]/x', 'http://10.1.2.3/', 'http://localhost:3000/']) {
      expect(refusedWebhookUrl(url, false), url).toMatch(/loopback, private or link-local/);
      expect(refusedWebhookUrl(url, true), url).toBeNull();
    }
    expect(refusedWebhookUrl('https://hooks.slack.com/services/T/B/x', false)).toBeNull();
  });
});

describe('the Slack format', () => {
  /** The parts of Block Kit a message uses, checked as Slack does: known block types, text objects, limits. */
  function checkBlock(block: SlackBlock): void {
    expect(['section', 'actions', 'context']).toContain(block.type);
    if (block.type === 'section') {
      expect(block.text.type).toBe('mrkdwn');
      expect(block.text.text.length).toBeLessThanOrEqual(3000);
      expect(block.fields?.length ?? 0).toBeLessThanOrEqual(10);
      for (const field of block.fields ?? []) expect(field.text.length).toBeLessThanOrEqual(2000);
    }
    if (block.type === 'actions') {
      for (const button of block.elements) {
        expect(button.type).toBe('button');
        expect(button.text.type).toBe('plain_text');
        expect(button.text.text.length).toBeLessThanOrEqual(75);
        expect(button.url).toMatch(/^https?:\/\//);
      }
    }
  }

  it('posts text and blocks: agent, status, cost, duration, the first lines of the output, a link; unsigned', () => {
    const output = Array.from({ length: 30 }, (_, i) => `line ${i + 1} <b>`).join('\n');
    const event = eventOf(run({ status: 'error', output }));
    const message = webhookMessage(event, { format: 'slack', secret: generateWebhookSecret() }, 'https://agents.example.com', 1767603613);
    expect(message.headers).toEqual({ 'content-type': 'application/json' });
    const payload = JSON.parse(message.body) as { text: string; blocks: SlackBlock[] };
    expect(Object.keys(payload).sort()).toEqual(['blocks', 'text']);
    expect(payload.text).toContain('Daily <Digest> & co failed');
    for (const block of payload.blocks) checkBlock(block);
    const [head, preview, actions] = payload.blocks;
    expect(head).toMatchObject({ type: 'section' });
    const fields = head!.type === 'section' ? (head!.fields ?? []).map((f) => f.text) : [];
    expect(fields).toEqual(['*Agent*\nDaily &lt;Digest&gt; &amp; co', '*Status*\nerror', '*Cost*\n$0.0123', '*Duration*\n12.0 s']);
    expect(head!.type === 'section' && head!.text.text).toContain('<https://agents.example.com/runs/run-1|Daily &lt;Digest&gt; &amp; co>');
    const previewText = preview!.type === 'section' ? preview!.text.text : '';
    expect(previewText).toContain('line 1 &lt;b&gt;');
    expect(previewText).toContain('line 10 ');
    expect(previewText).not.toContain('line 11 ');
    expect(actions).toEqual({
      type: 'actions',
      elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open the run' }, url: 'https://agents.example.com/runs/run-1' }],
    });
  });

  it('words a test event', () => {
    const message = slackMessage({ id: 'e', type: 'webhook.test', agentId: null, runId: null, data: {}, createdAt: 0 }, 'https://a.example.com/');
    expect(message.text).toMatch(/test/);
    for (const block of message.blocks) checkBlock(block);
  });
});

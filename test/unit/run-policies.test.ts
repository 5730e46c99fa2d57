import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/domain/cron.js';
import { pausedReason, retryDelayMs } from '../../src/domain/run-policies.js';
import { countSlots, MISSED_COUNT_LIMIT, missedOutput, overlapOutput } from '../../src/domain/skip-reasons.js';
import { slackMessage } from '../../src/domain/slack-message.js';
import { agentPausedEvent, runEndedEventType, type OutboxEvent } from '../../src/domain/webhook-events.js';

const t = (iso: string): number => Date.parse(iso);

describe('retry delays', () => {
  it('waits retryDelaySeconds before the first retry, doubled per attempt, at most an hour', () => {
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(60, attempt))).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(retryDelayMs(60, 7)).toBe(3_600_000); // 60 s * 64 = 64 min: capped
    expect(retryDelayMs(3600, 1)).toBe(3_600_000);
    expect(retryDelayMs(3600, 2)).toBe(3_600_000);
    expect(retryDelayMs(1, 11)).toBe(1_024_000);
  });
});

describe('pause reasons', () => {
  it('name the count, the last run, its status and the first line of its output', () => {
    const reason = pausedReason(3, { id: 'run-9', status: 'error', output: 'API Error: 529 overloaded\nstack...' });
    expect(reason).toBe('Paused after 3 failed runs in a row (pauseAfterFailures); the last, run-9, ended as error: API Error: 529 overloaded.');
    expect(pausedReason(1, { id: 'r', status: 'budget_exceeded', output: null })).toBe(
      'Paused after a failed run (pauseAfterFailures); the last, r, ended as budget_exceeded.',
    );
    expect(pausedReason(2, { id: 'r', status: 'error', output: 'x'.repeat(500) }).length).toBeLessThan(320);
  });
});

describe('missed slots', () => {
  it('counts the slots between two slots exactly, both included', () => {
    const hourly = parseSchedule('0 * * * *', 'UTC');
    const next = (at: number) => hourly.nextAfter(at);
    expect(countSlots(next, t('2026-01-05T09:00:00Z'), t('2026-01-05T12:00:00Z'))).toEqual({ count: 4, approximate: false });
    expect(countSlots(next, t('2026-01-05T09:00:00Z'), t('2026-01-05T09:00:00Z'))).toEqual({ count: 1, approximate: false });
    // Across the fall-back night in Berlin an hourly schedule fires on both 02:00s.
    const berlin = parseSchedule('0 * * * *', 'Europe/Berlin');
    expect(countSlots((at) => berlin.nextAfter(at), t('2026-10-24T22:00:00Z'), t('2026-10-25T03:00:00Z'))).toEqual({ count: 6, approximate: false });
  });

  it('beyond its bound, estimates from the spacing of the slots it counted, and says so', () => {
    const everySecond = parseSchedule('* * * * * *', 'UTC');
    const day = countSlots((at) => everySecond.nextAfter(at), t('2026-01-05T00:00:00Z'), t('2026-01-05T23:59:59Z'));
    expect(day).toEqual({ count: 86_400, approximate: true });
    const weekdays = parseSchedule('0 9 * * 1-5', 'UTC');
    const twoYears = countSlots((at) => weekdays.nextAfter(at), t('2026-01-05T09:00:00Z'), t('2028-01-04T09:00:00Z'));
    expect(twoYears.approximate).toBe(true);
    expect(Math.abs(twoYears.count - 522)).toBeLessThanOrEqual(3);
    expect(MISSED_COUNT_LIMIT).toBeLessThan(522);
  });

  it('outputs say how many slots, when, and why', () => {
    expect(missedOutput(4, false, t('2026-01-05T09:00:00Z'), t('2026-01-05T12:00:00Z'), 3_600_000)).toBe(
      'Missed while the service was down (or too busy to fire them): 4 slots (from 2026-01-05T09:00:00.000Z to 2026-01-05T12:00:00.000Z) did not run. After downtime only the latest missed slot runs, and only when it is less than the catch-up window (1h, CRON_AGENTS_CATCHUP_WINDOW) old.',
    );
    expect(missedOutput(86_400, true, 0, 1, null)).toMatch(/about 86400 slots/);
    expect(overlapOutput({ id: 'run-1', status: 'running', trigger: 'schedule' }, 'skip')).toBe(
      'Skipped: the agent\'s previous run run-1 was still running (overlapPolicy "skip").',
    );
    expect(overlapOutput({ id: 'run-2', status: 'queued', trigger: 'retry' }, 'skip')).toMatch(/retry run-2 was still waiting to start/);
    expect(overlapOutput({ id: 'run-3', status: 'running', trigger: 'manual' }, 'queue')).toMatch(/already waiting.*"queue"/);
  });

  it('a skipped row emits run.skipped, never run.failed', () => {
    expect(runEndedEventType('skipped')).toBe('run.skipped');
    expect(runEndedEventType('budget_exceeded')).toBe('run.failed');
  });
});

describe('agent.paused', () => {
  it('carries the agent, why, when, how many failures and the last run; Slack says it in words with a link to the agent', () => {
    const event = agentPausedEvent({ id: 'a1', name: 'Digest <daily>' }, 'Paused after 3 failed runs in a row.', '2026-01-05T09:00:00.000Z', 3, null);
    expect(event).toEqual({
      type: 'agent.paused',
      agentId: 'a1',
      runId: null,
      data: {
        agent: { id: 'a1', name: 'Digest <daily>' },
        pausedReason: 'Paused after 3 failed runs in a row.',
        pausedAt: '2026-01-05T09:00:00.000Z',
        consecutiveFailures: 3,
        lastRun: null,
      },
    });
    const stored: OutboxEvent = { ...event, id: 'evt_1', createdAt: 0 };
    const message = slackMessage(stored, 'https://agents.example.com/agents/a1');
    expect(message.text).toBe('Digest <daily> was paused: Paused after 3 failed runs in a row.');
    expect(JSON.stringify(message.blocks)).toContain('<https://agents.example.com/agents/a1|Digest &lt;daily&gt;>* was paused');
  });
});

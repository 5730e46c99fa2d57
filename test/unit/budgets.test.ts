import { describe, expect, it } from 'vitest';
import {
  alertLevels,
  budgetAlertText,
  budgetEvent,
  capSkipCause,
  capSkipOutput,
  capState,
  checkBudgetSettings,
  decideRun,
  epochDay,
  formatUsd,
  isBudgetAlertData,
  percentOf,
  remainingUsd,
  utcDay,
  utcMonth,
  type CapState,
} from '../../src/domain/budgets.js';
import { ValidationError } from '../../src/domain/errors.js';
import { slackMessage } from '../../src/domain/slack-message.js';
import { standardBody } from '../../src/domain/webhook-message.js';
import type { OutboxEvent } from '../../src/domain/webhook-events.js';

const NOW = Date.parse('2026-03-14T15:09:26.535Z');

/** A cap of `capUsd` with `spentUsd` spent and `reservedUsd` held beyond it (today's window of NOW). */
function cap(capUsd: number, spentUsd: number, reservedUsd = 0, scope: 'agent' | 'deployment' = 'agent', window: 'day' | 'month' = 'day'): CapState {
  // heldUsd counts max(cost, reserved) of running runs: what they spent so far plus the unspent part of their reservations.
  const state = capState(scope, window, capUsd, NOW, { endedUsd: spentUsd }, { accruedUsd: 0, heldUsd: reservedUsd });
  if (!state) throw new Error('a cap was given');
  return state;
}

describe('UTC windows', () => {
  it('a day is [00:00, 24:00) UTC, whatever the instant within it', () => {
    expect(utcDay(NOW)).toEqual({ start: Date.parse('2026-03-14T00:00:00Z'), end: Date.parse('2026-03-15T00:00:00Z') });
    expect(utcDay(Date.parse('2026-03-14T00:00:00Z')).start).toBe(Date.parse('2026-03-14T00:00:00Z'));
    expect(utcDay(Date.parse('2026-03-14T23:59:59.999Z')).end).toBe(Date.parse('2026-03-15T00:00:00Z'));
  });

  it('a month runs from its first day to the next month, across years and leap days', () => {
    expect(utcMonth(NOW)).toEqual({ start: Date.parse('2026-03-01T00:00:00Z'), end: Date.parse('2026-04-01T00:00:00Z') });
    expect(utcMonth(Date.parse('2026-12-31T23:59:59.999Z'))).toEqual({ start: Date.parse('2026-12-01T00:00:00Z'), end: Date.parse('2027-01-01T00:00:00Z') });
    expect(utcMonth(Date.parse('2028-02-29T12:00:00Z')).end).toBe(Date.parse('2028-03-01T00:00:00Z'));
    expect(utcMonth(Date.parse('2027-02-28T12:00:00Z')).end).toBe(Date.parse('2027-03-01T00:00:00Z'));
  });

  it('the ledger key is the UTC day number', () => {
    expect(epochDay(0)).toBe(0);
    expect(epochDay(Date.parse('2026-03-14T23:59:59.999Z'))).toBe(epochDay(Date.parse('2026-03-14T00:00:00Z')));
    expect(epochDay(Date.parse('2026-03-15T00:00:00Z')) - epochDay(Date.parse('2026-03-14T00:00:00Z'))).toBe(1);
  });

  it('a cap state carries its window and splits spent from reserved', () => {
    const state = capState('deployment', 'month', 10, NOW, { endedUsd: 2 }, { accruedUsd: 0.5, heldUsd: 1.25 });
    expect(state).toEqual({
      scope: 'deployment',
      window: 'month',
      capUsd: 10,
      windowStart: Date.parse('2026-03-01T00:00:00Z'),
      windowEnd: Date.parse('2026-04-01T00:00:00Z'),
      spentUsd: 2.5,
      reservedUsd: 0.75,
    });
    expect(remainingUsd(state!)).toBe(10 - 2.5 - 0.75);
    expect(capState('agent', 'day', null, NOW, { endedUsd: 5 }, { accruedUsd: 0, heldUsd: 0 })).toBeNull();
  });
});

describe('the decision before a run starts', () => {
  it('without caps: the per-run limit as it is, nothing reserved', () => {
    expect(decideRun([], 0.5)).toEqual({ kind: 'run', maxBudgetUsd: 0.5, reservedUsd: 0 });
    expect(decideRun([], null)).toEqual({ kind: 'run', maxBudgetUsd: null, reservedUsd: 0 });
  });

  it('a run without a per-run limit reserves the whole remainder of the tightest cap', () => {
    expect(decideRun([cap(5, 1), cap(20, 17.5, 0, 'deployment', 'month')], null)).toEqual({ kind: 'run', maxBudgetUsd: 2.5, reservedUsd: 2.5 });
  });

  it('the per-run limit wins when it is smaller than every remainder', () => {
    expect(decideRun([cap(5, 1), cap(20, 2, 0, 'deployment')], 0.25)).toEqual({ kind: 'run', maxBudgetUsd: 0.25, reservedUsd: 0.25 });
  });

  it('reservations of runs in progress count: two runs cannot both take the same remainder', () => {
    const first = decideRun([cap(1, 0.4)], null);
    expect(first).toEqual({ kind: 'run', maxBudgetUsd: 0.6, reservedUsd: 0.6 });
    const second = decideRun([cap(1, 0.4, first.kind === 'run' ? first.reservedUsd : 0)], null);
    expect(second.kind).toBe('skip');
  });

  it('skips when a cap is used up, to within a millionth of a dollar, naming the first such cap', () => {
    const usedUp = cap(2, 1.9999995, 0, 'deployment', 'month');
    const decision = decideRun([cap(5, 1), usedUp, cap(1, 1, 0, 'deployment')], null);
    expect(decision).toEqual({ kind: 'skip', cap: usedUp });
    // Just over the margin: still room for a (tiny) run.
    const tiny = decideRun([cap(2, 1.999998)], null);
    expect(tiny.kind).toBe('run');
    if (tiny.kind === 'run') expect(tiny.reservedUsd).toBeCloseTo(0.000002, 9);
    // Overspent (the SDK's overshoot of one turn): used up, not a negative budget.
    expect(decideRun([cap(2, 2.4)], 1).kind).toBe('skip');
  });

  it('a cap of 0 lets nothing start', () => {
    expect(decideRun([cap(0, 0)], null).kind).toBe('skip');
  });
});

describe('wording and keys', () => {
  it('the skip names the cap, its amount and the spend, and keys the cap and window', () => {
    expect(capSkipOutput(cap(1.5, 1.62))).toBe("Skipped: the agent's daily spend cap of $1.50 is used up ($1.62 spent today, 2026-03-14 (UTC))");
    expect(capSkipOutput(cap(100, 60, 40, 'deployment', 'month'))).toBe(
      "Skipped: the deployment's monthly spend cap of $100.00 is used up ($60.00 spent and $40.00 reserved by runs in progress this month, 2026-03 (UTC))",
    );
    expect(capSkipCause(cap(1, 1))).toBe(`cap:agent:day:${Date.parse('2026-03-14T00:00:00Z')}`);
    expect(capSkipCause(cap(1, 1, 0, 'deployment', 'month'))).toBe(`cap:deployment:month:${Date.parse('2026-03-01T00:00:00Z')}`);
  });

  it('formats dollars with cents, and small amounts to a hundredth of a cent', () => {
    expect(formatUsd(5)).toBe('$5.00');
    expect(formatUsd(1.5)).toBe('$1.50');
    expect(formatUsd(0.0123)).toBe('$0.0123');
    expect(formatUsd(0.012)).toBe('$0.012');
    expect(formatUsd(1234.5678)).toBe('$1234.5678');
  });

  it('percent of a cap, one decimal; a cap of 0 is all used', () => {
    expect(percentOf(1.2, 1.5)).toBe(80);
    expect(percentOf(1, 3)).toBe(33.3);
    expect(percentOf(0, 0)).toBe(100);
  });
});

describe('alerts', () => {
  it('warning from warnAtPercent of the cap, exhausted when it is used up; reservations do not count', () => {
    expect(alertLevels(cap(10, 7.99), 80)).toEqual([]);
    expect(alertLevels(cap(10, 8), 80)).toEqual(['warning']);
    expect(alertLevels(cap(10, 9.9999995), 80)).toEqual(['warning', 'exhausted']);
    expect(alertLevels(cap(10, 12), 80)).toEqual(['warning', 'exhausted']);
    // A run holding the whole remainder has not spent it.
    expect(alertLevels(cap(10, 1, 9), 80)).toEqual([]);
    expect(alertLevels(cap(10, 1), 10)).toEqual(['warning']);
  });

  it("an event carries the agent (none for the deployment's caps) and the cap's state", () => {
    const event = budgetEvent('warning', cap(1.5, 1.2000000000000002), { id: 'a1', name: 'nightly' });
    expect(event).toEqual({
      type: 'budget.warning',
      agentId: 'a1',
      runId: null,
      data: {
        agent: { id: 'a1', name: 'nightly' },
        budget: {
          scope: 'agent',
          window: 'day',
          capUsd: 1.5,
          spentUsd: 1.2,
          percent: 80,
          windowStart: '2026-03-14T00:00:00.000Z',
          windowEnd: '2026-03-15T00:00:00.000Z',
        },
      },
    });
    const deployment = budgetEvent('exhausted', cap(100, 101, 0, 'deployment', 'month'), null);
    expect(deployment).toMatchObject({
      type: 'budget.exhausted',
      agentId: null,
      runId: null,
      data: { agent: null, budget: { scope: 'deployment', percent: 101 } },
    });
    expect(isBudgetAlertData(deployment.data)).toBe(true);
    expect(isBudgetAlertData({ agent: null })).toBe(false);
  });

  it('as Slack text and as a Standard Webhooks body', () => {
    const created = budgetEvent('exhausted', cap(1.5, 1.62), { id: 'a1', name: 'nightly <report>' });
    const event: OutboxEvent = { id: 'evt_1', createdAt: NOW, ...created };
    const message = slackMessage(event, 'https://cron.example.com/agents/a1');
    expect(message.text).toBe('Agent nightly <report> has used up its daily spend cap of $1.50: $1.62 spent in 2026-03-14 (UTC)');
    expect(JSON.stringify(message.blocks)).toContain('nightly &lt;report&gt;');
    expect(JSON.stringify(message.blocks)).toContain('<https://cron.example.com/agents/a1|Open cron-agents>');
    const warning = budgetEvent('warning', cap(100, 81, 0, 'deployment', 'month'), null);
    if (!isBudgetAlertData(warning.data)) throw new Error('a budget event carries its budget');
    expect(budgetAlertText('budget.warning', warning.data)).toBe(
      'The deployment has spent 81% of its monthly spend cap of $100.00: $81.00 spent in 2026-03 (UTC)',
    );
    const body = JSON.parse(standardBody({ id: 'evt_2', createdAt: NOW, ...warning }, 'https://cron.example.com/')) as Record<string, unknown>;
    expect(body).toEqual({ type: 'budget.warning', timestamp: '2026-03-14T15:09:26.535Z', data: { ...warning.data, url: 'https://cron.example.com/' } });
  });
});

describe('deployment budget settings', () => {
  it('accepts caps from 0, null for none, warnAtPercent 1-100 (default 80)', () => {
    expect(checkBudgetSettings({ dailyUsd: 0, monthlyUsd: null })).toEqual({ dailyUsd: 0, monthlyUsd: null, warnAtPercent: 80 });
    expect(checkBudgetSettings({ dailyUsd: 5, monthlyUsd: 100, warnAtPercent: 100 })).toEqual({ dailyUsd: 5, monthlyUsd: 100, warnAtPercent: 100 });
  });

  it('refuses the rest, naming the field', () => {
    const field = (input: Parameters<typeof checkBudgetSettings>[0]) => {
      try {
        checkBudgetSettings(input);
      } catch (error) {
        return error instanceof ValidationError ? error.details[0]?.field : 'not a ValidationError';
      }
      return null;
    };
    expect(field({ dailyUsd: -1, monthlyUsd: null })).toBe('dailyUsd');
    expect(field({ dailyUsd: null, monthlyUsd: Number.NaN })).toBe('monthlyUsd');
    expect(field({ dailyUsd: null, monthlyUsd: 2_000_000 })).toBe('monthlyUsd');
    expect(field({ dailyUsd: null, monthlyUsd: null, warnAtPercent: 0 })).toBe('warnAtPercent');
    expect(field({ dailyUsd: null, monthlyUsd: null, warnAtPercent: 80.5 })).toBe('warnAtPercent');
  });
});

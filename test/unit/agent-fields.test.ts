import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TURNS, DEFAULT_TIMEZONE, planAgentUpdate, planNewAgent, type AgentInput } from '../../src/domain/agent-fields.js';
import { ValidationError } from '../../src/domain/errors.js';
import type { Agent } from '../../src/domain/types.js';
import { POLICY_DEFAULTS, RUN_OPTION_DEFAULTS } from '../support/run-option-defaults.js';

const t = (iso: string): number => Date.parse(iso);
const NOW = t('2026-01-05T08:20:00Z');

const input: AgentInput = { name: 'nightly report', schedule: '0 * * * *', prompt: 'Summarise the logs' };

/** An agent as the store would return it after planNewAgent + createAgent. */
function storedAgent(overrides: Partial<AgentInput> = {}, createdAt = NOW): Agent {
  const { fields, nextFireAt } = planNewAgent({ ...input, ...overrides }, createdAt);
  return {
    id: 'agent-1',
    ...fields,
    nextFireAt,
    lastRunAt: null,
    lastStatus: null,
    pausedReason: null,
    pausedAt: null,
    creator: null,
    createdAt,
    updatedAt: createdAt,
  };
}

describe('planNewAgent', () => {
  it('applies the defaults', () => {
    const { fields, nextFireAt } = planNewAgent(input, NOW);
    expect(DEFAULT_MAX_TURNS).toBe(50);
    expect(DEFAULT_TIMEZONE).toBe('UTC');
    expect(fields).toEqual({
      name: 'nightly report',
      description: null,
      schedule: '0 * * * *',
      timezone: 'UTC',
      prompt: 'Summarise the logs',
      enabled: true,
      maxTurns: 50,
      maxBudgetUsd: null,
      model: null,
      allowedTools: [],
      ...RUN_OPTION_DEFAULTS,
      ...POLICY_DEFAULTS,
    });
    expect(nextFireAt).toBe(t('2026-01-05T09:00:00Z'));
  });

  it('trims the name, schedule and model but not the prompt', () => {
    const { fields } = planNewAgent(
      { ...input, name: '  padded name \t', schedule: '  0 * * * * ', model: ' claude-sonnet-4-5 ', prompt: '  keep my spaces  ' },
      NOW,
    );
    expect(fields.name).toBe('padded name');
    expect(fields.schedule).toBe('0 * * * *');
    expect(fields.model).toBe('claude-sonnet-4-5');
    expect(fields.prompt).toBe('  keep my spaces  ');
  });

  it('keeps the values given', () => {
    const { fields, nextFireAt } = planNewAgent(
      {
        ...input,
        description: 'desc',
        enabled: true,
        maxTurns: 7,
        maxBudgetUsd: 1.5,
        timezone: 'Europe/Berlin',
        schedule: '0 9 * * *',
        allowedTools: ['Read', 'Bash(git log:*)'],
      },
      NOW,
    );
    expect(fields).toMatchObject({
      description: 'desc',
      maxTurns: 7,
      maxBudgetUsd: 1.5,
      timezone: 'Europe/Berlin',
      allowedTools: ['Read', 'Bash(git log:*)'],
    });
    // 09:00 in Berlin (CET) is 08:00Z, already past at 08:20Z: the next is tomorrow's.
    expect(nextFireAt).toBe(t('2026-01-06T08:00:00Z'));
  });

  it('plans the first slot strictly after now', () => {
    expect(planNewAgent(input, t('2026-01-05T09:00:00Z')).nextFireAt).toBe(t('2026-01-05T10:00:00Z'));
  });

  it('a disabled agent has no next fire time', () => {
    const { fields, nextFireAt } = planNewAgent({ ...input, enabled: false }, NOW);
    expect(fields.enabled).toBe(false);
    expect(nextFireAt).toBeNull();
  });

  it('canonicalises the timezone', () => {
    expect(planNewAgent({ ...input, timezone: 'europe/berlin' }, NOW).fields.timezone).toBe('Europe/Berlin');
  });

  it('refuses an invalid timezone, an invalid schedule, and one that never fires (even when disabled)', () => {
    expect(() => planNewAgent({ ...input, timezone: 'Nowhere/Land' }, NOW)).toThrow(ValidationError);
    expect(() => planNewAgent({ ...input, schedule: '99 * * * *' }, NOW)).toThrow(ValidationError);
    expect(() => planNewAgent({ ...input, schedule: '0 0 31 2 *', enabled: false }, NOW)).toThrow(/never fires/);
  });
});

describe('planAgentUpdate', () => {
  const LATER = t('2026-01-05T11:45:00Z');

  it('keeps nextFireAt when only the prompt or limits change', () => {
    const current = storedAgent();
    expect(current.nextFireAt).toBe(t('2026-01-05T09:00:00Z'));
    const planned = planAgentUpdate(
      current,
      { prompt: 'new prompt', maxTurns: 3, maxBudgetUsd: 2, name: 'renamed', description: 'd', model: 'm', allowedTools: ['Read'] },
      LATER,
    );
    // Not recomputed from LATER (that would be 12:00Z).
    expect(planned.nextFireAt).toBe(t('2026-01-05T09:00:00Z'));
    expect(planned.fields).toMatchObject({
      prompt: 'new prompt',
      maxTurns: 3,
      maxBudgetUsd: 2,
      name: 'renamed',
      description: 'd',
      model: 'm',
      allowedTools: ['Read'],
      schedule: current.schedule,
      timezone: current.timezone,
      enabled: true,
    });
  });

  it('an empty patch changes nothing', () => {
    const current = storedAgent({ description: 'x', maxBudgetUsd: 3 });
    const planned = planAgentUpdate(current, {}, LATER);
    expect(planned.nextFireAt).toBe(current.nextFireAt);
    const {
      id: _id,
      nextFireAt: _n,
      lastRunAt: _l,
      lastStatus: _s,
      pausedReason: _pr,
      pausedAt: _pa,
      creator: _c,
      createdAt: _ca,
      updatedAt: _u,
      ...fields
    } = current;
    expect(planned.fields).toEqual(fields);
  });

  it('setting the same schedule (after trimming) keeps the planned slot', () => {
    const current = storedAgent();
    expect(planAgentUpdate(current, { schedule: ' 0 * * * * ' }, LATER).nextFireAt).toBe(current.nextFireAt);
  });

  it('recomputes from now when the schedule changes', () => {
    const current = storedAgent();
    const planned = planAgentUpdate(current, { schedule: '30 * * * *' }, LATER);
    expect(planned.fields.schedule).toBe('30 * * * *');
    expect(planned.nextFireAt).toBe(t('2026-01-05T12:30:00Z'));
  });

  it('recomputes from now when the timezone changes', () => {
    const current = storedAgent({ schedule: '0 9 * * *' });
    expect(current.nextFireAt).toBe(t('2026-01-05T09:00:00Z'));
    const planned = planAgentUpdate(current, { timezone: 'America/New_York' }, LATER);
    expect(planned.fields.timezone).toBe('America/New_York');
    expect(planned.nextFireAt).toBe(t('2026-01-05T14:00:00Z'));
  });

  it('disabling clears nextFireAt; re-enabling plans from now, not from the old slot', () => {
    const current = storedAgent();
    const disabled = planAgentUpdate(current, { enabled: false }, t('2026-01-05T08:30:00Z'));
    expect(disabled.fields.enabled).toBe(false);
    expect(disabled.nextFireAt).toBeNull();

    const asStored: Agent = { ...current, ...disabled.fields, nextFireAt: disabled.nextFireAt };
    const enabled = planAgentUpdate(asStored, { enabled: true }, LATER);
    expect(enabled.fields.enabled).toBe(true);
    // Slots 09:00, 10:00, 11:00 passed while disabled: the next is 12:00, after LATER.
    expect(enabled.nextFireAt).toBe(t('2026-01-05T12:00:00Z'));
  });

  it('a prompt change on a disabled agent keeps it unscheduled', () => {
    const current = storedAgent({ enabled: false });
    const planned = planAgentUpdate(current, { prompt: 'p2' }, LATER);
    expect(planned.nextFireAt).toBeNull();
  });

  it('maxBudgetUsd null removes the limit; undefined keeps it', () => {
    const current = storedAgent({ maxBudgetUsd: 4.25 });
    expect(current.maxBudgetUsd).toBe(4.25);
    expect(planAgentUpdate(current, { maxBudgetUsd: null }, LATER).fields.maxBudgetUsd).toBeNull();
    expect(planAgentUpdate(current, { maxTurns: 9 }, LATER).fields.maxBudgetUsd).toBe(4.25);
  });

  it('description null clears it; undefined keeps it', () => {
    const current = storedAgent({ description: 'Posts the report' });
    expect(planAgentUpdate(current, { description: null }, LATER).fields.description).toBeNull();
    expect(planAgentUpdate(current, { prompt: 'x' }, LATER).fields.description).toBe('Posts the report');
  });

  it('model null clears it', () => {
    const current = storedAgent({ model: 'claude-opus-4' });
    expect(planAgentUpdate(current, { model: null }, LATER).fields.model).toBeNull();
  });

  it('refuses an invalid new schedule or timezone', () => {
    const current = storedAgent();
    expect(() => planAgentUpdate(current, { schedule: 'not cron' }, LATER)).toThrow(ValidationError);
    expect(() => planAgentUpdate(current, { schedule: '@reboot' }, LATER)).toThrow(/@reboot/);
    expect(() => planAgentUpdate(current, { timezone: 'Nowhere/Land' }, LATER)).toThrow(ValidationError);
  });
});

import { describe, expect, it } from 'vitest';
import type { TestApp } from '../support/test-app.js';
import { ISO, call, expectError, useTestApp } from './api-helpers.js';

/** POST /api/schedules/preview: the schedule editor's description and next fire times. */

interface PreviewJson {
  schedule: string;
  timezone: string;
  description: string | null;
  nextRuns: string[];
}

let t: TestApp;
useTestApp('all', (app) => {
  t = app;
});

const preview = (body: unknown, as: 'viewer' | 'member' | null = 'viewer') => call<{ data: PreviewJson }>(t, 'POST', '/api/schedules/preview', { as, body });

describe('POST /api/schedules/preview', () => {
  it('describes a schedule and lists its next five fire times in the timezone', async () => {
    // The fake clock starts on Monday 2026-01-05 08:00 UTC (09:00 in Berlin).
    const response = await preview({ schedule: '0 9 * * 1-5', timezone: 'Europe/Berlin' });
    expect(response.status, response.text).toBe(200);
    expect(response.body).toEqual({
      data: {
        schedule: '0 9 * * 1-5',
        timezone: 'Europe/Berlin',
        description: 'At 09:00 AM, Monday through Friday',
        nextRuns: ['2026-01-06T08:00:00.000Z', '2026-01-07T08:00:00.000Z', '2026-01-08T08:00:00.000Z', '2026-01-09T08:00:00.000Z', '2026-01-12T08:00:00.000Z'],
      },
    });
  });

  it('defaults to UTC, trims the expression, and reads nicknames and seconds', async () => {
    const daily = await preview({ schedule: '  @daily ' });
    expect(daily.body.data).toMatchObject({ schedule: '@daily', timezone: 'UTC', description: 'At 12:00 AM' });
    expect(daily.body.data.nextRuns[0]).toBe('2026-01-06T00:00:00.000Z');
    const seconds = await preview({ schedule: '*/10 * * * * *' });
    expect(seconds.body.data.description).toBe('Every 10 seconds');
    expect(seconds.body.data.nextRuns).toHaveLength(5);
    for (const run of seconds.body.data.nextRuns) expect(run).toMatch(ISO);
    expect(Date.parse(seconds.body.data.nextRuns[1]!) - Date.parse(seconds.body.data.nextRuns[0]!)).toBe(10_000);
  });

  it('accepts a stepped value with a start (0/5), and describes it and lists its next fires like any other', async () => {
    const response = await preview({ schedule: '0/5 * * * *' });
    expect(response.status, response.text).toBe(200);
    expect(response.body.data).toEqual({
      schedule: '0/5 * * * *',
      timezone: 'UTC',
      description: 'Every 5 minutes',
      nextRuns: ['2026-01-05T08:05:00.000Z', '2026-01-05T08:10:00.000Z', '2026-01-05T08:15:00.000Z', '2026-01-05T08:20:00.000Z', '2026-01-05T08:25:00.000Z'],
    });
    const seconds = await preview({ schedule: '5/10 * * * * *' });
    expect(seconds.body.data.description).toBe('Every 10 seconds, starting at 5 seconds past the minute');
    expect(seconds.body.data.nextRuns).toEqual([5, 15, 25, 35, 45].map((s) => `2026-01-05T08:00:${String(s).padStart(2, '0')}.000Z`));
  });

  it('canonicalises the timezone name', async () => {
    const response = await preview({ schedule: '0 9 * * *', timezone: 'europe/berlin' });
    expect(response.status).toBe(200);
    expect(response.body.data.timezone).toBe('Europe/Berlin');
  });

  it.each([
    ['an invalid expression', { schedule: '61 * * * *' }, 'schedule'],
    ['a word', { schedule: 'every day' }, 'schedule'],
    ['@reboot', { schedule: '@reboot' }, 'schedule'],
    ['a schedule that never fires', { schedule: '0 0 31 2 *' }, 'schedule'],
    ['an empty schedule', { schedule: '' }, 'schedule'],
    ['a blank schedule', { schedule: '   ' }, 'schedule'],
    ['no schedule', { timezone: 'UTC' }, 'schedule'],
    ['a schedule that is not a string', { schedule: 5 }, 'schedule'],
    ['an unknown timezone', { schedule: '0 9 * * *', timezone: 'Mars/Olympus' }, 'timezone'],
    ['an unknown field', { schedule: '0 9 * * *', when: 'now' }, 'when'],
  ])('answers 400 naming the field for %s', async (_label, body, field) => {
    expectError(await preview(body), 400, 'validation_error', field);
  });

  it('is open to every role (it changes nothing) but needs authentication', async () => {
    expect((await preview({ schedule: '@hourly' }, 'viewer')).status).toBe(200);
    expect((await preview({ schedule: '@hourly' }, 'member')).status).toBe(200);
    expectError(await preview({ schedule: '@hourly' }, null), 401, 'unauthorized');
  });
});

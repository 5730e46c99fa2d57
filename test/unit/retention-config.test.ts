import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** CRON_AGENTS_RETENTION: days, or 0; never shorter than the stats read from the runs. */

const DAY = 86_400_000;

describe('CRON_AGENTS_RETENTION', () => {
  it('is 90 days unless set', () => {
    expect(loadConfig({}).retentionMs).toBe(90 * DAY);
    expect(loadConfig({ CRON_AGENTS_RETENTION: '  ' }).retentionMs).toBe(90 * DAY);
  });

  it('takes a number of days, or 0 to keep every run', () => {
    expect(loadConfig({ CRON_AGENTS_RETENTION: '31d' }).retentionMs).toBe(31 * DAY);
    expect(loadConfig({ CRON_AGENTS_RETENTION: '365d' }).retentionMs).toBe(365 * DAY);
    expect(loadConfig({ CRON_AGENTS_RETENTION: ' 120 d ' }).retentionMs).toBe(120 * DAY);
    expect(loadConfig({ CRON_AGENTS_RETENTION: '0' }).retentionMs).toBe(0);
    expect(loadConfig({ CRON_AGENTS_RETENTION: '0d' }).retentionMs).toBe(0);
  });

  it('refuses less than 31 days, naming the variable and why', () => {
    for (const value of ['30d', '1d', '7d']) {
      expect(() => loadConfig({ CRON_AGENTS_RETENTION: value })).toThrow(ConfigError);
      expect(() => loadConfig({ CRON_AGENTS_RETENTION: value })).toThrow(
        /CRON_AGENTS_RETENTION must be at least 31d \(the per-agent stats of the last 30 days/,
      );
    }
  });

  it('refuses what is not a number of days', () => {
    for (const value of ['90', '90h', '2w', '-5d', 'forever', '1.5d', '999999d']) {
      expect(() => loadConfig({ CRON_AGENTS_RETENTION: value }), value).toThrow(/^CRON_AGENTS_RETENTION must be/);
    }
  });
});

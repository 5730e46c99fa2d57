import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('the webhook settings', () => {
  it('default to a link on the listening address, a 5 s retry base, and no private addresses', () => {
    const config = loadConfig({ PORT: '8080' });
    expect(config).toMatchObject({ publicUrl: 'http://127.0.0.1:8080', webhookRetryBaseMs: 5_000, webhookAllowPrivate: false });
  });

  it('read CRON_AGENTS_PUBLIC_URL, CRON_AGENTS_WEBHOOK_RETRY_BASE_MS and CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE', () => {
    const config = loadConfig({
      CRON_AGENTS_PUBLIC_URL: 'https://agents.example.com/cron/',
      CRON_AGENTS_WEBHOOK_RETRY_BASE_MS: '250',
      CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    expect(config).toMatchObject({ publicUrl: 'https://agents.example.com/cron', webhookRetryBaseMs: 250, webhookAllowPrivate: true });
  });

  it('refuse values that are wrong, naming the variable', () => {
    for (const value of ['agents.example.com', 'ftp://x.example.com', 'https://x.example.com/?a=1']) {
      expect(() => loadConfig({ CRON_AGENTS_PUBLIC_URL: value })).toThrow(ConfigError);
      expect(() => loadConfig({ CRON_AGENTS_PUBLIC_URL: value })).toThrow(/CRON_AGENTS_PUBLIC_URL/);
    }
    expect(() => loadConfig({ CRON_AGENTS_WEBHOOK_RETRY_BASE_MS: '0' })).toThrow(/CRON_AGENTS_WEBHOOK_RETRY_BASE_MS/);
    expect(() => loadConfig({ CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE: 'maybe' })).toThrow(/CRON_AGENTS_WEBHOOK_ALLOW_PRIVATE/);
  });
});

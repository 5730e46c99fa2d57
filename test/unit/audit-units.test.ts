import { describe, expect, it } from 'vitest';
import { makesNewVersion } from '../../src/domain/agent-versions.js';
import { canonicalJson, changedFields, fieldChanges } from '../../src/domain/audit.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { diffLines, withContext } from '../../src/web/src/text-diff.js';

/** The pure parts of the audit trail: field changes, versions, CRON_AGENTS_AUDIT_RETENTION, and the dashboard's prompt diff. */

const DAY = 86_400_000;

describe('field changes', () => {
  it('names each field whose value differs, with both values, whatever the order of object keys', () => {
    const before: Record<string, unknown> = { prompt: 'a', mcpServers: { x: { type: 'http', url: 'u' } }, tools: ['Read'], model: null };
    const after = { prompt: 'b', mcpServers: { x: { url: 'u', type: 'http' } }, tools: ['Read'], model: 'm' };
    expect(fieldChanges(before, after)).toEqual({ prompt: { old: 'a', new: 'b' }, model: { old: null, new: 'm' } });
    expect(canonicalJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
    // Against a record with more fields (an agent against its fields): only the fields given count.
    expect(changedFields({ id: 'x', prompt: 'a', enabled: true }, { prompt: 'a', enabled: false })).toEqual({ enabled: { old: true, new: false } });
  });

  it('makes a version for any change but of name, description and enabled', () => {
    expect(makesNewVersion(['name', 'description', 'enabled'])).toBe(false);
    expect(makesNewVersion(['enabled', 'prompt'])).toBe(true);
    // A field added to agents later is versioned without a change to the list.
    expect(makesNewVersion(['someFutureLimit'])).toBe(true);
  });
});

describe('CRON_AGENTS_AUDIT_RETENTION', () => {
  it('defaults to 365 days, or the runs retention when longer, or keeps all when runs are kept', () => {
    expect(loadConfig({}).auditRetentionMs).toBe(365 * DAY);
    expect(loadConfig({ CRON_AGENTS_RETENTION: '400d' }).auditRetentionMs).toBe(400 * DAY);
    expect(loadConfig({ CRON_AGENTS_RETENTION: '0' }).auditRetentionMs).toBe(0);
    expect(loadConfig({ CRON_AGENTS_AUDIT_RETENTION: '730d' }).auditRetentionMs).toBe(730 * DAY);
    expect(loadConfig({ CRON_AGENTS_AUDIT_RETENTION: '0' }).auditRetentionMs).toBe(0);
  });

  it('refuses a value shorter than the runs retention, or not a number of days', () => {
    expect(() => loadConfig({ CRON_AGENTS_AUDIT_RETENTION: '30d' })).toThrow(ConfigError);
    expect(() => loadConfig({ CRON_AGENTS_AUDIT_RETENTION: '30d' })).toThrow(/CRON_AGENTS_AUDIT_RETENTION.*at least CRON_AGENTS_RETENTION \(90d\)/);
    expect(() => loadConfig({ CRON_AGENTS_RETENTION: '0', CRON_AGENTS_AUDIT_RETENTION: '365d' })).toThrow(/use 0/);
    expect(() => loadConfig({ CRON_AGENTS_AUDIT_RETENTION: '1y' })).toThrow(/number of days/);
  });
});

describe('the prompt diff', () => {
  it('keeps common lines and shows a changed line as removed, then added', () => {
    const lines = diffLines('a\nb\nc\nd', 'a\nB\nc\nd\ne');
    expect(lines.map((l) => `${l.kind[0]}${l.text}`)).toEqual(['sa', 'rb', 'aB', 'sc', 'sd', 'ae']);
    expect(lines.find((l) => l.text === 'B')).toMatchObject({ oldNo: null, newNo: 2 });
    expect(lines.find((l) => l.text === 'd')).toMatchObject({ oldNo: 4, newNo: 4 });
    expect(diffLines('same', 'same').every((l) => l.kind === 'same')).toBe(true);
    expect(diffLines('', 'x').map((l) => l.kind)).toEqual(['removed', 'added']);
  });

  it('aligns moved and inserted blocks by their longest common lines', () => {
    const before = ['1', '2', '3', '4', '5'].join('\n');
    const after = ['0', '1', '3', '4', 'x', '5'].join('\n');
    expect(diffLines(before, after).map((l) => `${l.kind[0]}${l.text}`)).toEqual(['a0', 's1', 'r2', 's3', 's4', 'ax', 's5']);
  });

  it('shows a few lines around each change, and the rest as gaps', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n');
    const after = before.replace('line 10', 'line ten');
    const shown = withContext(diffLines(before, after), 2);
    expect(shown[0]).toEqual({ kind: 'gap', lines: 8 });
    expect(shown.at(-1)).toEqual({ kind: 'gap', lines: 7 });
    expect(shown.filter((l) => l.kind !== 'gap')).toHaveLength(6);
  });
});

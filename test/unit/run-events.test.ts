import { describe, expect, it } from 'vitest';
import { cutText, decodeRunEvent, encodeRunEvent, EVENT_TEXT_MAX_BYTES, limitEventText, type RunEvent } from '../../src/domain/run-events.js';
import { redactJsonValue, redactSecrets, secretRedactor } from '../../src/domain/secret-refs.js';

describe('cutText', () => {
  it('leaves a text within the limit as it is', () => {
    expect(cutText('hello', 5)).toEqual({ text: 'hello', cut: false });
    expect(cutText('héllo', 6)).toEqual({ text: 'héllo', cut: false });
  });

  it('cuts at the byte limit, never inside a character', () => {
    expect(cutText('abcdef', 4)).toEqual({ text: 'abcd', cut: true });
    // 'é' is 2 bytes, '€' 3, '𝄞' 4: a cut that would split one backs off before it.
    expect(cutText('aé', 2)).toEqual({ text: 'a', cut: true });
    expect(cutText('ab€', 4)).toEqual({ text: 'ab', cut: true });
    expect(cutText('a𝄞b', 4)).toEqual({ text: 'a', cut: true });
    expect(cutText('a𝄞b', 5)).toEqual({ text: 'a𝄞', cut: true });
  });
});

describe('limitEventText', () => {
  it('cuts a long tool result to 16 KiB and marks it', () => {
    const content = 'x'.repeat(EVENT_TEXT_MAX_BYTES + 10);
    const limited = limitEventText({ type: 'tool_result', toolUseId: 't1', isError: false, content });
    expect(limited).toEqual({ type: 'tool_result', toolUseId: 't1', isError: false, content: 'x'.repeat(EVENT_TEXT_MAX_BYTES), truncated: true });
  });

  it('cuts long thinking the same way, and leaves the rest alone', () => {
    const thinking = limitEventText({ type: 'thinking', text: 'y'.repeat(EVENT_TEXT_MAX_BYTES * 2) });
    expect(thinking).toMatchObject({ truncated: true });
    const short = { type: 'tool_result', toolUseId: 't1', isError: true, content: 'short' } as const;
    expect(limitEventText(short)).toBe(short);
    const text = { type: 'text', text: 'z'.repeat(EVENT_TEXT_MAX_BYTES * 2) } as const;
    expect(limitEventText(text)).toBe(text);
  });
});

describe('encodeRunEvent / decodeRunEvent', () => {
  it('round-trips an event through its stored JSON', () => {
    const event: RunEvent = { seq: 3, at: 1000, type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' }, parentToolUseId: 'toolu_0' };
    const encoded = encodeRunEvent(event);
    expect(encoded).toMatchObject({ seq: 3, type: 'tool_use', at: 1000 });
    expect(decodeRunEvent(encoded.json)).toEqual(event);
  });

  it('reads anything else as no event', () => {
    expect(decodeRunEvent('not json')).toBeNull();
    expect(decodeRunEvent('{"seq":1,"at":1,"type":"nope"}')).toBeNull();
    expect(decodeRunEvent('[1]')).toBeNull();
  });
});

describe('secretRedactor', () => {
  it('redacts as redactSecrets does, with the pattern built once', () => {
    const secrets = { TOKEN: 'tok-123', URLY: 'a b/c' };
    const redact = secretRedactor(secrets);
    for (const text of ['x tok-123 y', 'u=a%20b%2Fc', '', 'nothing']) expect(redact(text)).toBe(redactSecrets(text, secrets));
    expect(secretRedactor({})('tok-123')).toBe('tok-123');
  });

  it('redacts every string of a JSON value, keys included', () => {
    const redact = secretRedactor({ S: 'sekrit' });
    expect(redactJsonValue({ a: ['sekrit', 1, null, { sekrit: 'x sekrit' }], b: true }, redact)).toEqual({
      a: ['[secret:S]', 1, null, { '[secret:S]': 'x [secret:S]' }],
      b: true,
    });
  });
});

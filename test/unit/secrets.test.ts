import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ValidationError } from '../../src/domain/errors.js';
import { generateSecretKey, parseSecretKey, SecretCipher, SecretUnreadableError } from '../../src/domain/secret-cipher.js';
import { checkSecretName, checkSecretValue, reservedBy, SECRET_VALUE_MAX_BYTES } from '../../src/domain/secret-fields.js';
import { redactSecrets, resolveSecretRefs, secretRefsIn, UnknownSecretError } from '../../src/domain/secret-refs.js';

/** The domain's secret rules: the cipher and its key, names and values, `${secret:NAME}` and redaction. */

const KEY = Buffer.alloc(32, 7);

function fieldOf(check: () => void): string | undefined {
  try {
    check();
  } catch (error) {
    if (error instanceof ValidationError) return error.details[0]?.field;
    throw error;
  }
  return undefined;
}

describe('the secret key', () => {
  it('is read from base64, base64url or hex, and nothing else', () => {
    const key = randomBytes(32);
    expect(parseSecretKey(key.toString('base64'))).toEqual(key);
    expect(parseSecretKey(key.toString('base64').replace(/=$/, ''))).toEqual(key);
    expect(parseSecretKey(key.toString('base64url'))).toEqual(key);
    expect(parseSecretKey(key.toString('hex'))).toEqual(key);
    expect(parseSecretKey(key.toString('hex').toUpperCase())).toEqual(key);
    expect(parseSecretKey(`  ${key.toString('base64')}\n`)).toEqual(key);
    for (const wrong of [
      '',
      'short',
      randomBytes(16).toString('base64'),
      randomBytes(31).toString('hex'),
      randomBytes(33).toString('base64'),
      'x'.repeat(64),
    ]) {
      expect(parseSecretKey(wrong), wrong).toBeNull();
    }
  });

  it('CRON_AGENTS_SECRET_KEY: unset is null, a key is parsed, anything else is a config error naming the variable but not the value', () => {
    expect(loadConfig({}).secretKey).toBeNull();
    expect(loadConfig({ CRON_AGENTS_SECRET_KEY: '  ' }).secretKey).toBeNull();
    const key = randomBytes(32);
    expect(loadConfig({ CRON_AGENTS_SECRET_KEY: key.toString('base64') }).secretKey).toEqual(key);
    expect(loadConfig({ CRON_AGENTS_SECRET_KEY: key.toString('hex') }).secretKey).toEqual(key);
    for (const wrong of ['my-password-123', randomBytes(16).toString('hex')]) {
      const load = () => loadConfig({ CRON_AGENTS_SECRET_KEY: wrong });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/CRON_AGENTS_SECRET_KEY must be 32 bytes/);
      try {
        load();
      } catch (error) {
        expect(String(error)).not.toContain(wrong);
      }
    }
  });
});

describe('SecretCipher', () => {
  const cipher = new SecretCipher(KEY);

  it('round-trips a value, with a fresh IV each time and a versioned, key-tagged form', () => {
    const value = 'ghp_sEcReT \u00e9\u4e2d\n"quoted"';
    const first = cipher.encrypt('agent-1', 'GITHUB_TOKEN', value);
    const second = cipher.encrypt('agent-1', 'GITHUB_TOKEN', value);
    expect(first).not.toBe(second);
    expect(first).toMatch(new RegExp(`^v1:${cipher.keyId}:[A-Za-z0-9+/]+=*$`));
    expect(first).not.toContain('sEcReT');
    expect(cipher.decrypt('agent-1', 'GITHUB_TOKEN', first)).toBe(value);
    expect(cipher.decrypt('agent-1', 'GITHUB_TOKEN', second)).toBe(value);
    expect(cipher.decrypt('a', 'EMPTY', cipher.encrypt('a', 'EMPTY', ''))).toBe('');
  });

  it('binds a value to its agent and name: moved elsewhere it does not decrypt', () => {
    const stored = cipher.encrypt('agent-1', 'TOKEN', 'value');
    expect(() => cipher.decrypt('agent-2', 'TOKEN', stored)).toThrow(SecretUnreadableError);
    expect(() => cipher.decrypt('agent-1', 'OTHER', stored)).toThrow(/secret OTHER cannot be decrypted: .*altered, or belongs to another agent/);
  });

  it('refuses an altered value, and says when the value was stored under another key', () => {
    const stored = cipher.encrypt('agent-1', 'TOKEN', 'the value');
    const [version, keyId, payload = ''] = stored.split(':');
    const bytes = Buffer.from(payload, 'base64');
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    expect(() => cipher.decrypt('agent-1', 'TOKEN', `${version}:${keyId}:${bytes.toString('base64')}`)).toThrow(/altered/);
    expect(() => cipher.decrypt('agent-1', 'TOKEN', `${version}:${keyId}:AAAA`)).toThrow(/truncated/);
    expect(() => cipher.decrypt('agent-1', 'TOKEN', 'plain text')).toThrow(/not one this version knows/);

    const other = new SecretCipher(generateSecretKey());
    let error: unknown;
    try {
      other.decrypt('agent-1', 'TOKEN', stored);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SecretUnreadableError);
    expect((error as SecretUnreadableError).secretName).toBe('TOKEN');
    expect(String(error)).toContain(`stored under secret key ${cipher.keyId}, and this instance has key ${other.keyId}`);
    expect(String(error)).toContain('CRON_AGENTS_SECRET_KEY');
    expect(String(error)).not.toContain('the value');
  });

  it('never shows its key: not in JSON, not when inspected', async () => {
    const { inspect } = await import('node:util');
    const key = Buffer.from('k'.repeat(32));
    const shown = `${JSON.stringify(new SecretCipher(key))} ${inspect(new SecretCipher(key), { showHidden: true, depth: 5 })}`;
    expect(shown).not.toContain('kkkk');
    expect(shown).not.toContain(key.toString('base64').slice(0, 8));
    expect(() => new SecretCipher(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe('secret names and values', () => {
  it('accepts well-formed names that are not reserved', () => {
    for (const name of ['GITHUB_TOKEN', 'SLACK_WEBHOOK_URL', '_PRIVATE', 'A', 'X1', `A${'B'.repeat(63)}`, 'MY_PATH', 'HOMEPAGE_URL', 'DEPLOY_AWS_KEY']) {
      expect(
        fieldOf(() => checkSecretName(name)),
        name,
      ).toBeUndefined();
    }
  });

  it('refuses malformed names on `name`', () => {
    for (const name of ['', 'lower', 'Mixed', '1ABC', 'A-B', 'A B', 'A.B', `A${'B'.repeat(64)}`, 'ÄÖ']) {
      expect(
        fieldOf(() => checkSecretName(name)),
        name,
      ).toBe('name');
    }
  });

  it('refuses reserved names on `name`, saying which rule', () => {
    const cases: [string, string][] = [
      ['PATH', 'PATH'],
      ['HOME', 'HOME'],
      ['LD_PRELOAD', 'LD_*'],
      ['NODE_OPTIONS', 'NODE_*'],
      ['ANTHROPIC_API_KEY', 'ANTHROPIC_*'],
      ['ANTHROPIC_BASE_URL', 'ANTHROPIC_*'],
      ['CLAUDE_CONFIG_DIR', 'CLAUDE_*'],
      ['CRON_AGENTS_ADMIN_TOKEN', 'CRON_AGENTS_*'],
      ['DATABASE_URL', 'DATABASE_URL'],
      ['PGPASSWORD', 'PG*'],
      ['HTTPS_PROXY', 'HTTPS_PROXY'],
      ['NO_PROXY', 'NO_PROXY'],
      ['LC_ALL', 'LC_*'],
      ['BASH_ENV', 'BASH_*'],
      ['ENV', 'ENV'],
      ['GIT_SSH_COMMAND', 'GIT_*'],
      ['SSH_AUTH_SOCK', 'SSH_*'],
      ['AWS_SECRET_ACCESS_KEY', 'AWS_*'],
      ['PYTHONPATH', 'PYTHON*'],
      ['SSL_CERT_FILE', 'SSL_*'],
      ['TMPDIR', 'TMPDIR'],
    ];
    for (const [name, rule] of cases) {
      expect(reservedBy(name), name).toBe(rule);
      expect(() => checkSecretName(name)).toThrow(new RegExp(`${name} is reserved \\(${rule.replace('*', '\\*')}\\)`));
      expect(fieldOf(() => checkSecretName(name))).toBe('name');
    }
  });

  it('takes values up to 64 KiB of UTF-8, no NUL, and never quotes them', () => {
    expect(fieldOf(() => checkSecretValue(''))).toBeUndefined();
    expect(fieldOf(() => checkSecretValue('x'.repeat(SECRET_VALUE_MAX_BYTES)))).toBeUndefined();
    expect(fieldOf(() => checkSecretValue('x'.repeat(SECRET_VALUE_MAX_BYTES + 1)))).toBe('value');
    // 3 bytes a character: under the limit in characters, over it in bytes.
    expect(fieldOf(() => checkSecretValue('\u4e2d'.repeat(SECRET_VALUE_MAX_BYTES / 2)))).toBe('value');
    expect(() => checkSecretValue('sekrit\0tail')).toThrow(/NUL/);
    expect(() => checkSecretValue('sekrit\0tail')).not.toThrow(/sekrit/);
  });
});

describe('${secret:NAME} references', () => {
  it('lists the names referred to, once each, in order', () => {
    expect(secretRefsIn('https://x:${secret:TOKEN}@host/${secret:REPO}?t=${secret:TOKEN}')).toEqual(['TOKEN', 'REPO']);
    expect(secretRefsIn('no refs, ${secret:lower}, ${secret:}, $secret:X, ${SECRET:X}')).toEqual([]);
  });

  it('resolves them to values; an unknown name is an error naming it', () => {
    const secrets = { TOKEN: 'tok/en', REPO: 'r' };
    expect(resolveSecretRefs('https://x:${secret:TOKEN}@host/${secret:REPO}', secrets)).toBe('https://x:tok/en@host/r');
    expect(resolveSecretRefs('plain', {})).toBe('plain');
    // A value that looks like a reference is not resolved again.
    expect(resolveSecretRefs('${secret:A}', { A: '${secret:B}' })).toBe('${secret:B}');
    let error: unknown;
    try {
      resolveSecretRefs('Bearer ${secret:MISSING}', secrets);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnknownSecretError);
    expect((error as UnknownSecretError).secretName).toBe('MISSING');
    expect(String(error)).toContain('${secret:MISSING}');
  });
});

describe('redactSecrets', () => {
  it('replaces every occurrence of each value by [secret:NAME]', () => {
    expect(redactSecrets('token=abc123 and again abc123.', { TOKEN: 'abc123' })).toBe('token=[secret:TOKEN] and again [secret:TOKEN].');
    expect(redactSecrets('nothing here', { TOKEN: 'abc123' })).toBe('nothing here');
    expect(redactSecrets('', { TOKEN: 'abc123' })).toBe('');
  });

  it('replaces the longest value first, and never inside a replacement', () => {
    const secrets = { SHORT: 'secret', LONG: 'my-secret-value', S: 's' };
    expect(redactSecrets('my-secret-value / secret / s', secrets)).toBe('[secret:LONG] / [secret:SHORT] / [secret:S]');
  });

  it('skips empty values, and treats values as text, not patterns', () => {
    expect(redactSecrets('a.b a*b', { EMPTY: '', DOT: 'a.b' })).toBe('[secret:DOT] a*b');
    expect(redactSecrets('x $& (y) [z]', { ODD: '$& (y) [z]' })).toBe('x [secret:ODD]');
  });

  it('also finds a value URL-encoded and JSON-escaped', () => {
    const value = 'p@ss/w"rd\nline2';
    const text = `url https://u:${encodeURIComponent(value)}@host json ${JSON.stringify({ v: value })} raw ${value}`;
    const redacted = redactSecrets(text, { PASS: value });
    expect(redacted).toBe('url https://u:[secret:PASS]@host json {"v":"[secret:PASS]"} raw [secret:PASS]');
  });

  it('names one of two secrets with the same value', () => {
    expect(redactSecrets('v', { B: 'v', A: 'v' })).toBe('[secret:A]');
  });
});

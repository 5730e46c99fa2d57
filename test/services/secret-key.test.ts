import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { parseSecretKey } from '../../src/domain/secret-cipher.js';
import type { Logger } from '../../src/logger.js';
import { loadSecretKey, SECRET_KEY_FILE } from '../../src/services/secret-key.js';

/** The key agents' secrets are encrypted with: CRON_AGENTS_SECRET_KEY, or the data dir's key file. */

let root: string;
let warnings: { obj: object; msg: string | undefined }[];
const logger: Logger = {
  info: () => {},
  debug: () => {},
  error: () => {},
  warn: (obj, msg) => warnings.push({ obj, msg }),
};

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-key-'));
  warnings = [];
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const keyFile = (dataDir = root) => path.join(dataDir, SECRET_KEY_FILE);

describe('loadSecretKey', () => {
  it('creates a key file (mode 0600, base64) on first start, in a data dir it creates, and reads it on the next', () => {
    const dataDir = path.join(root, 'data', 'nested');
    const key = loadSecretKey({ key: null, dataDir, sharedDatabase: false }, logger);
    expect(key).toHaveLength(32);
    const file = keyFile(dataDir);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(parseSecretKey(fs.readFileSync(file, 'utf8'))).toEqual(key);
    expect(fs.readdirSync(dataDir)).toEqual([SECRET_KEY_FILE]);
    expect(warnings.map((w) => w.msg)).toEqual([expect.stringContaining('back it up')]);

    warnings = [];
    expect(loadSecretKey({ key: null, dataDir, sharedDatabase: false }, logger)).toEqual(key);
    expect(warnings).toEqual([]);
  });

  it('uses a key file written by the operator, base64 or hex', () => {
    const key = randomBytes(32);
    fs.writeFileSync(keyFile(), key.toString('hex'), { mode: 0o600 });
    expect(loadSecretKey({ key: null, dataDir: root, sharedDatabase: false }, logger)).toEqual(key);
  });

  it('refuses to start with a key file that holds no 32-byte key, naming the file', () => {
    for (const content of ['', 'not a key', randomBytes(16).toString('base64'), randomBytes(64).toString('base64')]) {
      fs.writeFileSync(keyFile(), content, { mode: 0o600 });
      const load = () => loadSecretKey({ key: null, dataDir: root, sharedDatabase: false }, logger);
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(`the secret key file ${keyFile()} does not hold a 32-byte key`);
    }
  });

  it('warns when the key file can be read by others', () => {
    const key = randomBytes(32);
    fs.writeFileSync(keyFile(), key.toString('base64'));
    fs.chmodSync(keyFile(), 0o644);
    expect(loadSecretKey({ key: null, dataDir: root, sharedDatabase: false }, logger)).toEqual(key);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.obj).toEqual({ file: keyFile(), mode: '644' });
    expect(warnings[0]?.msg).toContain('chmod 600');
  });

  it('prefers CRON_AGENTS_SECRET_KEY and then makes no file; warns when a key file holds another key', () => {
    const key = randomBytes(32);
    expect(loadSecretKey({ key, dataDir: root, sharedDatabase: true }, logger)).toEqual(key);
    expect(fs.existsSync(keyFile())).toBe(false);
    expect(warnings).toEqual([]);

    fs.writeFileSync(keyFile(), key.toString('base64'), { mode: 0o600 });
    expect(loadSecretKey({ key, dataDir: root, sharedDatabase: false }, logger)).toEqual(key);
    expect(warnings).toEqual([]);

    fs.writeFileSync(keyFile(), randomBytes(32).toString('base64'), { mode: 0o600 });
    expect(loadSecretKey({ key, dataDir: root, sharedDatabase: false }, logger)).toEqual(key);
    expect(warnings.map((w) => w.msg)).toEqual([expect.stringContaining('differs from the key in the key file')]);

    // A broken key file does not stop a start that does not use it.
    warnings = [];
    fs.writeFileSync(keyFile(), 'garbage');
    expect(loadSecretKey({ key, dataDir: root, sharedDatabase: false }, logger)).toEqual(key);
  });

  it('warns, on a shared database without CRON_AGENTS_SECRET_KEY, that every instance needs the same key', () => {
    loadSecretKey({ key: null, dataDir: root, sharedDatabase: true }, logger);
    const shared = warnings.find((w) => w.msg?.includes('every instance'));
    expect(shared?.msg).toContain('set CRON_AGENTS_SECRET_KEY to the same value on each');
    const fields = new Map<string, unknown>(Object.entries(shared?.obj ?? {}));
    expect([...fields.keys()].sort()).toEqual(['file', 'keyId']);
    expect(fields.get('file')).toBe(keyFile());
    expect(fields.get('keyId')).toMatch(/^[0-9a-f]{8}$/);
  });
});

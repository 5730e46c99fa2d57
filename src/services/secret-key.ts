import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../config.js';
import { generateSecretKey, parseSecretKey, SecretCipher } from '../domain/secret-cipher.js';
import type { Logger } from '../logger.js';

/** The key file's name in the data dir, used when CRON_AGENTS_SECRET_KEY is not set. */
export const SECRET_KEY_FILE = 'secret.key';

/** Where the key may come from, and whether other instances share the database. */
export interface SecretKeySource {
  /** CRON_AGENTS_SECRET_KEY, parsed; null when unset. */
  key: Buffer | null;
  dataDir: string;
  /** Whether other instances may share the database (PostgreSQL): they all need this key. */
  sharedDatabase: boolean;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}

/** The key in the file; null when there is no file. A file that holds no key stops the start: its secrets would be lost. */
function readKeyFile(file: string, logger: Logger): Buffer | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw new ConfigError(`cannot read the secret key file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const key = parseSecretKey(text);
  if (!key) {
    throw new ConfigError(
      `the secret key file ${file} does not hold a 32-byte key (base64 or hex): restore it from a backup or set CRON_AGENTS_SECRET_KEY ` +
        '(secrets stored under the lost key cannot be read again)',
    );
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    logger.warn({ file, mode: mode.toString(8) }, 'the secret key file can be read by others than its owner: chmod 600 it');
  }
  return key;
}

/**
 * Writes a new key file: whole, synced, mode 0600, under a temporary name that is then linked
 * into place, so a second process starting at the same moment finds either no file or the whole
 * one (and then uses that one).
 */
function createKeyFile(file: string, logger: Logger): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const key = generateSecretKey();
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = fs.openSync(temporary, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${key.toString('base64')}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(temporary, file);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    const theirs = readKeyFile(file, logger);
    if (theirs) return theirs;
    throw error;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  logger.warn({ file }, "created a new secret key file for agents' secrets: back it up (secrets cannot be read without it)");
  return key;
}

/**
 * The key agents' secrets are encrypted with: CRON_AGENTS_SECRET_KEY when set, else the key file
 * in the data dir (created on first start). Throws a ConfigError when the key file exists but
 * holds no key.
 */
export function loadSecretKey(source: SecretKeySource, logger: Logger): Buffer {
  const file = path.join(source.dataDir, SECRET_KEY_FILE);
  if (source.key) {
    // Only a hint: the variable wins, and a key file it makes unused does not stop the start.
    let fileKey: Buffer | null = null;
    try {
      fileKey = parseSecretKey(fs.readFileSync(file, 'utf8'));
    } catch {
      // no key file (or none readable): nothing to compare
    }
    if (fileKey && !fileKey.equals(source.key)) {
      logger.warn({ file }, "CRON_AGENTS_SECRET_KEY differs from the key in the key file: secrets stored under the file's key cannot be read");
    }
    return source.key;
  }
  const key = readKeyFile(file, logger) ?? createKeyFile(file, logger);
  if (source.sharedDatabase) {
    logger.warn(
      { file, keyId: new SecretCipher(key).keyId },
      "CRON_AGENTS_SECRET_KEY is not set: agents' secrets are encrypted with this instance's key file, and every instance sharing " +
        'the PostgreSQL database needs the same key: set CRON_AGENTS_SECRET_KEY to the same value on each (e.g. the contents of this file)',
    );
  }
  return key;
}

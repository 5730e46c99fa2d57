import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Config } from '../config.js';
import { missingSandboxPackages, SANDBOX_INSTALL_HINT, type SandboxMode } from '../claude/sandbox.js';
import { parseSecretKey, SecretCipher } from '../domain/secret-cipher.js';
import { SECRET_KEY_FILE } from '../services/secret-key.js';
import type { CheckResult } from './doctor.js';

/** The checks of the machine itself: Node.js, the data dir and the key in it, the claude binary, the sandbox. */

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why it did not run or finish (not found, killed at the timeout); null when it exited by itself. */
  error: Error | null;
}

/** Runs a program to its end (or its timeout), never throwing. */
function run(file: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20, ...(env ? { env } : {}) }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr, error: error && typeof error.code !== 'number' ? error : null });
    });
  });
}

export function checkNode(version: string): CheckResult {
  const major = Number(version.split('.')[0]);
  if (major < 20) return { name: 'Node.js', status: 'fail', summary: `${version}: cron-agents needs Node.js 20 or later`, fix: 'install Node.js 24 LTS' };
  if (major === 20) {
    return {
      name: 'Node.js',
      status: 'warn',
      summary: `${version}: Node.js 20 reached its end of life in April 2026`,
      fix: 'move to Node.js 24 LTS (cron-agents runs on both)',
    };
  }
  return { name: 'Node.js', status: 'ok', summary: version };
}

/** The data dir: it exists and this user may write it, or it can be created (its nearest existing parent is writable). */
export function checkDataDir(config: Pick<Config, 'dataDir'>): CheckResult {
  const name = 'data dir';
  let existing = config.dataDir;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  const creates = existing !== config.dataDir;
  if (!fs.statSync(existing).isDirectory()) {
    return { name, status: 'fail', summary: `${existing} is not a folder`, fix: 'point CRON_AGENTS_DATA_DIR at a folder' };
  }
  try {
    fs.accessSync(existing, fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    const what = creates
      ? `${config.dataDir} does not exist, and ${existing} is not writable by this user to create it`
      : `${config.dataDir} is not writable by this user`;
    return { name, status: 'fail', summary: what, fix: `make it writable by the user the service runs as, or set CRON_AGENTS_DATA_DIR` };
  }
  return { name, status: 'ok', summary: creates ? `${config.dataDir} (created on first start)` : config.dataDir };
}

/** The key agents' secrets are encrypted with: CRON_AGENTS_SECRET_KEY, or the key file in the data dir. */
export function checkSecretKey(config: Pick<Config, 'secretKey' | 'dataDir' | 'databaseUrl'>): CheckResult {
  const name = 'secret key';
  const file = path.join(config.dataDir, SECRET_KEY_FILE);
  if (config.secretKey) return { name, status: 'ok', summary: `CRON_AGENTS_SECRET_KEY (key ${new SecretCipher(config.secretKey).keyId})` };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    if (config.databaseUrl) {
      const summary = 'CRON_AGENTS_SECRET_KEY is not set: each instance would make its own key file, and could not read the secrets the others stored';
      return { name, status: 'warn', summary, fix: 'set CRON_AGENTS_SECRET_KEY to the same key on every instance (openssl rand -base64 32)' };
    }
    return { name, status: 'ok', summary: `${file} is created on first start (back it up with the database)` };
  }
  const key = parseSecretKey(text);
  if (!key) {
    return { name, status: 'fail', summary: `${file} does not hold a 32-byte key`, fix: 'restore it from a backup, or set CRON_AGENTS_SECRET_KEY' };
  }
  if ((fs.statSync(file).mode & 0o077) !== 0) {
    return { name, status: 'warn', summary: `${file} can be read by others than its owner`, fix: `chmod 600 ${file}` };
  }
  const shared = config.databaseUrl ? '; other instances need the same key: set CRON_AGENTS_SECRET_KEY on each' : '';
  return { name, status: config.databaseUrl ? 'warn' : 'ok', summary: `${file} (key ${new SecretCipher(key).keyId})${shared}` };
}

/** The first executable `command` in the PATH value's absolute folders, as a shell finds it. */
function onPath(command: string, pathEnv: string | undefined): string | null {
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return path.join(dir, command);
    } catch {
      // not here
    }
  }
  return null;
}

/** Where the Agent SDK finds its `claude` binary: the platform package it depends on (as the SDK itself resolves it). */
export function bundledClaudePath(): string | null {
  let sdk: string;
  try {
    sdk = createRequire(import.meta.url).resolve('@anthropic-ai/claude-agent-sdk');
  } catch {
    return null;
  }
  const fromSdk = createRequire(sdk);
  const base = `@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}`;
  for (const pkg of [base, `${base}-musl`]) {
    try {
      return fromSdk.resolve(`${pkg}/claude${process.platform === 'win32' ? '.exe' : ''}`);
    } catch {
      // the other libc's package, or none
    }
  }
  return null;
}

/** The `claude` binary the runs start: present, executable, and it starts (`claude --version`). */
export async function checkClaudeBinary(timeoutMs: number, binary: string | null = bundledClaudePath()): Promise<CheckResult> {
  const name = 'claude binary';
  const reinstall = 'reinstall cron-agents with its optional dependencies (npm ci, without --omit=optional)';
  if (!binary || !fs.existsSync(binary)) {
    return { name, status: 'fail', summary: `the Agent SDK's claude binary for ${process.platform}-${process.arch} is not installed`, fix: reinstall };
  }
  try {
    fs.accessSync(binary, fs.constants.X_OK);
  } catch {
    return { name, status: 'fail', summary: `${binary} is not executable`, fix: `chmod +x ${binary}, or ${reinstall}` };
  }
  const ran = await run(binary, ['--version'], timeoutMs, { PATH: process.env.PATH, HOME: process.env.HOME, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' });
  if (ran.code !== 0) {
    const why = ran.error?.message ?? (ran.stderr.trim().split('\n')[0] || `exit code ${ran.code}`);
    return { name, status: 'fail', summary: `${binary} does not start: ${why}`, fix: reinstall };
  }
  return { name, status: 'ok', summary: `${ran.stdout.trim().split('\n')[0]} at ${binary}` };
}

/** The sandbox runs' tool commands need (CRON_AGENTS_SANDBOX=required): bubblewrap and socat on PATH, and bwrap able to make a sandbox here. */
export async function checkSandbox(mode: SandboxMode, pathEnv: string | undefined, timeoutMs: number): Promise<CheckResult> {
  const name = 'sandbox';
  if (mode === 'off') {
    return {
      name,
      status: 'warn',
      summary: 'off (CRON_AGENTS_SANDBOX=off): tool commands can read and write what the service can',
      fix: `install bubblewrap and socat (${SANDBOX_INSTALL_HINT}) and unset CRON_AGENTS_SANDBOX`,
    };
  }
  const missing = missingSandboxPackages(pathEnv);
  if (missing.length > 0) {
    const names = missing.join(' and ');
    return {
      name,
      status: 'fail',
      summary: `required, but ${names} ${missing.length === 1 ? 'is' : 'are'} not installed (not on PATH): every run would end as an error`,
      fix: `${SANDBOX_INSTALL_HINT}, or set CRON_AGENTS_SANDBOX=off to run tool commands without a sandbox`,
    };
  }
  const bwrap = onPath('bwrap', pathEnv)!;
  // What Claude Code's sandbox asks of bubblewrap: new namespaces, without network.
  const probe = ['--new-session', '--die-with-parent', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--unshare-net', 'true'];
  const ran = await run(bwrap, probe, timeoutMs);
  if (ran.code !== 0) {
    const why = ran.stderr.trim().split('\n')[0] || ran.error?.message || `exit code ${ran.code}`;
    return {
      name,
      status: 'fail',
      summary: `bubblewrap is installed but cannot make a sandbox here: ${why}`,
      fix: 'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0; in a container, a seccomp profile that permits them), or set CRON_AGENTS_SANDBOX=off',
    };
  }
  return { name, status: 'ok', summary: `required; bubblewrap works (${bwrap}) and socat is installed` };
}

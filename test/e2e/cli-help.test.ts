import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELP_COMMANDS } from '../../src/cli-help.js';
import { runCli } from '../support/server-process.js';

/**
 * The built CLI's --version, --help of every command, and doctor, as an operator runs them. A
 * command asked for its help does nothing else: the data dir they are given is never created.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-cli-help-'));
/** Never created: a command that touched its database would make it. */
const dataDir = path.join(base, 'data');
const env = { CRON_AGENTS_DATA_DIR: dataDir };

afterAll(() => {
  expect(fs.existsSync(dataDir)).toBe(false);
  fs.rmSync(base, { recursive: true, force: true });
});

describe('cron-agents --version and --help', { timeout: 120_000 }, () => {
  it('prints the version of the package, and the list of commands', async () => {
    const [version, help] = await Promise.all([runCli(['--version'], env), runCli(['--help'], env)]);
    expect(version).toEqual({ code: 0, stdout: `cron-agents ${VERSION}\n`, stderr: '' });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: cron-agents <command>/);
    // Every command with a help of its own is in the list.
    for (const words of HELP_COMMANDS) expect(help.stdout, words).toContain(`  ${words}`);
  });

  it('answers --help before doing anything: serve starts nothing, restore restores nothing, user add adds no one', async () => {
    const [serve, restore, add] = await Promise.all([
      runCli(['serve', '--help'], env),
      runCli(['restore', path.join(base, 'backup.sqlite'), '--help'], env),
      runCli(['user', 'add', 'alice', '--role', 'admin', '-h'], env),
    ]);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toMatch(/^Usage: cron-agents serve\n/);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toMatch(/^Usage: cron-agents restore FILE\n/);
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/^Usage: cron-agents user add NAME/);
    expect(add.stdout).toContain('--role ROLE');
  });

  it('refuses help for a command that does not exist (exit code 2)', async () => {
    const results = await Promise.all([runCli(['frobnicate', '--help'], env), runCli(['help', 'frobnicate'], env)]);
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('unknown command "frobnicate"');
    }
  });
});

describe('cron-agents doctor', { timeout: 120_000 }, () => {
  it('reports a missing bubblewrap and a bad DATABASE_URL clearly, and exits with 1', async () => {
    // PATH: a folder with socat in it, and no bwrap.
    const bin = path.join(base, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'socat'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const [sandbox, malformed, unreachable] = await Promise.all([
      runCli(['doctor'], { ...env, PATH: bin, ANTHROPIC_API_KEY: 'sk-test' }),
      runCli(['doctor'], { ...env, DATABASE_URL: 'mysql://app@db/agents', CRON_AGENTS_SANDBOX: 'off', ANTHROPIC_API_KEY: 'sk-test' }),
      runCli(['doctor'], { ...env, DATABASE_URL: 'postgres://app:secret@127.0.0.1:1/agents', CRON_AGENTS_SANDBOX: 'off', ANTHROPIC_API_KEY: 'sk-test' }),
    ]);
    expect(sandbox.code).toBe(1);
    expect(sandbox.stdout).toMatch(/FAIL {2}sandbox +required, but bubblewrap is not installed \(not on PATH\)/);
    expect(sandbox.stdout).toContain('fix: apt-get install -y bubblewrap socat, or set CRON_AGENTS_SANDBOX=off');
    expect(sandbox.stdout).toMatch(/ok {4}model credentials +ANTHROPIC_API_KEY is set/);
    expect(sandbox.stdout).toContain('1 problem to fix');

    expect(malformed.code).toBe(1);
    expect(malformed.stdout).toMatch(
      /FAIL {2}configuration +DATABASE_URL must be a postgres:\/\/ URL \(unset it to use SQLite\), got "mysql:\/\/app@db\/agents"/,
    );
    expect(malformed.stdout).toMatch(/skip {2}database +the configuration must be fixed first/);

    expect(unreachable.code).toBe(1);
    expect(unreachable.stdout).toMatch(/FAIL {2}database +cannot connect to PostgreSQL at 127\.0\.0\.1:1\/agents: connection refused/);
    expect(unreachable.stdout).toContain('fix: start PostgreSQL, or check the host, port, user, password and database name in DATABASE_URL');
    expect(unreachable.stdout).not.toContain('secret@');
  });

  it('refuses an unknown option (exit code 2)', async () => {
    const result = await runCli(['doctor', '--frob'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unknown option '--frob'");
  });
});

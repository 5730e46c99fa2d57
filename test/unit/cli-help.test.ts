import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandHelp, HELP_COMMANDS, helpRequest } from '../../src/cli-help.js';

/** Which arguments ask for help or the version, and what each command's help says (the built CLI is tried in test/e2e/cli-help.test.ts). */

const ROOT = path.resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const USAGE = 'Usage: cron-agents <command>\n...';
/** The commands cli.ts dispatches, read from its source: each must have a help of its own. */
const DISPATCHED = [...fs.readFileSync(path.join(ROOT, 'src/cli.ts'), 'utf8').matchAll(/^ {4}case '([a-z]+)':/gm)].map((m) => m[1]!);
/** The subcommands of user and token, read from their dispatchers the same way. */
const SUBCOMMANDS = [...fs.readFileSync(path.join(ROOT, 'src/cli.ts'), 'utf8').matchAll(/if \(sub === '([a-z]+)'\)/g)].map((m) => m[1]!);

describe('cron-agents --help and --version', () => {
  it('gives the version of package.json', () => {
    for (const flag of ['--version', '-V', 'version']) expect(helpRequest([flag], USAGE)).toBe(`cron-agents ${VERSION}`);
  });

  it('gives the list of commands for --help, -h and help alone', () => {
    for (const argv of [['--help'], ['-h'], ['help']]) expect(helpRequest(argv, USAGE)).toBe(USAGE);
  });

  it('has a help for every command cli.ts runs, and for each user and token subcommand', () => {
    expect(DISPATCHED.length).toBeGreaterThanOrEqual(9);
    for (const command of DISPATCHED.filter((c) => c !== 'user' && c !== 'token')) expect(HELP_COMMANDS, command).toContain(command);
    expect(SUBCOMMANDS.length).toBeGreaterThanOrEqual(6);
    const grouped = HELP_COMMANDS.filter((words) => words.includes(' ')).map((words) => words.split(' ')[1]);
    for (const sub of SUBCOMMANDS) expect(grouped, sub).toContain(sub);
  });

  it('answers COMMAND --help, COMMAND -h and help COMMAND alike, with a usage line naming the command', () => {
    for (const words of HELP_COMMANDS) {
      const argv = words.split(' ');
      const text = helpRequest([...argv, '--help'], USAGE);
      expect(text?.startsWith(`Usage: cron-agents ${words}`), `${words}: ${text}`).toBe(true);
      expect(helpRequest([...argv, '-h'], USAGE)).toBe(text);
      expect(helpRequest(['help', ...argv], USAGE)).toBe(text);
    }
  });

  it('finds --help among a command arguments and options, but not after --', () => {
    expect(helpRequest(['user', 'add', 'alice', '--role', 'admin', '--help'], USAGE)).toBe(commandHelp(['user', 'add']));
    expect(helpRequest(['backup', '/tmp/b.sqlite', '-h'], USAGE)).toBe(commandHelp(['backup']));
    expect(helpRequest(['user', 'add', '--', '--help'], USAGE)).toBeNull();
    expect(helpRequest(['user', 'add', 'alice'], USAGE)).toBeNull();
    expect(helpRequest([], USAGE)).toBeNull();
  });

  it('shows a group its subcommands', () => {
    const text = helpRequest(['user', '--help'], USAGE)!;
    expect(text).toContain('Usage: cron-agents user <subcommand>');
    expect(text).toContain('  cron-agents user add NAME [--role admin|member|viewer] [--password]');
    expect(text).toContain('  cron-agents user password NAME');
    expect(text).toContain('  cron-agents user list');
  });

  it('has no help for a command that does not exist (cli.ts then refuses it)', () => {
    expect(helpRequest(['frobnicate', '--help'], USAGE)).toBeNull();
    expect(helpRequest(['help', 'frobnicate'], USAGE)).toBeNull();
  });

  it('documents each option the commands parse', () => {
    expect(commandHelp(['migrate'])).toContain('--dry-run');
    expect(commandHelp(['backup'])).toContain('--force');
    expect(commandHelp(['doctor'])).toContain('--online');
    expect(commandHelp(['token', 'create'])).toContain('--name LABEL');
    expect(commandHelp(['user', 'add'])).toMatch(/--role ROLE +admin, member or viewer \(default: member\)/);
  });
});

/**
 * `--help` for every command (`cron-agents user add --help`, or `cron-agents help user add`) and
 * `--version`. cli.ts asks `helpRequest` first, so a command given --help never runs: `serve
 * --help` starts nothing, `restore FILE --help` restores nothing.
 */
import { VERSION } from './version.js';

const CONFIG = 'Configuration comes from the environment (CRON_AGENTS_DATA_DIR, DATABASE_URL, ...): see the README.';

/** The help of each command, by its words (`user add`). */
const COMMANDS: Record<string, string> = {
  serve: `Usage: cron-agents serve

Starts the service: the API and dashboard, the scheduler and (unless CRON_AGENTS_RUNNER=false) the
runner. Applies pending migrations first. On SIGTERM or SIGINT it stops scheduling, lets running runs
finish for CRON_AGENTS_SHUTDOWN_GRACE_MS, cancels the rest, and exits. \`cron-agents\` alone does the same.

${CONFIG}`,

  migrate: `Usage: cron-agents migrate [--dry-run]

Applies the database's pending migrations and exits (serve does this too, at start).

Options:
  --dry-run    List the migrations that would be applied; apply nothing

${CONFIG}`,

  'user add': `Usage: cron-agents user add NAME [--role admin|member|viewer] [--password]

Creates a user. Users reach the API with tokens (cron-agents token create NAME) and the dashboard
with a password.

Options:
  --role ROLE    admin, member or viewer (default: member)
  --password     Also set a dashboard password: typed twice at a terminal, or else generated and
                 printed once (alone on stdout)`,

  'user password': `Usage: cron-agents user password NAME

Sets or resets NAME's dashboard password (typed twice at a terminal, or else generated and printed
once), and signs NAME out of every dashboard session.`,

  'user list': `Usage: cron-agents user list

Lists the users: id, name, role, and when each was created.`,

  'token create': `Usage: cron-agents token create USER [--name LABEL]

Prints a new API token for USER, alone on stdout; it is shown only this once. Send it as
\`Authorization: Bearer <token>\`.

Options:
  --name LABEL   What the token is for, shown in token list (default: cli)`,

  'token revoke': `Usage: cron-agents token revoke ID

Revokes the token ID (see token list): requests with it are refused from now on.`,

  'token list': `Usage: cron-agents token list

Lists the API tokens: id, prefix, user, label, when created and last used, and whether revoked.`,

  prune: `Usage: cron-agents prune

Deletes, now, the runs (and their events) that ended longer ago than CRON_AGENTS_RETENTION, and the
audit entries older than CRON_AGENTS_AUDIT_RETENTION. The service does this hourly by itself.`,

  backup: `Usage: cron-agents backup FILE [--force]

Copies the SQLite database to FILE, consistently, while the service runs (SQLite's online backup).
The secrets' key is not in it: keep CRON_AGENTS_SECRET_KEY or <data dir>/secret.key with it.
For PostgreSQL, use pg_dump (see the README, "Backups").

Options:
  --force      Replace FILE if it exists`,

  restore: `Usage: cron-agents restore FILE

Replaces the SQLite database by the backup FILE, after checking it is a cron-agents database that
passes an integrity check. Refused while a service holds the database: stop it first. The replaced
database is kept beside it.`,

  doctor: `Usage: cron-agents doctor [--online]

Checks what the service needs and prints what to fix: the configuration, the data dir and the
secrets' key, the database (reachable, and its migrations), the claude binary, the sandbox's
bubblewrap and socat (when CRON_AGENTS_SANDBOX=required), and the model credentials. Exits with 1
when something must be fixed.

Options:
  --online     Also send one tiny request (one output token) to the model API with the credentials

${CONFIG}`,

  help: `Usage: cron-agents help [COMMAND]

Shows the list of commands, or the help of one (the same as: cron-agents COMMAND --help).`,
};

/** Commands with subcommands: their help lists the subcommands' usage lines. */
const GROUPS: Record<string, string> = {
  user: 'Manages users: add, password, list.',
  token: 'Manages API tokens: create, revoke, list.',
};

function groupHelp(group: string): string {
  const usages = Object.entries(COMMANDS)
    .filter(([words]) => words.startsWith(`${group} `))
    .map(([, text]) => `  ${text.split('\n')[0]!.replace(/^Usage: /, '')}`);
  return `Usage: cron-agents ${group} <subcommand>\n\n${GROUPS[group]}\n\n${usages.join('\n')}\n\nSee: cron-agents ${group} <subcommand> --help`;
}

/** The help of `words` (a command, a group, or a group's subcommand); null when there is no such command. */
export function commandHelp(words: readonly string[]): string | null {
  const [first, second] = words;
  if (first === undefined) return null;
  if (first in GROUPS) {
    const full = second === undefined ? undefined : COMMANDS[`${first} ${second}`];
    return full ?? groupHelp(first);
  }
  return COMMANDS[first] ?? null;
}

/** The commands with their own help, as `cron-agents <words> --help` takes them (for the tests and the README). */
export const HELP_COMMANDS: readonly string[] = Object.keys(COMMANDS);

const HELP_FLAGS = new Set(['--help', '-h']);

/**
 * What to print when the arguments ask for help or the version; null when they ask for neither.
 * `usage` is the whole list of commands (cli.ts's USAGE).
 */
export function helpRequest(argv: readonly string[], usage: string): string | null {
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-V' || first === 'version') return `cron-agents ${VERSION}`;
  if (first === 'help') {
    const words = rest.filter((arg) => !HELP_FLAGS.has(arg));
    if (words.length === 0) return rest.length === 0 ? usage : (COMMANDS.help ?? usage);
    return commandHelp(words);
  }
  // Flags after `--` are arguments, not requests for help.
  const end = argv.indexOf('--');
  const flags = end < 0 ? argv : argv.slice(0, end);
  if (!flags.some((arg) => HELP_FLAGS.has(arg))) return null;
  const words = flags.filter((arg) => !arg.startsWith('-'));
  if (words.length === 0) return usage;
  return commandHelp(words);
}

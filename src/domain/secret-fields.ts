import { ValidationError } from './errors.js';

/**
 * What an agent's secret may be called and hold. A secret reaches the agent's runs as an
 * environment variable of the `claude` process (and so of its tool commands and MCP servers), so
 * its name must not be one that steers the service, the SDK, the sandbox, a shell or a language
 * runtime: such a name would let whoever sets it redirect the model traffic (and the operator's
 * key with it), run code outside the sandbox, or read what is not theirs.
 */

export const SECRET_NAME_PATTERN = '^[A-Z_][A-Z0-9_]{0,63}$';
const NAME = new RegExp(SECRET_NAME_PATTERN);

/** A value is at most 64 KiB of UTF-8 (one environment string may be 128 KiB on Linux). */
export const SECRET_VALUE_MAX_BYTES = 65_536;

/** The most secrets one agent may hold (their values together must fit a process environment). */
export const SECRETS_PER_AGENT_MAX = 100;

/**
 * The names no secret may have: an exact name, or a prefix ending in `*`. One table, with the
 * reason for each group; the README's list mirrors it.
 */
export const RESERVED_SECRET_NAMES: readonly { names: readonly string[]; reason: string }[] = [
  {
    names: ['CRON_AGENTS_*', 'CRON_RUN_TAG', 'DATABASE_URL', 'PG*'],
    reason: "the service's own settings and database, and the tag that finds a run's processes",
  },
  {
    names: ['ANTHROPIC_*', 'CLAUDE_*', 'AWS_*', 'GOOGLE_APPLICATION_CREDENTIALS', 'CLOUD_ML_REGION', 'DISABLE_*', 'MCP_*', 'OTEL_*'],
    reason: 'the model credentials and settings of the `claude` process (Anthropic, Bedrock, Vertex), its telemetry and MCP settings',
  },
  {
    names: ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'FTP_PROXY', 'SSL_*', 'SANDBOX_RUNTIME', 'SRT_*'],
    reason: "where network traffic goes and which certificates it trusts; the sandbox's own variables",
  },
  {
    names: ['PATH', 'HOME', 'SHELL', 'USER', 'LOGNAME', 'PWD', 'OLDPWD', 'TMPDIR', 'TMP', 'TEMP', 'TZ', 'TZDIR', 'LANG', 'LANGUAGE', 'LC_*', 'XDG_*'],
    reason: 'the basic process environment the service sets for each run',
  },
  {
    names: ['LD_*', 'DYLD_*', 'GCONV_PATH', 'LOCPATH', 'NLSPATH', 'MALLOC_*', 'HOSTALIASES', 'LOCALDOMAIN', 'RES_OPTIONS', 'RESOLV_HOST_CONF'],
    reason: 'the dynamic loader and the C library (code loaded into every process, name resolution)',
  },
  {
    names: ['BASH_*', 'ENV', 'IFS', 'PS4', 'PROMPT_COMMAND', 'SHELLOPTS', 'BASHOPTS', 'CDPATH', 'GLOBIGNORE'],
    reason: 'shell start-up and parsing',
  },
  {
    names: ['NODE_*', 'NPM_CONFIG_*', 'BUN_*', 'PYTHON*', 'PERL*', 'RUBY*', 'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'DOTNET_*'],
    reason: 'language runtimes (code loaded into the `claude` process and into MCP servers, which run outside the sandbox)',
  },
  {
    names: ['GIT_*', 'SSH_*'],
    reason: 'git and ssh, which the service itself runs to prepare a git workspace',
  },
];

const EXACT = new Set<string>();
const PREFIXES: string[] = [];
for (const group of RESERVED_SECRET_NAMES) {
  for (const name of group.names) {
    if (name.endsWith('*')) PREFIXES.push(name.slice(0, -1));
    else EXACT.add(name);
  }
}

/** The reserved entry (`LD_*`, `PATH`) a name falls under, or null. */
export function reservedBy(name: string): string | null {
  if (EXACT.has(name)) return name;
  const prefix = PREFIXES.find((p) => name.startsWith(p));
  return prefix === undefined ? null : `${prefix}*`;
}

/** Throws a ValidationError on `name` unless it is a well-formed, unreserved secret name. */
export function checkSecretName(name: string): void {
  if (!NAME.test(name)) {
    throw ValidationError.field('name', 'must be 1 to 64 characters of A-Z, 0-9 and _, not starting with a digit');
  }
  const reserved = reservedBy(name);
  if (reserved !== null) throw ValidationError.field('name', `${name} is reserved (${reserved}): the service sets or guards it; choose another name`);
}

/** Throws a ValidationError on `value` unless it can be an environment variable's value. The message never quotes the value. */
export function checkSecretValue(value: string): void {
  // TextEncoder, not Buffer: the dashboard imports these rules too.
  if (new TextEncoder().encode(value).length > SECRET_VALUE_MAX_BYTES) {
    throw ValidationError.field('value', `must be at most ${SECRET_VALUE_MAX_BYTES} bytes (64 KiB) of UTF-8`);
  }
  if (value.includes('\0')) throw ValidationError.field('value', 'must not contain a NUL character (an environment variable cannot hold one)');
}

import { RUN_TAG_ENV } from './process-tree.js';

/** Variables set for the `claude` process; a value of `undefined` removes the variable. */
export type EnvOverrides = Record<string, string | undefined>;

/** The folders of one run that its environment names (run-dirs.ts makes them). */
export interface EnvDirs {
  /** The agent's own home: HOME of `claude` and of its tools. */
  home: string;
  /** The agent's own Claude Code configuration (CLAUDE_CONFIG_DIR), outside `home`. */
  configDir: string;
  /** This run's temp folder (TMPDIR, CLAUDE_CODE_TMPDIR). */
  tmp: string;
}

export interface RunEnvironmentInput {
  /** The service's environment, which the allow-list picks from (never passed on whole). */
  base: Readonly<Record<string, string | undefined>>;
  /** Variables the service itself sets for `claude` (tests: the fake model's URL and key). */
  overrides: EnvOverrides;
  /** Further names of `base` the operator lets through (CRON_AGENTS_RUN_ENV). */
  runEnv: readonly string[];
  /** The agent's secrets: name -> value. */
  secrets: Readonly<Record<string, string>>;
  dirs: EnvDirs;
  runTag: string;
}

export interface RunEnvironment {
  env: Record<string, string>;
  /**
   * The model credentials and provider settings in `env`: hidden from tool commands (the
   * sandbox's credentials deny list) and blanked for stdio MCP servers.
   */
  credentialNames: string[];
  /** Secrets left out because the service sets a variable of that name itself. */
  shadowedSecrets: string[];
}

/** Locale and time zone, as the service has them. */
const BASIC_NAMES = ['PATH', 'LANG', 'LANGUAGE', 'TZ'];
const BASIC_PREFIXES = ['LC_'];
/** Claude Code's own settings, which an operator may tune for every run. */
const SETTING_NAMES = [
  'MAX_THINKING_TOKENS',
  'MCP_TIMEOUT',
  'MCP_TOOL_TIMEOUT',
  'MAX_MCP_OUTPUT_TOKENS',
  'BASH_DEFAULT_TIMEOUT_MS',
  'BASH_MAX_TIMEOUT_MS',
  'BASH_MAX_OUTPUT_LENGTH',
  'API_TIMEOUT_MS',
];
const SETTING_PREFIXES = ['CLAUDE_CODE_', 'DISABLE_'];
/** The model's credentials and endpoint: Anthropic (and Foundry, Vertex project) under ANTHROPIC_*. */
const CREDENTIAL_PREFIXES = ['ANTHROPIC_'];
const CREDENTIAL_NAMES = ['CLAUDE_CODE_OAUTH_TOKEN'];
/** Bedrock and Vertex credentials: passed only when the operator turned that provider on. */
const BEDROCK_PREFIXES = ['AWS_'];
const VERTEX_NAMES = ['CLOUD_ML_REGION', 'GOOGLE_APPLICATION_CREDENTIALS', 'GOOGLE_CLOUD_PROJECT', 'GCLOUD_PROJECT'];
const VERTEX_PREFIXES = ['VERTEX_REGION_'];
/** Set by `claude` itself for its tools; hidden from commands as well. */
const CLAUDE_OWN_CREDENTIALS = ['CLAUDE_CODE_MESSAGING_TOKEN'];
/** Set per agent and run below; an operator's value would make agents share these folders. */
export const PER_RUN_VARIABLES: readonly string[] = ['HOME', 'TMPDIR', 'CLAUDE_CONFIG_DIR', 'CLAUDE_CODE_TMPDIR'];

/** Never given to a run, whoever asks: the service's settings (admin token, data dir) and its database. */
export function isServiceVariable(name: string): boolean {
  return name.startsWith('CRON_AGENTS_') || name === 'DATABASE_URL' || name.startsWith('PG');
}

const matches = (name: string, names: readonly string[], prefixes: readonly string[]): boolean =>
  names.includes(name) || prefixes.some((prefix) => name.startsWith(prefix));

const truthy = (value: string | undefined): boolean => value !== undefined && !['', '0', 'false', 'no', 'off'].includes(value.trim().toLowerCase());

/** Whether `name` of the service's environment is a model credential or provider setting that reaches `claude`. */
function isCredential(name: string, env: Readonly<Record<string, string | undefined>>): boolean {
  if (matches(name, CREDENTIAL_NAMES, CREDENTIAL_PREFIXES)) return true;
  if (truthy(env.CLAUDE_CODE_USE_BEDROCK) && matches(name, [], BEDROCK_PREFIXES)) return true;
  return truthy(env.CLAUDE_CODE_USE_VERTEX) && matches(name, VERTEX_NAMES, VERTEX_PREFIXES);
}

/**
 * The environment of one run's `claude` process, built from an allow-list, never from the
 * service's whole environment: PATH, locale and time zone; the model's credentials and Claude
 * Code's settings (Bedrock/Vertex ones when that provider is on); the names of CRON_AGENTS_RUN_ENV;
 * the agent's secrets; the agent's own HOME, config dir and this run's temp dir; the run's tag,
 * which every process the run starts inherits (process-tree.ts finds them by it). Nothing named
 * CRON_AGENTS_*, DATABASE_URL or PG* gets in, whatever the source.
 */
export function runEnvironment(input: RunEnvironmentInput): RunEnvironment {
  const { base, overrides, runEnv, secrets, dirs } = input;
  const merged: Record<string, string | undefined> = { ...base, ...overrides };
  const env: Record<string, string> = {};
  const credentialNames: string[] = [];
  for (const [name, value] of Object.entries(merged)) {
    if (value === undefined || PER_RUN_VARIABLES.includes(name)) continue;
    if (isCredential(name, merged)) credentialNames.push(name);
    else if (!matches(name, [...BASIC_NAMES, ...SETTING_NAMES], [...BASIC_PREFIXES, ...SETTING_PREFIXES]) && !runEnv.includes(name)) continue;
    env[name] = value;
  }
  if (env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC === undefined) env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  const shadowedSecrets: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    if (env[name] !== undefined || PER_RUN_VARIABLES.includes(name) || name === RUN_TAG_ENV) shadowedSecrets.push(name);
    else env[name] = value;
  }
  Object.assign(env, { HOME: dirs.home, CLAUDE_CONFIG_DIR: dirs.configDir, TMPDIR: dirs.tmp, CLAUDE_CODE_TMPDIR: dirs.tmp, [RUN_TAG_ENV]: input.runTag });
  for (const name of Object.keys(env)) if (isServiceVariable(name)) delete env[name];
  return { env, credentialNames: [...credentialNames.filter((name) => env[name] !== undefined), ...CLAUDE_OWN_CREDENTIALS], shadowedSecrets };
}

/** Whether `claude` can reach the model with this environment (else every run ends "Not logged in"). */
export function hasModelCredentials(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ANTHROPIC_API_KEY || env.ANTHROPIC_AUTH_TOKEN || env.CLAUDE_CODE_OAUTH_TOKEN || env.CLAUDE_CODE_USE_BEDROCK || env.CLAUDE_CODE_USE_VERTEX);
}

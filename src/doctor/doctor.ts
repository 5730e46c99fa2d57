/**
 * `cron-agents doctor`: checks what the service needs before it can run agents, and says what to
 * fix. Each check is one line: `ok`, `warn` (works, but look), `FAIL` (fix it: the exit code is
 * 1), or `skip` (not applicable, or an earlier failure makes it moot).
 *   doctor.ts          the checks in order, and the report
 *   host-checks.ts     Node.js, the data dir, the secret key, the claude binary, the sandbox
 *   database-check.ts  the database: reachable, and its migrations
 *   model-check.ts     the model credentials, and (--online) one tiny request with them
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { VERSION } from '../version.js';
import { checkDatabase } from './database-check.js';
import { checkClaudeBinary, checkDataDir, checkNode, checkSandbox, checkSecretKey } from './host-checks.js';
import { checkModel } from './model-check.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** What was checked, e.g. "database". */
  name: string;
  status: CheckStatus;
  /** What was found, in one line. */
  summary: string;
  /** What to do about it (for warn and fail). */
  fix?: string;
}

export interface DoctorOptions {
  /** The environment to check (the configuration, PATH, the model credentials). */
  env: Record<string, string | undefined>;
  /** Send one tiny request to the model API with the credentials. */
  online?: boolean;
  /** How long a connection (database, model API) may take; default 10 s. */
  timeoutMs?: number;
}

export const DEFAULT_DOCTOR_TIMEOUT_MS = 10_000;

function checkConfig(env: DoctorOptions['env']): { result: CheckResult; config: Readonly<Config> | null } {
  try {
    const config = loadConfig(env);
    const database = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `SQLite in ${config.dataDir}`;
    const runner = config.runnerEnabled ? `runs up to ${config.maxConcurrentRuns} agents at once` : 'runs no agents (CRON_AGENTS_RUNNER=false)';
    return { result: { name: 'configuration', status: 'ok', summary: `${database}; serves ${config.host}:${config.port}; ${runner}` }, config };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return {
      result: { name: 'configuration', status: 'fail', summary: error.message, fix: "correct it (the README's Configuration table lists every setting)" },
      config: null,
    };
  }
}

const skipped = (name: string, why: string): CheckResult => ({ name, status: 'skip', summary: why });

/** Runs every check, in order; never throws for what it finds. */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const { env } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOCTOR_TIMEOUT_MS;
  const results: CheckResult[] = [checkNode(process.versions.node)];
  const { result, config } = checkConfig(env);
  results.push(result);
  const noConfig = 'the configuration must be fixed first';
  if (config) {
    results.push(checkDataDir(config), checkSecretKey(config), await checkDatabase(config, timeoutMs));
  } else {
    results.push(skipped('data dir', noConfig), skipped('secret key', noConfig), skipped('database', noConfig));
  }
  // Without a configuration, assume what the defaults say: this instance runs agents, in the sandbox.
  const runsAgents = config?.runnerEnabled ?? true;
  if (runsAgents) {
    results.push(await checkClaudeBinary(timeoutMs * 3), await checkSandbox(config?.sandbox ?? 'required', env.PATH, timeoutMs));
    results.push(await checkModel(env, { online: options.online ?? false, timeoutMs: timeoutMs * 2 }));
  } else {
    const why = 'this instance runs no agents (CRON_AGENTS_RUNNER=false)';
    results.push(skipped('claude binary', why), skipped('sandbox', why), skipped('model credentials', why));
  }
  return results;
}

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'warn', fail: 'FAIL', skip: 'skip' };

/** The report as the CLI prints it: a line per check, its fix indented below, and a verdict. */
export function formatReport(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = [`cron-agents doctor ${VERSION}`, ''];
  for (const r of results) {
    lines.push(`  ${LABEL[r.status]}  ${r.name.padEnd(width)}  ${r.summary}`);
    if (r.fix && (r.status === 'fail' || r.status === 'warn')) lines.push(`  ${' '.repeat(4)}  ${' '.repeat(width)}  fix: ${r.fix}`);
  }
  const failures = results.filter((r) => r.status === 'fail').length;
  const warnings = results.filter((r) => r.status === 'warn').length;
  lines.push('');
  if (failures === 0) lines.push(`No problems found${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}.`);
  else lines.push(`${failures} problem${failures === 1 ? '' : 's'} to fix${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}.`);
  return lines.join('\n');
}

/** Whether the report holds a failure (the CLI's exit code 1). */
export function hasFailures(results: readonly CheckResult[]): boolean {
  return results.some((r) => r.status === 'fail');
}

/** `cron-agents doctor [--online]`: prints the report; exit code 1 when something must be fixed. */
export async function doctorCommand(args: string[], usage: (message: string) => Error): Promise<void> {
  const online = (() => {
    try {
      return parseArgs({ args, options: { online: { type: 'boolean' } }, allowPositionals: false, strict: true }).values.online === true;
    } catch (error) {
      throw usage(error instanceof Error ? error.message : String(error));
    }
  })();
  const results = await runDoctor({ env: process.env, online });
  console.log(formatReport(results));
  if (hasFailures(results)) process.exitCode = 1;
}

import fs from 'node:fs';
import path from 'node:path';
import { RUN_TAG_ENV } from './process-tree.js';

/** Variables set for the `claude` process; a value of `undefined` removes the variable. */
export type EnvOverrides = Record<string, string | undefined>;

/**
 * The environment one run's `claude` process is given: this service's environment (read at each
 * run), the overrides merged over it, and the run's tag, which every process the run starts
 * inherits (process-tree.ts finds them by it). ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY pass
 * through as they are.
 */
export function claudeEnvironment(overrides: EnvOverrides, runTag: string, base: NodeJS.ProcessEnv = process.env): EnvOverrides {
  const env: EnvOverrides = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  env[RUN_TAG_ENV] = runTag;
  return env;
}

/**
 * What the service sets for `claude` unless the operator set it: its configuration and scratch
 * files stay in the data dir (not in ~/.claude and /tmp), and it makes no calls beyond the model
 * API (no telemetry, no update checks). Creates the directories it names.
 */
export function defaultClaudeEnv(dataDir: string, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const dirs: Record<string, string> = {
    CLAUDE_CONFIG_DIR: path.join(dataDir, 'claude', 'config'),
    CLAUDE_CODE_TMPDIR: path.join(dataDir, 'claude', 'tmp'),
  };
  const env: Record<string, string> = {};
  for (const [name, dir] of Object.entries(dirs)) {
    if (base[name] !== undefined) continue;
    fs.mkdirSync(dir, { recursive: true });
    env[name] = dir;
  }
  if (base.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC === undefined) env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = '1';
  return env;
}

/** Whether `claude` can reach the model with this environment (else every run ends "Not logged in"). */
export function hasModelCredentials(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ANTHROPIC_API_KEY || env.ANTHROPIC_AUTH_TOKEN || env.CLAUDE_CODE_OAUTH_TOKEN);
}

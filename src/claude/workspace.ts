import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DEFAULTS } from '../defaults.js';
import { redactSecrets, type SecretValues } from '../domain/secret-refs.js';
import type { AgentRunRequest } from '../engine/agent-runner.js';

/**
 * Where a run works, made ready before `query()`.
 *
 * Contract with the runner (run-boundary.ts calls it once per run, before anything starts):
 *
 *   const workspace = await prepareWorkspace(request);  // { cwd, readOnly }
 *   // writable: options.cwd = workspace.cwd. readOnly: the run works in its own folder and reads
 *   // workspace.cwd where it is (the sandbox cannot make its guard files in a read-only cwd);
 *   // neither tool commands nor the file tools may write it.
 *
 * It throws a WorkspaceError whose message is fit for the run's output (git's own message, the
 * agent's secrets replaced by `[secret:NAME]`): the run then ends as `error` with it. When the
 * request's signal aborts meanwhile, git is stopped and it throws too (the run is `cancelled`).
 *
 * - no workspace: the agent's own folder (`request.cwd`), as it is;
 * - `git`: the repository fetched into the agent's own folder, `ref` (default: the remote's
 *   default branch) checked out, on every run; the first run makes the repository (a clone);
 * - `hostPath`: that folder of the host (the executor checked it against the operator's list).
 *
 * The git directory lives beside the agent's folder (`<cwd>.git`), never inside it: git runs
 * here, outside the sandbox, and obeys hooks and config found in its git directory, so a run
 * must not be able to write them. The run sees a plain checkout.
 */
export interface PreparedWorkspace {
  /** The run's working directory. */
  cwd: string;
  /** Runs may read `cwd` but not write it. */
  readOnly: boolean;
}

export interface WorkspaceOptions {
  /** How long the git commands of one run may take together. Default: DEFAULTS.gitTimeoutMs. */
  timeoutMs?: number;
}

/** Why a workspace could not be made ready; the message is safe to store as the run's output. */
export class WorkspaceError extends Error {
  override readonly name = 'WorkspaceError';
}

export type WorkspaceRequest = Pick<AgentRunRequest, 'workspace' | 'cwd' | 'secrets' | 'signal'>;

export async function prepareWorkspace(request: WorkspaceRequest, options: WorkspaceOptions = {}): Promise<PreparedWorkspace> {
  const { workspace, cwd } = request;
  if (workspace === null) return { cwd, readOnly: false };
  if ('hostPath' in workspace) {
    const real = await fs.realpath(workspace.hostPath).catch(() => null);
    if (real === null || !(await fs.stat(real)).isDirectory()) throw new WorkspaceError(`The workspace folder ${workspace.hostPath} does not exist`);
    return { cwd: real, readOnly: workspace.readOnly };
  }
  await withAgentLock(cwd, () => fetchAndCheckOut(request, workspace.git, options.timeoutMs ?? DEFAULTS.gitTimeoutMs));
  return { cwd, readOnly: false };
}

/** Runs of one agent may overlap (a manual run during a scheduled one): their git commands take turns. */
const agentLocks = new Map<string, Promise<void>>();

async function withAgentLock(key: string, task: () => Promise<void>): Promise<void> {
  const before = agentLocks.get(key) ?? Promise.resolve();
  const mine = before.then(task, task);
  const settled = mine.catch(() => {});
  agentLocks.set(key, settled);
  try {
    await mine;
  } finally {
    if (agentLocks.get(key) === settled) agentLocks.delete(key);
  }
}

interface GitSpec {
  url: string;
  ref?: string;
  depth?: number;
}

async function fetchAndCheckOut(request: WorkspaceRequest, git: GitSpec, timeoutMs: number): Promise<void> {
  const gitDir = `${request.cwd}.git`;
  const deadline = Date.now() + timeoutMs;
  const run = (command: string, args: string[], extraEnv: Record<string, string> = {}) =>
    runGit(command, args, { request, gitDir, deadline, timeoutMs, extraEnv });
  await fs.mkdir(request.cwd, { recursive: true });
  if (!existsSync(path.join(gitDir, 'HEAD'))) await run('init', ['init', '--quiet', '--bare', gitDir]);
  const { url, env } = credentialsOffTheCommandLine(git.url);
  const history = git.depth !== undefined ? ['--depth', String(git.depth)] : existsSync(path.join(gitDir, 'shallow')) ? ['--unshallow'] : [];
  await run('fetch', ['--git-dir', gitDir, 'fetch', '--quiet', '--no-tags', ...history, '--', url, git.ref ?? 'HEAD'], env);
  await run('checkout', ['--git-dir', gitDir, '--work-tree', request.cwd, 'checkout', '--quiet', '--force', '--detach', 'FETCH_HEAD']);
}

/**
 * The URL without its user info, and the environment that hands git the credential instead (an
 * `Authorization` header for that origin only): `ps` shows a process's arguments to every local
 * user, its environment only to its owner.
 */
function credentialsOffTheCommandLine(raw: string): { url: string; env: Record<string, string> } {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return { url: raw, env: {} };
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || (parsed.username === '' && parsed.password === '')) return { url: raw, env: {} };
  const credential = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  parsed.username = '';
  parsed.password = '';
  return {
    url: parsed.href,
    env: {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${parsed.origin}/.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(credential).toString('base64')}`,
    },
  };
}

/** Variables of the service's environment git may need to reach a repository (a proxy, a CA bundle). */
const PASSED_ON = [
  'PATH',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'https_proxy',
  'http_proxy',
  'no_proxy',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
];

/**
 * git's environment: nothing of the operator's git set-up (no system or global config, so no
 * credential helpers, no url rewrites; no ~/.netrc), no prompts, and only the protocols a
 * workspace URL may use (no ext::, no ssh with the service's keys).
 */
function gitEnvironment(gitDir: string, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PASSED_ON) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    HOME: gitDir,
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_ALLOW_PROTOCOL: 'https:http:git:file',
    ...extra,
  };
}

const STDERR_LIMIT = 4000;

interface GitCall {
  request: WorkspaceRequest;
  gitDir: string;
  deadline: number;
  timeoutMs: number;
  extraEnv: Record<string, string>;
}

/** Runs one git command; a WorkspaceError with git's message (secrets redacted) when it fails, times out or is cancelled. */
function runGit(command: string, args: string[], call: GitCall): Promise<void> {
  const { request, gitDir, deadline } = call;
  const fail = (message: string) => new WorkspaceError(redact(`Preparing the git workspace failed (git ${command}): ${message}`, request.secrets));
  if (request.signal.aborted) return Promise.reject(fail('cancelled'));
  const hardening = ['-c', 'core.hooksPath=/dev/null', '-c', 'credential.helper=', '-c', 'core.fsmonitor=false'];
  return new Promise<void>((resolve, reject) => {
    const child = spawn('git', [...hardening, ...args], {
      cwd: path.dirname(gitDir),
      env: gitEnvironment(gitDir, call.extraEnv),
      stdio: ['ignore', 'ignore', 'pipe'],
      // Its own process group: a timeout or a cancel stops git and the helpers it started.
      detached: true,
    });
    let stderr = '';
    let stopped: string | null = null;
    const stop = (why: string) => {
      stopped ??= why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const onAbort = () => stop('cancelled');
    const timer = setTimeout(() => stop(`took longer than ${call.timeoutMs / 1000} s`), Math.max(0, deadline - Date.now()));
    request.signal.addEventListener('abort', onAbort, { once: true });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_LIMIT);
    });
    const finish = (error: Error | null) => {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    child.on('error', (error) => finish(fail(error.message)));
    child.on('close', (code) => {
      if (stopped !== null) finish(fail(stopped));
      else if (code !== 0) finish(fail(stderr.trim() || `exit code ${code}`));
      else finish(null);
    });
  });
}

/** Secret values, and any user info left in a URL, out of a message. */
function redact(text: string, secrets: SecretValues): string {
  return redactSecrets(text, secrets).replace(/(\w+:\/\/)[^/@\s]+@/g, '$1[credentials]@');
}

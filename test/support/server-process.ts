import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/cli.js');

export interface ServerProcess {
  url: string;
  /** The instance id it records as the executor of its runs. */
  instanceId: string;
  token: string;
  dataDir: string;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /**
   * An API request with the admin token. The body is parsed JSON, typed as the caller expects
   * it (the test's assertions check it), or null for an empty body.
   */
  request<T = unknown>(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<number | null>;
  /** SIGKILL, then wait for exit. */
  kill(): Promise<void>;
}

export interface ServerProcessOptions {
  env?: Record<string, string>;
  /** Reuse a data dir (restart after a crash). */
  dataDir?: string;
  token?: string;
  /** A script to run instead of `dist/cli.js serve` (e.g. a fixture with a fake runner). */
  script?: string;
}

/**
 * Starts the built server (`node dist/cli.js serve`) as a child process on a random port, with a
 * known admin token, and waits until it serves.
 */
export async function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-e2e-'));
  const token = options.token ?? `e2e-${randomBytes(24).toString('hex')}`;
  const args = options.script ? [options.script] : [CLI, 'serve'];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      CRON_AGENTS_DATA_DIR: dataDir,
      CRON_AGENTS_ADMIN_TOKEN: token,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const { url, instanceId } = await new Promise<{ url: string; instanceId: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in time:\n${output}`)), 30_000);
    const onData = () => {
      const line = output.split('\n').find((l) => l.includes('cron-agents is serving'));
      if (!line) return;
      const logged = JSON.parse(line) as { url: string; instanceId: string };
      clearTimeout(timer);
      resolve({ url: logged.url, instanceId: logged.instanceId });
    };
    child.stdout.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before serving:\n${output}`));
    });
  });

  const request = async <T>(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(url + urlPath, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
  };

  return {
    url,
    instanceId,
    token,
    dataDir,
    child,
    output: () => output,
    request,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Runs the built CLI (`node dist/cli.js ...args`) on a data dir, as an operator would, and
 * resolves with its exit code and what it printed (it does not throw on a non-zero exit).
 */
export function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'silent', ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Polls `probe` every 100 ms until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * PIDs of processes whose command line or working directory mentions `marker`, and each of
 * `alsoMarkers` too (`processesMatching(workspace, 'sleep 300')`: a sleep in that workspace, not
 * one a concurrent test started elsewhere).
 */
export function processesMatching(marker: string, ...alsoMarkers: string[]): number[] {
  const markers = [marker, ...alsoMarkers];
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      let cwd = '';
      try {
        cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // a process that just exited
      }
      if (markers.every((m) => cmdline.includes(m) || cwd.includes(m))) pids.push(Number(entry));
    } catch {
      // gone already
    }
  }
  return pids;
}

/**
 * Ends a test's server for good: stops it (SIGTERM and its grace) or kills it, kills what it left
 * behind (the processes that name its data dir), and deletes its data dir.
 */
export async function disposeServer(server: ServerProcess, how: 'stop' | 'kill' = 'stop'): Promise<void> {
  await (how === 'stop' ? server.stop() : server.kill());
  for (const pid of processesMatching(server.dataDir)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(server.dataDir, { recursive: true, force: true });
}

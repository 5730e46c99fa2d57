import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';

/**
 * A TypeScript client generated from the running service's OpenAPI document, as a user of the API
 * would make one: `openapi-typescript` writes the types from /api/openapi.json, `openapi-fetch`
 * calls the service through them, `tsc` (strict) compiles the client, and Node runs it against
 * the built server. The server has a fake runner (test/fixtures): runs end in 100 ms, no model.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const FIXTURE = path.join(ROOT, 'test/fixtures/serve-with-fake-runner.mjs');
const TSC = path.join(ROOT, 'node_modules/typescript-native/bin/tsc');
const OPENAPI_TS = path.join(ROOT, 'node_modules/openapi-typescript/bin/cli.js');

/** The client: create, list, run (and wait for the run), stats; what it saw, as one JSON line. */
const CLIENT = `
import createClient from 'openapi-fetch';
import type { paths } from './api.js';

type Run = paths['/api/runs/{runId}']['get']['responses'][200]['content']['application/json']['data'];

const [baseUrl = '', token = ''] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl, headers: { authorization: 'Bearer ' + token } });

function fail(what: string, error: unknown): never {
  throw new Error(what + ': ' + JSON.stringify(error));
}

const created = await client.POST('/api/agents', {
  body: { name: 'Generated client', prompt: 'Say hello', schedule: '0 9 * * 1-5', timezone: 'Europe/Berlin', maxTurns: 3 },
});
if (!created.data) fail('create', created.error);
const agent = created.data.data;

const listed = await client.GET('/api/agents');
if (!listed.data) fail('list', listed.error);
const names: string[] = listed.data.data.map((a) => a.name);

const started = await client.POST('/api/agents/{id}/run', { params: { path: { id: agent.id } } });
if (!started.data) fail('run', started.error);
const runId: string = started.data.runId;

let run: Run | undefined;
for (let i = 0; i < 100; i++) {
  const got = await client.GET('/api/runs/{runId}', { params: { path: { runId } } });
  if (!got.data) fail('get run', got.error);
  run = got.data.data;
  if (!['queued', 'running'].includes(run.status)) break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const stats = await client.GET('/api/agents/{id}/stats', { params: { path: { id: agent.id }, query: { period: '7d' } } });
if (!stats.data) fail('stats', stats.error);
const global = await client.GET('/api/agents/stats', { params: { query: { period: '24h' } } });
if (!global.data) fail('global stats', global.error);

// An error comes back typed as the API's error body.
const missing = await client.GET('/api/agents/{id}', { params: { path: { id: 'no-such-agent' } } });
const errorCode: string | undefined = missing.error?.error.code;

console.log(JSON.stringify({
  agent: { id: agent.id, name: agent.name, timezone: agent.timezone, enabled: agent.enabled },
  names,
  runId,
  run: run && { id: run.id, status: run.status, trigger: run.trigger, output: run.output },
  stats: { totalRuns: stats.data.data.totalRuns, successRate: stats.data.data.successRate },
  global: { totalAgents: global.data.data.totalAgents, runsInPeriod: global.data.data.runsInPeriod },
  missing: { status: missing.response.status, code: errorCode },
}));
`;

/** Misuses the generated types must refuse: each line is a compile error, or tsc fails on an unused directive. */
const MISUSE = `
import createClient from 'openapi-fetch';
import type { paths } from './api.js';

const client = createClient<paths>({ baseUrl: 'http://127.0.0.1:1' });
export async function misuse(): Promise<void> {
  // @ts-expect-error: the prompt is required
  await client.POST('/api/agents', { body: { name: 'x', schedule: '* * * * *' } });
  // @ts-expect-error: maxTurns is a number
  await client.POST('/api/agents', { body: { name: 'x', prompt: 'p', schedule: '* * * * *', maxTurns: 'many' } });
  // @ts-expect-error: the timezone is a string
  await client.POST('/api/agents', { body: { name: 'x', prompt: 'p', schedule: '* * * * *', timezone: 1 } });
  // @ts-expect-error: no such route
  await client.GET('/api/agent');
  // @ts-expect-error: the path parameter is required
  await client.POST('/api/agents/{id}/run', {});
  // @ts-expect-error: period is 24h, 7d or 30d
  await client.GET('/api/agents/stats', { params: { query: { period: '1y' } } });
  const run = await client.GET('/api/runs/{runId}', { params: { path: { runId: 'r' } } });
  // @ts-expect-error: a run has no such field
  console.log(run.data?.data.colour);
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    types: ['node'],
    outDir: 'out',
    rootDir: '.',
  },
  include: ['api.d.ts', 'client.ts', 'misuse.ts'],
};

function run(file: string, args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { cwd, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let server: ServerProcess;
let dir: string;

beforeAll(async () => {
  server = await startServerProcess({ script: FIXTURE, env: { FAKE_RUN_MS: '100' } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-client-'));
  // The client's packages (openapi-fetch, @types/node) resolve from the project's node_modules.
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
  fs.writeFileSync(path.join(dir, 'client.ts'), CLIENT);
  fs.writeFileSync(path.join(dir, 'misuse.ts'), MISUSE);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  if (server) fs.rmSync(server.dataDir, { recursive: true, force: true });
});

describe('a client generated from the OpenAPI document', { timeout: 120_000 }, () => {
  it('is generated by openapi-typescript from the running service, and names every operation', async () => {
    const generated = await run(OPENAPI_TS, [`${server.url}/api/openapi.json`, '--output', 'api.d.ts'], dir);
    expect(generated.code, generated.stderr).toBe(0);
    const types = fs.readFileSync(path.join(dir, 'api.d.ts'), 'utf8');
    expect(types).toContain('export interface paths');
    expect(types).toContain('export interface operations');
    for (const id of ['listAgents', 'createAgent', 'runAgent', 'getAgentStats', 'getGlobalStats', 'getRun']) expect(types).toContain(`    ${id}: {`);
  });

  it('compiles with tsc in strict mode, and the types refuse misuse', async () => {
    const compiled = await run(TSC, ['-p', 'tsconfig.json'], dir);
    expect(compiled.stdout + compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'out/client.js'))).toBe(true);
  });

  it('creates, lists, runs and reads stats against the running service', async () => {
    const result = await run(path.join(dir, 'out/client.js'), [server.url, server.token], dir);
    expect(result.code, result.stderr).toBe(0);
    const seen = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as {
      agent: { id: string; name: string; timezone: string; enabled: boolean };
      names: string[];
      runId: string;
      run: { id: string; status: string; trigger: string; output: string | null };
      stats: { totalRuns: number; successRate: number };
      global: { totalAgents: number; runsInPeriod: number };
      missing: { status: number; code: string };
    };
    expect(seen.agent).toMatchObject({ name: 'Generated client', timezone: 'Europe/Berlin', enabled: true });
    expect(seen.names).toContain('Generated client');
    expect(seen.run).toEqual({ id: seen.runId, status: 'success', trigger: 'manual', output: `ran ${seen.runId}` });
    expect(seen.stats).toEqual({ totalRuns: 1, successRate: 100 });
    expect(seen.global).toEqual({ totalAgents: 1, runsInPeriod: 1 });
    expect(seen.missing).toEqual({ status: 404, code: 'not_found' });
    // What the client made is there for anyone else too.
    const check = await server.request<{ data: { id: string; name: string } }>('GET', `/api/agents/${seen.agent.id}`);
    expect(check.body.data.name).toBe('Generated client');
  });
});

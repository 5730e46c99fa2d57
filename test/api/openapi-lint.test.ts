import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/test-app.js';

/**
 * The OpenAPI document as the tools people feed it to see it: Redocly CLI's recommended rules
 * (0 errors, 0 warnings), and the conventions generated clients rely on (an operationId on every
 * operation, unique and camelCase; one known tag; the security schemes).
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const REDOCLY = path.join(ROOT, 'node_modules/@redocly/cli/bin/cli.js');
const TAGS = ['agents', 'runs', 'stats', 'schedules', 'secrets', 'webhooks', 'budget', 'audit', 'access', 'session', 'system'];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  responses?: Record<string, unknown>;
}
interface OpenApiDocument {
  openapi: string;
  servers?: { url: string }[];
  security?: Record<string, string[]>[];
  components?: { securitySchemes?: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
  paths: Record<string, Record<string, Operation>>;
}
interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  location: { pointer?: string }[];
}
interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: LintProblem[];
}

let t: TestApp;
let doc: OpenApiDocument;
let dir: string;

beforeAll(async () => {
  t = await createTestApp();
  const response = await t.app.server.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(response.statusCode).toBe(200);
  doc = JSON.parse(response.body) as OpenApiDocument;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-openapi-'));
});

afterAll(async () => {
  await t?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every operation of the document, as `METHOD /path` and the operation. */
function operations(): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([route, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]): [string, Operation] => [`${method.toUpperCase()} ${route}`, operation]),
  );
}

/** Runs `redocly lint` with its recommended rules on the document; resolves with its JSON report. */
function lint(file: string): Promise<LintReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [REDOCLY, 'lint', file, '--extends=recommended', '--format=json', '--max-problems=100000'],
      // A folder of its own: no redocly.yaml of anyone's applies. No telemetry, no update check.
      { cwd: dir, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' }, maxBuffer: 64 << 20 },
      (error, stdout, stderr) => {
        const start = stdout.indexOf('{');
        if (start < 0) return reject(new Error(`redocly printed no report (${error?.message ?? 'exit 0'}):\n${stdout}\n${stderr}`));
        resolve(JSON.parse(stdout.slice(start)) as LintReport);
      },
    );
  });
}

describe('the OpenAPI document', () => {
  it('passes Redocly CLI recommended rules with 0 errors and 0 warnings', { timeout: 60_000 }, async () => {
    const file = path.join(dir, 'openapi.json');
    fs.writeFileSync(file, JSON.stringify(doc, null, 2));
    const report = await lint(file);
    const listed = report.problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? '?'}`).join('\n');
    expect(listed).toBe('');
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('the linter is not blind: a document with the old faults fails it', { timeout: 60_000 }, async () => {
    // 3.0.3 with a 2020-12 form, no servers, an operation without operationId or security: what issue 12 found.
    const broken = structuredClone(doc);
    broken.openapi = '3.0.3';
    delete broken.servers;
    delete broken.security;
    const first = Object.values(broken.paths)[0]!;
    for (const op of Object.values(first)) delete op.operationId;
    const file = path.join(dir, 'broken.json');
    fs.writeFileSync(file, JSON.stringify(broken));
    const report = await lint(file);
    const rules = new Set(report.problems.map((p) => p.ruleId));
    expect(report.totals.errors).toBeGreaterThan(0);
    expect(rules).toContain('no-empty-servers');
    expect(rules).toContain('operation-operationId');
  });

  it('declares OpenAPI 3.1, a server, and the bearer and cookie schemes as the default security', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
    const schemes = doc.components?.securitySchemes ?? {};
    expect(Object.keys(schemes).sort()).toEqual(['bearer', 'session']);
    expect(schemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.session).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'cron_agents_session' });
    expect(doc.security).toEqual([{ bearer: [] }, { session: [] }]);
  });

  it('gives every operation a unique camelCase operationId and one known tag', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(35);
    const missing = ops.filter(([, op]) => !op.operationId).map(([name]) => name);
    expect(missing, 'operations without an operationId').toEqual([]);
    const badlyNamed = ops.filter(([, op]) => !/^[a-z][a-zA-Z0-9]*$/.test(op.operationId ?? '')).map(([name, op]) => `${name}: ${op.operationId}`);
    expect(badlyNamed).toEqual([]);
    const ids = ops.map(([, op]) => op.operationId);
    expect(
      ids.filter((id, i) => ids.indexOf(id) !== i),
      'duplicate operationIds',
    ).toEqual([]);
    const badTags = ops.filter(([, op]) => op.tags?.length !== 1 || !TAGS.includes(op.tags[0]!)).map(([name, op]) => `${name}: ${String(op.tags)}`);
    expect(badTags).toEqual([]);
  });

  it('names the operations a client calls by what they do', () => {
    const byId = new Map(operations().map(([name, op]) => [op.operationId, name]));
    expect(byId.get('listAgents')).toBe('GET /api/agents');
    expect(byId.get('createAgent')).toBe('POST /api/agents');
    expect(byId.get('runAgent')).toBe('POST /api/agents/{id}/run');
    expect(byId.get('getAgentStats')).toBe('GET /api/agents/{id}/stats');
    expect(byId.get('getGlobalStats')).toBe('GET /api/agents/stats');
    expect(byId.get('getRun')).toBe('GET /api/runs/{runId}');
  });

  it('says sign-in needs no credential, and every other /api operation one', () => {
    const open = operations()
      .filter(([, op]) => op.security !== undefined && op.security.length === 0)
      .map(([name]) => name);
    expect(open).toEqual(['POST /api/session']);
  });
});

describe('the API reference at /api/docs', () => {
  it('is served without a token, under the dashboard strict Content-Security-Policy', async () => {
    const page = await t.app.server.inject({ method: 'GET', url: '/api/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['x-frame-options']).toBe('DENY');
    // No inline script or style the policy would block: every script and stylesheet is a file of its own.
    expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(page.body).not.toMatch(/<style[\s>]/);
    const assets = [...page.body.matchAll(/(?:src|href)="\.\/([^"]+)"/g)].map((m) => m[1]!);
    expect(assets).toEqual(expect.arrayContaining(['static/swagger-ui-bundle.js', 'static/swagger-initializer.js', 'static/swagger-ui.css']));
    for (const asset of assets) {
      const response = await t.app.server.inject({ method: 'GET', url: `/api/docs/${asset}` });
      expect(response.statusCode, asset).toBe(200);
    }
  });

  it('reads the same document as /api/openapi.json', async () => {
    const json = await t.app.server.inject({ method: 'GET', url: '/api/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(JSON.parse(json.body)).toEqual(doc);
  });

  it('adds no route that a token could not reach before: the API itself still needs one', async () => {
    const agents = await t.app.server.inject({ method: 'GET', url: '/api/agents' });
    expect(agents.statusCode).toBe(401);
    const wrongDocs = await t.app.server.inject({ method: 'GET', url: '/api/docsx' });
    expect(wrongDocs.statusCode).toBe(401);
  });
});

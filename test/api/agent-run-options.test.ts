import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/domain/types.js';
import { dialectsUnderTest } from '../support/dialects.js';
import { RUN_OPTION_DEFAULTS } from '../support/run-option-defaults.js';
import type { TestApp } from '../support/test-app.js';
import {
  agentBody,
  call,
  createAgent,
  expectAgentShape,
  expectError,
  getAgent,
  listRuns,
  triggerRun,
  useTestApp,
  waitForRunnerRuns,
  waitForRunStatus,
  type AgentJson,
} from './api-helpers.js';

/**
 * An agent's run options through the API (issue 8): every field round-trips through create, get
 * and update on both databases; bad values are 400s naming the field and change nothing; members
 * are held to CRON_AGENTS_MEMBER_TOOLS and may not define stdio MCP servers; host folders only
 * under CRON_AGENTS_ALLOWED_HOST_PATHS; a run gets the options with its secrets resolved.
 */

/** Host folders, made when the file is collected: the apps' configuration names them. */
const hostRoot = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'run-options-api-')));
for (const dir of ['allowed/project', 'allowed/repo.git', 'outside']) fs.mkdirSync(path.join(hostRoot, dir), { recursive: true });

afterAll(() => {
  fs.rmSync(hostRoot, { recursive: true, force: true });
});

const FULL = {
  disallowedTools: ['WebSearch', 'Bash(rm:*)'],
  mcpServers: {
    github: { type: 'http', url: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer ${secret:GH_TOKEN}' } },
    events: { type: 'sse', url: 'http://127.0.0.1:9/sse' },
  },
  workspace: { git: { url: 'https://x-access-token:${secret:GH_TOKEN}@github.com/acme/app.git', ref: 'main', depth: 1 } },
  allowedDomains: ['github.com', '*.npmjs.org', '10.0.0.7'],
  systemPrompt: 'Answer in French.',
  effort: 'high',
  fallbackModel: 'claude-sonnet-4-5',
};

const STDIO = { type: 'stdio', command: 'node', args: ['server.js'], env: { API_KEY: '${secret:API_KEY}' } };

/** The run-option fields of an agent. */
function runOptionsOf(agent: typeof RUN_OPTION_DEFAULTS) {
  const { disallowedTools, mcpServers, workspace, allowedDomains, systemPrompt, effort, fallbackModel } = agent;
  return { disallowedTools, mcpServers, workspace, allowedDomains, systemPrompt, effort, fallbackModel };
}

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(dialect.name, () => {
    let t: TestApp;
    const useApp = (overrides: Parameters<typeof useTestApp>[2] = {}) =>
      useTestApp(
        'each',
        (app) => {
          t = app;
        },
        overrides,
        dialect,
      );

    async function listAgents(): Promise<AgentJson[]> {
      const response = await call<{ data: AgentJson[] }>(t, 'GET', '/api/agents', { as: 'viewer' });
      return response.body.data;
    }

    async function patch(id: string, body: unknown, as: Role = 'member') {
      return call<{ data: AgentJson }>(t, 'PATCH', `/api/agents/${id}`, { body, as });
    }

    describe('round trip', () => {
      useApp();

      it('create, get and list carry every field as given (secret references, never values)', async () => {
        const created = await createAgent(t, FULL);
        expectAgentShape(created);
        expect(runOptionsOf(created)).toEqual(FULL);
        expect(await getAgent(t, created.id)).toEqual(created);
        expect(await listAgents()).toEqual([created]);
      });

      it('update changes each field, null clears the nullable ones, and the rest stay', async () => {
        const created = await createAgent(t);
        let response = await patch(created.id, FULL);
        expect(response.status, response.text).toBe(200);
        expect(runOptionsOf(response.body.data)).toEqual(FULL);
        expect(await getAgent(t, created.id)).toEqual(response.body.data);

        response = await patch(created.id, { workspace: null, systemPrompt: null, effort: null, fallbackModel: null });
        expect(response.status, response.text).toBe(200);
        expect(runOptionsOf(response.body.data)).toEqual({ ...FULL, workspace: null, systemPrompt: null, effort: null, fallbackModel: null });

        response = await patch(created.id, { mcpServers: {}, disallowedTools: [], allowedDomains: [] });
        expect(runOptionsOf(response.body.data)).toEqual(runOptionsOf(RUN_OPTION_DEFAULTS));
        expect(await getAgent(t, created.id)).toEqual(response.body.data);
      });

      it('normalizes allowed domains (lower case, each once)', async () => {
        const created = await createAgent(t, { allowedDomains: ['GitHub.com', 'github.com', '[::1]'] });
        expect(created.allowedDomains).toEqual(['github.com', '::1']);
      });

      it('the OpenAPI document describes the new fields, in requests and responses', async () => {
        interface Doc {
          components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
          paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } }>>;
        }
        const doc = (await call<Doc>(t, 'GET', '/api/openapi.json', { as: null })).body;
        const agentSchemas = Object.values(doc.components.schemas).filter((schema) => schema.properties && 'schedule' in schema.properties);
        expect(agentSchemas.length).toBeGreaterThan(0);
        for (const schema of agentSchemas) expect(Object.keys(schema.properties ?? {})).toEqual(expect.arrayContaining(Object.keys(FULL)));
        for (const [route, method] of [
          ['/api/agents', 'post'],
          ['/api/agents/{id}', 'patch'],
        ] as const) {
          const body = doc.paths[route]?.[method]?.requestBody?.content['application/json']?.schema.properties ?? {};
          expect(Object.keys(body)).toEqual(expect.arrayContaining(Object.keys(FULL)));
        }
        const text = JSON.stringify(doc);
        expect(text).toContain('CRON_AGENTS_ALLOWED_HOST_PATHS');
        expect(text).toContain('${secret:NAME}');
      });
    });

    describe('validation: 400 naming the field, nothing changed', () => {
      useApp();

      const cases: [string, Record<string, unknown>, string][] = [
        ['an unknown effort', { effort: 'extreme' }, 'effort'],
        ['a blank system prompt', { systemPrompt: '  ' }, 'systemPrompt'],
        ['a system prompt over the limit', { systemPrompt: 'x'.repeat(100_001) }, 'systemPrompt'],
        ['a blank fallback model', { fallbackModel: '' }, 'fallbackModel'],
        ['an empty disallowed rule', { disallowedTools: ['Read', ''] }, 'disallowedTools[1]'],
        ['disallowedTools not a list', { disallowedTools: 'Bash' }, 'disallowedTools'],
        ['too many allowed domains', { allowedDomains: Array.from({ length: 101 }, (_, i) => `h${i}.com`) }, 'allowedDomains'],
        ['a URL as a domain', { allowedDomains: ['ok.com', 'https://github.com'] }, 'allowedDomains[1]'],
        ['an MCP server of an unknown type', { mcpServers: { gh: { type: 'ws', url: 'wss://a' } } }, 'mcpServers.gh.type'],
        ['an MCP server with an unknown key', { mcpServers: { gh: { type: 'http', url: 'https://a', token: 'x' } } }, 'mcpServers.gh.token'],
        ['an MCP server name with a space', { mcpServers: { 'git hub': { type: 'http', url: 'https://a' } } }, 'mcpServers.git hub'],
        ['an http server without url', { mcpServers: { github: { type: 'http' } } }, 'mcpServers.github.url'],
        ['an http server with an ftp url', { mcpServers: { github: { type: 'http', url: 'ftp://a/b' } } }, 'mcpServers.github.url'],
        [
          'a malformed secret reference',
          { mcpServers: { github: { type: 'http', url: 'https://a', headers: { A: '${secret:x}' } } } },
          'mcpServers.github.headers.A',
        ],
        [
          'a header value over the limit',
          { mcpServers: { github: { type: 'http', url: 'https://a', headers: { A: 'x'.repeat(8001) } } } },
          'mcpServers.github.headers.A',
        ],
        [
          'too many MCP servers',
          { mcpServers: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`s${i}`, { type: 'sse', url: 'https://a' }])) },
          'mcpServers',
        ],
        ['a workspace of neither kind', { workspace: {} }, 'workspace'],
        ['a workspace with an unknown key', { workspace: { svn: 'x' } }, 'workspace.svn'],
        ['a git workspace without url', { workspace: { git: { ref: 'main' } } }, 'workspace.git.url'],
        ['an ssh git URL', { workspace: { git: { url: 'git@github.com:acme/app.git' } } }, 'workspace.git.url'],
        ['a git ref that is an option', { workspace: { git: { url: 'https://a/b', ref: '--upload-pack=x' } } }, 'workspace.git.ref'],
        ['a depth of 0', { workspace: { git: { url: 'https://a/b', depth: 0 } } }, 'workspace.git.depth'],
        ['a hostPath (none allowed by default)', { workspace: { hostPath: path.join(hostRoot, 'allowed/project'), readOnly: true } }, 'workspace.hostPath'],
        ['a local repository (none allowed by default)', { workspace: { git: { url: '/srv/repo.git' } } }, 'workspace.git.url'],
      ];

      it.each(cases)('create with %s', async (_what, fields, field) => {
        expectError(await call(t, 'POST', '/api/agents', { body: agentBody(fields) }), 400, 'validation_error', field);
        expect(await listAgents()).toEqual([]);
      });

      it.each(cases)('update with %s', async (_what, fields, field) => {
        const before = await createAgent(t, FULL);
        expectError(await patch(before.id, fields), 400, 'validation_error', field);
        expect(await getAgent(t, before.id)).toEqual(before);
      });
    });

    describe('members and CRON_AGENTS_MEMBER_TOOLS', () => {
      useApp({ memberTools: ['Read', 'Grep', 'mcp__*'] });

      it('a member may grant the listed rules; others are a 400 naming the rule; an admin may grant anything', async () => {
        expect((await createAgent(t, { allowedTools: ['Read', 'mcp__github__create_issue', 'Read(./docs/**)'] })).allowedTools).toHaveLength(3);
        const refused = await call(t, 'POST', '/api/agents', { body: agentBody({ allowedTools: ['Read', 'Bash'] }) });
        const body = expectError(refused, 400, 'validation_error', 'allowedTools[1]');
        expect(body.error.message).toContain('"Bash"');
        expect(await listAgents()).toHaveLength(1);
        const byAdmin = await call<{ data: AgentJson }>(t, 'POST', '/api/agents', { body: agentBody({ allowedTools: ['Bash', 'Write'] }), as: 'admin' });
        expect(byAdmin.status, byAdmin.text).toBe(200);
      });

      it('a member may edit an agent an admin granted more, but not grant more', async () => {
        const admins = await call<{ data: AgentJson }>(t, 'POST', '/api/agents', { body: agentBody({ allowedTools: ['Bash', 'Read'] }), as: 'admin' });
        const id = admins.body.data.id;
        let response = await patch(id, { prompt: 'new prompt' });
        expect(response.status, response.text).toBe(200);
        response = await patch(id, { allowedTools: ['Bash'] });
        expect(response.status, response.text).toBe(200);
        const before = await getAgent(t, id);
        expectError(await patch(id, { allowedTools: ['Bash', 'Write'] }), 400, 'validation_error', 'allowedTools[1]');
        expect(await getAgent(t, id)).toEqual(before);
      });
    });

    describe('stdio MCP servers are for admins', () => {
      useApp();

      it('a member defining one gets 403 naming the field, and nothing is created', async () => {
        const response = await call(t, 'POST', '/api/agents', { body: agentBody({ mcpServers: { local: STDIO } }) });
        expectError(response, 403, 'forbidden', 'mcpServers.local');
        expect(await listAgents()).toEqual([]);
      });

      it('an admin defines one; a member may edit the agent, keep or remove it, but not change it', async () => {
        const created = await call<{ data: AgentJson }>(t, 'POST', '/api/agents', { body: agentBody({ mcpServers: { local: STDIO } }), as: 'admin' });
        expect(created.status, created.text).toBe(200);
        const id = created.body.data.id;
        expect(created.body.data.mcpServers).toEqual({ local: STDIO });

        expect((await patch(id, { prompt: 'p2', effort: 'low' })).status).toBe(200);
        const kept = await patch(id, { mcpServers: { local: { ...STDIO, env: { ...STDIO.env } }, remote: { type: 'http', url: 'https://a' } } });
        expect(kept.status, kept.text).toBe(200);

        const before = await getAgent(t, id);
        const changed = await patch(id, { mcpServers: { local: { ...STDIO, command: 'bash', args: ['-c', 'cat /etc/shadow'] } } });
        expectError(changed, 403, 'forbidden', 'mcpServers.local');
        const added = await patch(id, { mcpServers: { ...before.mcpServers, other: { type: 'stdio', command: 'sh' } } });
        expectError(added, 403, 'forbidden', 'mcpServers.other');
        expect(await getAgent(t, id)).toEqual(before);

        const removed = await patch(id, { mcpServers: {} });
        expect(removed.status, removed.text).toBe(200);
        expect(removed.body.data.mcpServers).toEqual({});
      });
    });

    describe('host folders and CRON_AGENTS_ALLOWED_HOST_PATHS', () => {
      useApp({ allowedHostPaths: [path.join(hostRoot, 'allowed')] });

      it('accepts a folder (or local repository) under the list, refuses one outside, naming the field', async () => {
        const inside = { hostPath: path.join(hostRoot, 'allowed/project'), readOnly: true };
        expect((await createAgent(t, { workspace: inside })).workspace).toEqual(inside);
        const repo = { git: { url: `file://${path.join(hostRoot, 'allowed/repo.git')}` } };
        expect((await createAgent(t, { workspace: repo })).workspace).toEqual(repo);

        const outside = { workspace: { hostPath: path.join(hostRoot, 'outside'), readOnly: false } };
        expectError(await call(t, 'POST', '/api/agents', { body: agentBody(outside) }), 400, 'validation_error', 'workspace.hostPath');
        const escape = { workspace: { git: { url: `${path.join(hostRoot, 'allowed/project')}/../../outside` } } };
        expectError(await call(t, 'POST', '/api/agents', { body: agentBody(escape) }), 400, 'validation_error', 'workspace.git.url');
        const missing = { workspace: { hostPath: path.join(hostRoot, 'allowed/missing'), readOnly: true } };
        expectError(await call(t, 'POST', '/api/agents', { body: agentBody(missing) }), 400, 'validation_error', 'workspace.hostPath');
        expect(await listAgents()).toHaveLength(2);
      });
    });

    describe('what a run is given', () => {
      useApp();

      it('the run request carries the options, secret references resolved', async () => {
        const agent = await createAgent(t, FULL);
        const put = await call(t, 'PUT', `/api/agents/${agent.id}/secrets/GH_TOKEN`, { body: { value: 'ghp_value' } });
        expect(put.status, put.text).toBe(200);
        await triggerRun(t, agent.id);
        await waitForRunnerRuns(t, 1);
        const request = t.runner.runs[0]?.request;
        expect(request).toMatchObject({
          disallowedTools: FULL.disallowedTools,
          allowedDomains: FULL.allowedDomains,
          systemPrompt: FULL.systemPrompt,
          effort: FULL.effort,
          fallbackModel: FULL.fallbackModel,
          mcpServers: {
            github: { type: 'http', url: 'https://api.example.com/mcp', headers: { Authorization: 'Bearer ghp_value' } },
            events: { type: 'sse', url: 'http://127.0.0.1:9/sse' },
          },
          workspace: { git: { url: 'https://x-access-token:ghp_value@github.com/acme/app.git', ref: 'main', depth: 1 } },
        });
        // The stored agent keeps the reference.
        expect((await getAgent(t, agent.id)).workspace).toEqual(FULL.workspace);
      });

      it('a reference to a secret the agent lacks ends the run as error, naming it', async () => {
        const agent = await createAgent(t, { mcpServers: FULL.mcpServers });
        const runId = await triggerRun(t, agent.id);
        const run = await waitForRunStatus(t, agent.id, runId, (status) => status === 'error');
        expect(run.output).toContain('${secret:GH_TOKEN}');
        expect(t.runner.runs).toHaveLength(0);
        expect((await listRuns(t, agent.id)).map((r) => r.status)).toEqual(['error']);
      });

      it('a host folder no longer allowed ends the run as error, naming the field', async () => {
        // Written under a policy that allowed it, run under one that does not (the default).
        const agent = await createAgent(t);
        await t.app.store.updateAgent(
          agent.id,
          (current) => ({ fields: { ...current, workspace: { hostPath: hostRoot, readOnly: true } }, nextFireAt: current.nextFireAt }),
          t.clock.now(),
        );
        const runId = await triggerRun(t, agent.id);
        const run = await waitForRunStatus(t, agent.id, runId, (status) => status === 'error');
        expect(run.output).toContain('workspace.hostPath');
        expect(t.runner.runs).toHaveLength(0);
      });
    });
  });
}

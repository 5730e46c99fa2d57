import { describe, expect, it } from 'vitest';
import { planAgentUpdate, planNewAgent, type AgentInput } from '../../src/domain/agent-fields.js';
import { normalizeAllowedDomains } from '../../src/domain/allowed-domains.js';
import { AppError, ForbiddenError, ValidationError } from '../../src/domain/errors.js';
import { parseMcpServers, resolveMcpServerSecrets, sameMcpServer, toMcpServerSpec, type McpServerInput } from '../../src/domain/mcp-servers.js';
import { UnknownSecretError } from '../../src/domain/secret-refs.js';
import { checkMemberGrants, ruleCovered } from '../../src/domain/tool-grants.js';
import type { Agent, AgentFields } from '../../src/domain/types.js';
import {
  localGitPath,
  parseWorkspace,
  resolveWorkspaceSecrets,
  toWorkspaceSpec,
  workspaceHostPath,
  type WorkspaceInput,
} from '../../src/domain/workspace-spec.js';

/** The agent run options' rules: MCP servers, workspace, allowed domains, secret references, who may grant what. */

const NOW = Date.parse('2026-01-05T08:20:00Z');
const input: AgentInput = { name: 'a', schedule: '0 * * * *', prompt: 'p' };

/** The field an error names (the first detail). */
function fieldOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    if (error instanceof AppError) return error.details[0]?.field ?? '(no field)';
    throw error;
  }
  throw new Error('expected an error');
}

function stored(fields: Partial<AgentInput>): Agent {
  const { fields: planned, nextFireAt } = planNewAgent({ ...input, ...fields }, NOW);
  return {
    id: 'agent-1',
    ...planned,
    nextFireAt,
    lastRunAt: null,
    lastStatus: null,
    pausedReason: null,
    pausedAt: null,
    creator: null,
    createdAt: NOW,
    updatedAt: NOW,
  };
}

describe('MCP servers', () => {
  const stdio: McpServerInput = { type: 'stdio', command: 'node', args: ['server.js', '--token=${secret:TOKEN}'], env: { API_KEY: '${secret:API_KEY}' } };
  const http: McpServerInput = { type: 'http', url: 'https://mcp.example.com/mcp?key=${secret:KEY}', headers: { Authorization: 'Bearer ${secret:GH_TOKEN}' } };

  it('accepts both kinds and keeps only their own keys', () => {
    expect(parseMcpServers({ local: stdio, 'git-hub_2': http, events: { type: 'sse', url: 'http://127.0.0.1:9/sse' } })).toEqual({
      local: stdio,
      'git-hub_2': http,
      events: { type: 'sse', url: 'http://127.0.0.1:9/sse' },
    });
  });

  it.each<[string, Record<string, McpServerInput>, string]>([
    ['a bad name', { 'bad name': stdio }, 'mcpServers.bad name'],
    ['a name over 64 characters', { ['x'.repeat(65)]: stdio }, `mcpServers.${'x'.repeat(65)}`],
    ['stdio without command', { s: { type: 'stdio' } }, 'mcpServers.s.command'],
    ['stdio with a blank command', { s: { type: 'stdio', command: '  ' } }, 'mcpServers.s.command'],
    ['stdio with a url', { s: { type: 'stdio', command: 'x', url: 'https://a' } }, 'mcpServers.s.url'],
    ['stdio with headers', { s: { type: 'stdio', command: 'x', headers: {} } }, 'mcpServers.s.headers'],
    ['a secret in the command', { s: { type: 'stdio', command: '${secret:X}' } }, 'mcpServers.s.command'],
    ['a bad env name', { s: { type: 'stdio', command: 'x', env: { '1BAD': 'v' } } }, 'mcpServers.s.env.1BAD'],
    ['a malformed reference in env', { s: { type: 'stdio', command: 'x', env: { A: '${secret:lower}' } } }, 'mcpServers.s.env.A'],
    ['an unclosed reference in args', { s: { type: 'stdio', command: 'x', args: ['ok', '${secret:TOKEN'] } }, 'mcpServers.s.args[1]'],
    ['http without url', { h: { type: 'http' } }, 'mcpServers.h.url'],
    ['http with a command', { h: { type: 'http', url: 'https://a', command: 'x' } }, 'mcpServers.h.command'],
    ['http with env', { h: { type: 'http', url: 'https://a', env: {} } }, 'mcpServers.h.env'],
    ['an ftp url', { h: { type: 'http', url: 'ftp://a/b' } }, 'mcpServers.h.url'],
    ['a url that does not parse', { h: { type: 'sse', url: 'not a url' } }, 'mcpServers.h.url'],
    ['a malformed reference in the url', { h: { type: 'http', url: 'https://a/?k=${secret:}' } }, 'mcpServers.h.url'],
    ['a bad header name', { h: { type: 'http', url: 'https://a', headers: { 'X Bad': 'v' } } }, 'mcpServers.h.headers.X Bad'],
    ['a header value with a line break', { h: { type: 'http', url: 'https://a', headers: { X: 'a\r\nInjected: 1' } } }, 'mcpServers.h.headers.X'],
    ['a malformed reference in a header', { h: { type: 'http', url: 'https://a', headers: { X: '${secret:a-b}' } } }, 'mcpServers.h.headers.X'],
  ])('refuses %s, naming the field', (_what, servers, field) => {
    expect(() => parseMcpServers(servers)).toThrow(ValidationError);
    expect(fieldOf(() => parseMcpServers(servers))).toBe(field);
  });

  it('resolves secrets in env, headers, args and url, nowhere else', () => {
    const servers = parseMcpServers({ s: stdio, h: http });
    const secrets = { TOKEN: 't0k', API_KEY: 'k3y', KEY: 'q', GH_TOKEN: 'gh' };
    expect(resolveMcpServerSecrets(servers, secrets)).toEqual({
      s: { type: 'stdio', command: 'node', args: ['server.js', '--token=t0k'], env: { API_KEY: 'k3y' } },
      h: { type: 'http', url: 'https://mcp.example.com/mcp?key=q', headers: { Authorization: 'Bearer gh' } },
    });
    // The stored specs keep their references.
    expect(servers.s).toEqual(stdio);
  });

  it('a reference to a missing secret names it', () => {
    expect(() => resolveMcpServerSecrets(parseMcpServers({ h: http }), { KEY: 'q' })).toThrow(UnknownSecretError);
    expect(() => resolveMcpServerSecrets(parseMcpServers({ h: http }), { KEY: 'q' })).toThrow('${secret:GH_TOKEN}');
  });

  it('compares servers with env and headers in any order', () => {
    const a = parseMcpServers({ s: { type: 'stdio', command: 'x', env: { A: '1', B: '2' } } }).s;
    const b = parseMcpServers({ s: { type: 'stdio', command: 'x', env: { B: '2', A: '1' } } }).s;
    const c = parseMcpServers({ s: { type: 'stdio', command: 'x', env: { A: '1', B: '3' } } }).s;
    if (!a || !b || !c) throw new Error('parsed');
    expect(sameMcpServer(a, b)).toBe(true);
    expect(sameMcpServer(a, c)).toBe(false);
    expect(sameMcpServer(a, { type: 'http', url: 'https://a' })).toBe(false);
  });

  it('reads back only what could have been written', () => {
    expect(toMcpServerSpec({ type: 'stdio', command: 'x', args: ['a'] })).toEqual({ type: 'stdio', command: 'x', args: ['a'] });
    expect(toMcpServerSpec({ type: 'sse', url: 'https://a', headers: { A: 'b' } })).toEqual({ type: 'sse', url: 'https://a', headers: { A: 'b' } });
    expect(toMcpServerSpec({ type: 'stdio' })).toBeNull();
    expect(toMcpServerSpec({ type: 'ws', url: 'x' })).toBeNull();
    expect(toMcpServerSpec('stdio')).toBeNull();
  });
});

describe('workspace', () => {
  it.each<WorkspaceInput>([
    { git: { url: 'https://github.com/acme/app.git' } },
    { git: { url: 'https://x-access-token:${secret:GH_TOKEN}@github.com/acme/app.git', ref: 'release/1.2', depth: 1 } },
    { git: { url: 'git://example.com/repo', ref: '0123456789abcdef0123456789abcdef01234567' } },
    { git: { url: 'file:///srv/repos/app.git', ref: 'v1.0.0' } },
    { git: { url: '/srv/repos/app.git' } },
    { hostPath: '/srv/shared', readOnly: true },
    { hostPath: '/srv/shared/sub', readOnly: false },
  ])('accepts %j as it is', (workspace) => {
    expect(parseWorkspace(workspace)).toEqual(workspace);
  });

  it('null is the agent’s own folder', () => {
    expect(parseWorkspace(null)).toBeNull();
  });

  it.each<[string, WorkspaceInput, string]>([
    ['both kinds', { git: { url: 'https://a/b' }, hostPath: '/srv', readOnly: true }, 'workspace'],
    ['neither kind', {}, 'workspace'],
    ['readOnly with git', { git: { url: 'https://a/b' }, readOnly: true }, 'workspace.readOnly'],
    ['hostPath without readOnly', { hostPath: '/srv' }, 'workspace.readOnly'],
    ['a relative hostPath', { hostPath: 'srv/x', readOnly: true }, 'workspace.hostPath'],
    ['a hostPath with ..', { hostPath: '/srv/../etc', readOnly: true }, 'workspace.hostPath'],
    ['a hostPath with .', { hostPath: '/srv/./x', readOnly: true }, 'workspace.hostPath'],
    ['a secret in hostPath', { hostPath: '/srv/${secret:X}', readOnly: true }, 'workspace.hostPath'],
    ['an ssh URL', { git: { url: 'ssh://git@github.com/acme/app.git' } }, 'workspace.git.url'],
    ['an scp-like URL', { git: { url: 'git@github.com:acme/app.git' } }, 'workspace.git.url'],
    ['an ext:: URL', { git: { url: 'ext::sh -c touch% /tmp/pwned' } }, 'workspace.git.url'],
    ['a relative path', { git: { url: '../other-agent' } }, 'workspace.git.url'],
    ['a URL with spaces', { git: { url: 'https://a/b c' } }, 'workspace.git.url'],
    ['a malformed reference', { git: { url: 'https://${secret:gh}@github.com/a/b' } }, 'workspace.git.url'],
    ['a ref that is an option', { git: { url: 'https://a/b', ref: '--upload-pack=touch x' } }, 'workspace.git.ref'],
    ['a ref starting with -', { git: { url: 'https://a/b', ref: '-x' } }, 'workspace.git.ref'],
    ['a forced refspec', { git: { url: 'https://a/b', ref: '+main' } }, 'workspace.git.ref'],
    ['a refspec mapping', { git: { url: 'https://a/b', ref: 'main:refs/heads/x' } }, 'workspace.git.ref'],
    ['a ref with ..', { git: { url: 'https://a/b', ref: 'a..b' } }, 'workspace.git.ref'],
    ['a ref ending in .lock', { git: { url: 'https://a/b', ref: 'main.lock' } }, 'workspace.git.ref'],
    ['a ref with @{', { git: { url: 'https://a/b', ref: 'main@{1}' } }, 'workspace.git.ref'],
  ])('refuses %s, naming the field', (_what, workspace, field) => {
    expect(fieldOf(() => parseWorkspace(workspace))).toBe(field);
  });

  it('knows which folder of the host a workspace reads', () => {
    expect(localGitPath('file:///srv/a%20b.git')).toBe('/srv/a b.git');
    expect(localGitPath('/srv/a.git')).toBe('/srv/a.git');
    expect(localGitPath('https://a/b')).toBeNull();
    expect(workspaceHostPath({ hostPath: '/srv', readOnly: true })).toEqual({ path: '/srv', field: 'workspace.hostPath' });
    expect(workspaceHostPath({ git: { url: 'file:///srv/r.git' } })).toEqual({ path: '/srv/r.git', field: 'workspace.git.url' });
    expect(workspaceHostPath({ git: { url: 'https://a/b' } })).toBeNull();
    expect(workspaceHostPath(null)).toBeNull();
  });

  it('resolves secrets in the git URL only', () => {
    const spec = parseWorkspace({ git: { url: 'https://u:${secret:T}@h/r.git', ref: 'main' } });
    expect(resolveWorkspaceSecrets(spec, { T: 'p@ss' })).toEqual({ git: { url: 'https://u:p@ss@h/r.git', ref: 'main' } });
    expect(() => resolveWorkspaceSecrets(spec, {})).toThrow('${secret:T}');
    expect(resolveWorkspaceSecrets({ hostPath: '/x', readOnly: false }, {})).toEqual({ hostPath: '/x', readOnly: false });
  });

  it('reads back only what could have been written', () => {
    expect(toWorkspaceSpec({ hostPath: '/x', readOnly: false })).toEqual({ hostPath: '/x', readOnly: false });
    expect(toWorkspaceSpec({ git: { url: 'https://a', depth: 2 } })).toEqual({ git: { url: 'https://a', depth: 2 } });
    expect(toWorkspaceSpec({ hostPath: '/x' })).toBeNull();
    expect(toWorkspaceSpec({ git: {} })).toBeNull();
  });
});

describe('allowedDomains', () => {
  it('takes host names, wildcards and IP addresses, normalized and each once', () => {
    expect(normalizeAllowedDomains(['GitHub.com', '*.npmjs.org', 'localhost', '127.0.0.1', '::1', '[fd00::1]', 'github.com', 'a-b.c9.io'])).toEqual([
      'github.com',
      '*.npmjs.org',
      'localhost',
      '127.0.0.1',
      '::1',
      'fd00::1',
      'a-b.c9.io',
    ]);
  });

  it.each([
    ['https://github.com', 'allowedDomains[1]'],
    ['github.com:443', 'allowedDomains[1]'],
    ['github.com/path', 'allowedDomains[1]'],
    ['*', 'allowedDomains[1]'],
    ['*.', 'allowedDomains[1]'],
    ['a.*.com', 'allowedDomains[1]'],
    ['-bad.com', 'allowedDomains[1]'],
    ['bad-.com', 'allowedDomains[1]'],
    ['a..b', 'allowedDomains[1]'],
    ['999.1.1.1', 'allowedDomains[1]'],
    ['1.2.3', 'allowedDomains[1]'],
    ['under_score.com', 'allowedDomains[1]'],
    [`${'a'.repeat(64)}.com`, 'allowedDomains[1]'],
    [`${'a.'.repeat(127)}com`, 'allowedDomains[1]'],
    ['::g', 'allowedDomains[1]'],
  ])('refuses %j, naming its index', (entry, field) => {
    expect(fieldOf(() => normalizeAllowedDomains(['ok.com', entry]))).toBe(field);
  });
});

describe('the new fields on create and update', () => {
  it('keeps the values given, trimming the fallback model', () => {
    const { fields } = planNewAgent(
      {
        ...input,
        disallowedTools: ['WebSearch'],
        mcpServers: { h: { type: 'http', url: 'https://a' } },
        workspace: { git: { url: 'https://a/b' } },
        allowedDomains: ['Example.com'],
        systemPrompt: 'Be brief.',
        effort: 'low',
        fallbackModel: ' claude-sonnet-4-5 ',
      },
      NOW,
    );
    expect(fields).toMatchObject({
      disallowedTools: ['WebSearch'],
      mcpServers: { h: { type: 'http', url: 'https://a' } },
      workspace: { git: { url: 'https://a/b' } },
      allowedDomains: ['example.com'],
      systemPrompt: 'Be brief.',
      effort: 'low',
      fallbackModel: 'claude-sonnet-4-5',
    });
  });

  it('an update changes what it names, null clears, undefined keeps', () => {
    const current = stored({
      systemPrompt: 'x',
      effort: 'high',
      fallbackModel: 'm',
      workspace: { hostPath: '/srv', readOnly: true },
      allowedDomains: ['a.com'],
    });
    const cleared = planAgentUpdate(current, { systemPrompt: null, effort: null, fallbackModel: null, workspace: null }, NOW).fields;
    expect(cleared).toMatchObject({ systemPrompt: null, effort: null, fallbackModel: null, workspace: null, allowedDomains: ['a.com'] });
    const kept = planAgentUpdate(current, { prompt: 'p2' }, NOW).fields;
    expect(kept).toMatchObject({ systemPrompt: 'x', effort: 'high', fallbackModel: 'm', workspace: { hostPath: '/srv', readOnly: true } });
    expect(planAgentUpdate(current, { allowedDomains: ['B.com'] }, NOW).fields.allowedDomains).toEqual(['b.com']);
  });

  it('refuses a bad value on update, naming the field', () => {
    const current = stored({});
    expect(fieldOf(() => planAgentUpdate(current, { mcpServers: { 'a b': { type: 'http', url: 'https://a' } } }, NOW))).toBe('mcpServers.a b');
    expect(fieldOf(() => planAgentUpdate(current, { workspace: { hostPath: 'rel', readOnly: true } }, NOW))).toBe('workspace.hostPath');
    expect(fieldOf(() => planAgentUpdate(current, { allowedDomains: ['x y'] }, NOW))).toBe('allowedDomains[0]');
  });
});

describe('who may grant what', () => {
  it('a grant covers itself, its scoped forms, and a trailing * covers a prefix', () => {
    const grants = ['Read', 'Bash(git log:*)', 'mcp__*', 'WebFetch'];
    expect(ruleCovered('Read', grants)).toBe(true);
    expect(ruleCovered('Read(./docs/**)', grants)).toBe(true);
    expect(ruleCovered('mcp__github__create_issue', grants)).toBe(true);
    expect(ruleCovered('mcp__github', grants)).toBe(true);
    expect(ruleCovered('Bash(git log:*)', grants)).toBe(true);
    expect(ruleCovered('Bash', grants)).toBe(false);
    expect(ruleCovered('Bash(rm -rf:*)', grants)).toBe(false);
    expect(ruleCovered('ReadAll', grants)).toBe(false);
    expect(ruleCovered('Write', grants)).toBe(false);
  });

  const fields = (overrides: Partial<AgentInput>): AgentFields => planNewAgent({ ...input, ...overrides }, NOW).fields;

  it('a member may grant only the listed rules, 400 naming the first other one', () => {
    const memberTools = ['Read', 'mcp__*'];
    expect(() => checkMemberGrants(null, fields({ allowedTools: ['Read', 'mcp__gh__x'] }), memberTools)).not.toThrow();
    expect(() => checkMemberGrants(null, fields({ allowedTools: ['Read', 'Bash'] }), memberTools)).toThrow(ValidationError);
    expect(() => checkMemberGrants(null, fields({ allowedTools: ['Read', 'Bash'] }), memberTools)).toThrow('"Bash"');
    expect(fieldOf(() => checkMemberGrants(null, fields({ allowedTools: ['Read', 'Bash'] }), memberTools))).toBe('allowedTools[1]');
    // Unset: any rule.
    expect(() => checkMemberGrants(null, fields({ allowedTools: ['Bash'] }), null)).not.toThrow();
  });

  it('a member keeps, and may remove, rules an admin granted', () => {
    const current = fields({ allowedTools: ['Bash', 'Read'] });
    expect(() => checkMemberGrants(current, { ...current, allowedTools: ['Bash'] }, ['Read'])).not.toThrow();
    expect(() => checkMemberGrants(current, { ...current, allowedTools: ['Bash', 'Write'] }, ['Read'])).toThrow('"Write"');
  });

  it('a member may not define or change a stdio server (403 naming it), but may keep, remove or sit beside one', () => {
    const admins = fields({ mcpServers: { local: { type: 'stdio', command: 'node', env: { A: '1', B: '2' } } } });
    const addStdio = fields({ mcpServers: { mine: { type: 'stdio', command: 'bash' } } });
    expect(() => checkMemberGrants(null, addStdio, null)).toThrow(ForbiddenError);
    expect(fieldOf(() => checkMemberGrants(null, addStdio, null))).toBe('mcpServers.mine');
    const changed = { ...admins, mcpServers: { local: { type: 'stdio' as const, command: 'bash' } } };
    expect(fieldOf(() => checkMemberGrants(admins, changed, null))).toBe('mcpServers.local');
    const reordered = { ...admins, mcpServers: { local: { type: 'stdio' as const, command: 'node', env: { B: '2', A: '1' } } } };
    expect(() => checkMemberGrants(admins, reordered, null)).not.toThrow();
    expect(() => checkMemberGrants(admins, { ...admins, prompt: 'new' }, null)).not.toThrow();
    expect(() => checkMemberGrants(admins, { ...admins, mcpServers: {} }, null)).not.toThrow();
    const withHttp = { ...admins, mcpServers: { ...admins.mcpServers, remote: { type: 'http' as const, url: 'https://a' } } };
    expect(() => checkMemberGrants(admins, withHttp, null)).not.toThrow();
  });
});

/**
 * The pure parts of the run boundary: the environment allow-list, the private-address checks, the
 * sandbox options and the MCP servers as the SDK takes them. run-boundary.test.ts tries them on a
 * real `claude`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runEnvironment, type RunEnvironmentInput } from '../../src/claude/environment.js';
import { mcpServersFor, mcpStatusNotes } from '../../src/claude/mcp-servers.js';
import { isPrivateAddress, refusedHost, refusedUrl, screenAllowedDomains, webFetchGuard } from '../../src/claude/network-guard.js';
import { prepareRun, type BoundarySettings } from '../../src/claude/run-boundary.js';
import { missingSandboxPackages, sandboxedOptions, sandboxUnavailableMessage } from '../../src/claude/sandbox.js';
import { WorkspaceError } from '../../src/claude/workspace.js';
import type { AgentRunRequest } from '../../src/engine/agent-runner.js';
import { runRequest } from '../support/run-request.js';

const root = mkdtempSync(join(tmpdir(), 'boundary-parts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const dirs = { home: '/data/agents/a/home', configDir: '/data/agents/a/claude-config', tmp: '/tmp/cron-agents-run-x' };

function environment(base: RunEnvironmentInput['base'], extra: Partial<RunEnvironmentInput> = {}) {
  return runEnvironment({ base, overrides: {}, runEnv: [], secrets: {}, dirs, runTag: 'run-1.abc', ...extra });
}

describe('runEnvironment', () => {
  const service = {
    PATH: '/usr/bin:/bin',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'Europe/Paris',
    HOME: '/root',
    USER: 'root',
    SSH_AUTH_SOCK: '/tmp/ssh-agent',
    AWS_ACCESS_KEY_ID: 'AKIA-operator',
    HTTPS_PROXY: 'http://proxy:3128',
    CRON_AGENTS_ADMIN_TOKEN: 'admin',
    CRON_AGENTS_DATA_DIR: '/data',
    DATABASE_URL: 'postgres://x',
    PGPASSWORD: 'pw',
    ANTHROPIC_API_KEY: 'sk-ant-key',
    ANTHROPIC_BASE_URL: 'https://api.example',
    CLAUDE_CODE_MAX_OUTPUT_TOKENS: '1000',
    CLAUDE_CONFIG_DIR: '/root/.claude',
    DISABLE_TELEMETRY: '1',
  };

  it('passes an allow-list and the per-agent folders, never the service settings', () => {
    const { env, credentialNames } = environment(service);
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      TZ: 'Europe/Paris',
      ANTHROPIC_API_KEY: 'sk-ant-key',
      ANTHROPIC_BASE_URL: 'https://api.example',
      CLAUDE_CODE_MAX_OUTPUT_TOKENS: '1000',
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      HOME: dirs.home,
      CLAUDE_CONFIG_DIR: dirs.configDir,
      TMPDIR: dirs.tmp,
      CLAUDE_CODE_TMPDIR: dirs.tmp,
      CRON_RUN_TAG: 'run-1.abc',
    });
    expect(credentialNames).toEqual(['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'CLAUDE_CODE_MESSAGING_TOKEN']);
  });

  it('passes the Bedrock or Vertex credentials only when that provider is on, as credentials', () => {
    const bedrock = environment({ ...service, CLAUDE_CODE_USE_BEDROCK: '1', AWS_REGION: 'us-east-1' });
    expect(bedrock.env).toMatchObject({ AWS_ACCESS_KEY_ID: 'AKIA-operator', AWS_REGION: 'us-east-1', CLAUDE_CODE_USE_BEDROCK: '1' });
    expect(bedrock.credentialNames).toEqual(expect.arrayContaining(['AWS_ACCESS_KEY_ID', 'AWS_REGION']));
    const vertex = environment({ ...service, CLAUDE_CODE_USE_VERTEX: 'true', CLOUD_ML_REGION: 'us-east5', GOOGLE_APPLICATION_CREDENTIALS: '/etc/gcp.json' });
    expect(vertex.env).toMatchObject({ CLOUD_ML_REGION: 'us-east5', GOOGLE_APPLICATION_CREDENTIALS: '/etc/gcp.json' });
    expect(vertex.env.AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(vertex.credentialNames).toEqual(expect.arrayContaining(['CLOUD_ML_REGION', 'GOOGLE_APPLICATION_CREDENTIALS']));
  });

  it("adds CRON_AGENTS_RUN_ENV names and the agent's secrets; the service's own names stay out", () => {
    const { env, shadowedSecrets } = environment(service, {
      runEnv: ['HTTPS_PROXY', 'NOT_SET'],
      secrets: { GITHUB_TOKEN: 'ghp_x', ANTHROPIC_API_KEY: 'agent-key', HOME: '/elsewhere' },
      overrides: { CRON_AGENTS_EXTRA: 'x', PGHOST: 'db' },
    });
    expect(env).toMatchObject({ HTTPS_PROXY: 'http://proxy:3128', GITHUB_TOKEN: 'ghp_x', ANTHROPIC_API_KEY: 'sk-ant-key', HOME: dirs.home });
    expect(Object.keys(env).filter((name) => name.startsWith('CRON_AGENTS_') || name.startsWith('PG'))).toEqual([]);
    expect(shadowedSecrets).toEqual(['ANTHROPIC_API_KEY', 'HOME']);
  });
});

describe('network guard', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.8.9.10', true],
    ['10.1.2.3', true],
    ['172.16.0.1', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['169.254.169.254', true],
    ['100.64.0.1', true],
    ['0.0.0.0', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['::', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:8.8.8.8', false],
    ['fe80::1', true],
    ['fd00:ec2::254', true],
    ['64:ff9b::7f00:1', true],
    ['2606:4700::1111', false],
  ])('isPrivateAddress(%s) is %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  const lookup = async (name: string): Promise<string[]> => {
    if (name === 'public.test') return ['93.184.215.14'];
    if (name === 'mixed.test') return ['93.184.215.14', '10.0.0.5'];
    if (name === 'slow.test') return new Promise(() => {});
    throw new Error('ENOTFOUND');
  };

  it('refuses a name if any of its addresses is private, and a name that does not resolve', async () => {
    expect(await refusedHost('public.test', lookup)).toBeNull();
    expect(await refusedHost('mixed.test', lookup)).toBe('mixed.test resolves to 10.0.0.5, a private or local address');
    expect(await refusedHost('nowhere.test', lookup)).toBe('nowhere.test could not be resolved');
    expect(await refusedHost('[::1]', lookup)).toBe('::1 is a private or local address');
  });

  it('reads URLs as the WHATWG parser does (decimal and short IPv4 forms are loopback too)', async () => {
    expect(await refusedUrl('http://2130706433/', lookup)).toBe('127.0.0.1 is a private or local address');
    expect(await refusedUrl('http://127.1:8080/', lookup)).toBe('127.0.0.1 is a private or local address');
    expect(await refusedUrl('https://public.test/path', lookup)).toBeNull();
    expect(await refusedUrl('file:///etc/passwd', lookup)).toBe('file: URLs are not allowed');
    expect(await refusedUrl('not a url', lookup)).toBe('not a valid URL');
  });

  it('the WebFetch hook denies with a reason, blocks on failure, and lets public URLs through', async () => {
    const matcher = webFetchGuard(lookup);
    expect(matcher).toMatchObject({ matcher: 'WebFetch', onFailure: 'block' });
    const hook = matcher.hooks[0]!;
    const call = (url: unknown) =>
      hook(
        {
          hook_event_name: 'PreToolUse',
          tool_name: 'WebFetch',
          tool_input: { url, prompt: 'p' },
          tool_use_id: 't',
          session_id: 's',
          transcript_path: '',
          cwd: '/',
        },
        't',
        { signal: new AbortController().signal },
      );
    expect(await call('https://public.test/')).toEqual({});
    expect(JSON.stringify(await call('http://169.254.169.254/latest/meta-data/'))).toContain('"permissionDecision":"deny"');
    expect(JSON.stringify(await call(42))).toContain('the call has no URL');
  });

  it('screens allowedDomains, keeping wildcards', async () => {
    const screened = await screenAllowedDomains(['public.test', '*.github.com', '10.0.0.1', 'mixed.test'], lookup);
    expect(screened.domains).toEqual(['public.test', '*.github.com']);
    expect(screened.notes).toHaveLength(2);
  });
});

describe('sandbox options', () => {
  it('names the missing programs as packages, with the install command', () => {
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'socat'), '', { mode: 0o755 });
    writeFileSync(join(bin, 'bwrap'), '', { mode: 0o644 });
    expect(missingSandboxPackages(bin)).toEqual(['bubblewrap']);
    expect(missingSandboxPackages('')).toEqual(['bubblewrap', 'socat']);
    expect(sandboxUnavailableMessage(['bubblewrap'])).toContain('bubblewrap is not installed: install it (apt-get install -y bubblewrap socat)');
  });

  it('denies reads by default, keeps the toolchains of PATH readable but never a home or the data dir', () => {
    const { sandbox, settings } = sandboxedOptions(
      {
        cwd: '/srv/data/workspaces/a',
        readOnlyDirs: [],
        tmp: '/tmp/cron-agents-run-x',
        pathEnv: '/root/.cargo/bin:/opt/node/bin:/srv/data/bin:/usr/local/bin:/usr/bin:relative',
        protectedPaths: ['/srv/data', '/usr/lib/node_modules/cron-agents'],
      },
      ['github.com'],
      ['ANTHROPIC_API_KEY'],
    );
    expect(sandbox).toMatchObject({ enabled: true, failIfUnavailable: true, allowUnsandboxedCommands: false, autoAllowBashIfSandboxed: false });
    expect(sandbox?.filesystem?.denyRead).toEqual(expect.arrayContaining(['/', '/etc/ssh', '/etc/shadow', '/usr/lib/node_modules/cron-agents']));
    expect(sandbox?.filesystem?.denyRead).not.toContain('/srv/data');
    expect(sandbox?.filesystem?.allowRead).toEqual(expect.arrayContaining(['/srv/data/workspaces/a', '/tmp/cron-agents-run-x', '/usr', '/etc', '/opt/node']));
    expect(sandbox?.filesystem?.allowRead).not.toEqual(expect.arrayContaining(['/root/.cargo']));
    expect(sandbox?.filesystem?.allowRead?.filter((p) => p.startsWith('/root') || p === '/srv/data')).toEqual([]);
    expect(sandbox?.network).toEqual({ allowedDomains: ['github.com'], strictAllowlist: true });
    expect(sandbox?.credentials?.envVars).toEqual([{ name: 'ANTHROPIC_API_KEY', mode: 'deny' }]);
    expect(typeof settings === 'object' && settings.permissions).toMatchObject({
      blockReadsOutsideWorkingDirectories: true,
      blockWritesOutsideWorkingDirectories: true,
    });
  });

  it('makes a read-only folder readable by commands and file tools, and writable by neither', () => {
    const { sandbox, settings } = sandboxedOptions(
      { cwd: '/srv/data/workspaces/a', readOnlyDirs: ['/srv/ro'], tmp: '/tmp/x', pathEnv: '', protectedPaths: [] },
      [],
      [],
    );
    expect(sandbox?.filesystem?.allowRead).toContain('/srv/ro');
    expect(sandbox?.filesystem?.allowWrite).toBeUndefined();
    expect(typeof settings === 'object' && settings.permissions?.blockReadsExemptPaths).toContain('/srv/ro');
  });
});

describe('MCP servers', () => {
  it('blanks the model credentials for stdio servers, leaves out refused URLs, names failed servers', async () => {
    const lookup = async (): Promise<string[]> => ['93.184.215.14'];
    const { servers, notes } = await mcpServersFor({
      servers: {
        tools: { type: 'stdio', command: 'node', args: ['server.js'], env: { TOKEN: 't' } },
        remote: { type: 'http', url: 'https://mcp.public.test/mcp', headers: { Authorization: 'Bearer x' } },
        metadata: { type: 'sse', url: 'http://169.254.169.254/sse' },
      },
      credentialNames: ['ANTHROPIC_API_KEY'],
      allowPrivate: false,
      lookup,
    });
    expect(servers).toEqual({
      tools: { type: 'stdio', command: 'node', args: ['server.js'], env: { ANTHROPIC_API_KEY: '', TOKEN: 't' } },
      remote: { type: 'http', url: 'https://mcp.public.test/mcp', headers: { Authorization: 'Bearer x' } },
    });
    expect(notes).toEqual([
      'MCP server "metadata" was left out: 169.254.169.254 is a private or local address (CRON_AGENTS_RUN_ALLOW_PRIVATE=true allows it).',
    ]);
    expect(
      mcpStatusNotes([
        { name: 'tools', status: 'connected' },
        { name: 'remote', status: 'failed' },
      ]),
    ).toEqual(['MCP server "remote" is not available (failed); the run went on without it.']);
  });

  it('keeps every server when private addresses are allowed', async () => {
    const { servers } = await mcpServersFor({
      servers: { local: { type: 'http', url: 'http://127.0.0.1:9/mcp' } },
      credentialNames: [],
      allowPrivate: true,
    });
    expect(Object.keys(servers)).toEqual(['local']);
  });
});

describe('git workspace host', () => {
  const request = (url: string): AgentRunRequest =>
    runRequest({
      runId: 'run-git',
      agentId: 'agent-git',
      prompt: 'p',
      secrets: { GIT_PASSWORD_SECRET: 'hunter2-secret' },
      workspace: { git: { url } },
      cwd: join(root, 'agent-git-workspace'),
      signal: new AbortController().signal,
    });
  const settings = (allowPrivateAddresses: boolean): BoundarySettings => ({
    env: {},
    baseEnv: () => ({ PATH: process.env.PATH }),
    agentsDir: join(root, 'agents'),
    sandbox: 'off',
    runEnv: [],
    allowPrivateAddresses,
    protectedPaths: [],
    lookup: async () => ['127.0.0.1'],
    logger: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
  });

  it('refuses a repository on a private or local address before git runs, naming the host but not the URL', async () => {
    const refused = prepareRun(request('https://x:hunter2-secret@git.internal.example/team/repo.git'), settings(false), 'tag');
    await expect(refused).rejects.toThrow(WorkspaceError);
    await expect(refused).rejects.toThrow(/git\.internal\.example resolves to 127\.0\.0\.1/);
    await expect(refused).rejects.not.toThrow(/hunter2/);
    // With the opt-in, the host is let through (and git itself then fails to reach it).
    await expect(prepareRun(request('http://127.0.0.1:9/repo.git'), settings(true), 'tag')).rejects.not.toThrow(/private or local address/);
  });
});

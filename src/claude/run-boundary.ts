import type { Options } from '@anthropic-ai/claude-agent-sdk';
import type { AgentRunRequest } from '../engine/agent-runner.js';
import type { Logger } from '../logger.js';
import { runEnvironment, type EnvDirs, type EnvOverrides } from './environment.js';
import { mcpServersFor } from './mcp-servers.js';
import { refusedHost, screenAllowedDomains, webFetchGuard, type Lookup } from './network-guard.js';
import { makeRunDirs, removeRunTmp } from './run-dirs.js';
import { missingSandboxPackages, sandboxedOptions, sandboxUnavailableMessage, type SandboxMode } from './sandbox.js';
import { prepareWorkspace, WorkspaceError } from './workspace.js';

/**
 * A git workspace fetched over the network may not come from a loopback, private, link-local or
 * metadata address (git runs in this process's network, outside the sandbox), as WebFetch and MCP
 * servers may not. Local repositories (`file://`, a path) are held to the operator's host paths
 * by the executor instead. The message names the host only: the URL may carry a secret.
 */
async function refuseLocalGitHost(request: AgentRunRequest, lookup: Lookup | undefined): Promise<void> {
  const git = request.workspace && 'git' in request.workspace ? request.workspace.git : null;
  if (!git) return;
  let url: URL;
  try {
    url = new URL(git.url);
  } catch {
    return;
  }
  if (!['http:', 'https:', 'git:'].includes(url.protocol)) return;
  const refused = await refusedHost(url.hostname, lookup);
  if (refused) throw new WorkspaceError(`The git workspace's host is refused: ${refused} (CRON_AGENTS_RUN_ALLOW_PRIVATE=true allows it)`);
}

/** How a ClaudeRunner draws the boundary of its runs; claude-runner.ts fills in the defaults. */
export interface BoundarySettings {
  /** Variables the service sets for `claude` over the allow-listed environment. */
  env: EnvOverrides;
  /** The service's environment, read at each run; the allow-list picks from it. */
  baseEnv: () => Readonly<Record<string, string | undefined>>;
  /** Each agent's home and Claude Code config live in `<agentsDir>/<agentId>/`. */
  agentsDir: string;
  sandbox: SandboxMode;
  /** CRON_AGENTS_RUN_ENV: names of the service's environment passed on to runs. */
  runEnv: readonly string[];
  /** CRON_AGENTS_RUN_ALLOW_PRIVATE: WebFetch, MCP servers and allowedDomains may reach private addresses. */
  allowPrivateAddresses: boolean;
  /** Never readable by a run, even inside a system folder: the data dir, the service's install folder. */
  protectedPaths: readonly string[];
  /** Resolves host names for the private-address checks (tests swap it). */
  lookup: Lookup | undefined;
  logger: Logger;
}

/** A run ready to start: where it works, its environment, and the SDK options of its boundary. */
export interface PreparedRun {
  cwd: string;
  dirs: EnvDirs;
  env: Record<string, string>;
  /** Options that draw the boundary; claude-run.ts adds the run's own (prompt, limits, process). */
  options: Options;
  /** What the run's output is told about: servers and domains left out. */
  notes: string[];
  /** Appended to the system prompt after the agent's own (where a read-only workspace is). */
  systemNote: string | null;
}

/**
 * Makes the run's folders and workspace ready and works out its boundary. Returns an error
 * message instead when the run cannot start (the sandbox's programs are missing), and throws when
 * its workspace cannot be made ready; either way the run's temp dir is gone by then.
 */
export async function prepareRun(request: AgentRunRequest, settings: BoundarySettings, runTag: string): Promise<PreparedRun | { error: string }> {
  const { runId } = request;
  const dirs = await makeRunDirs(settings.agentsDir, request.agentId);
  try {
    if (!settings.allowPrivateAddresses) await refuseLocalGitHost(request, settings.lookup);
    // Throws a WorkspaceError fit for the run's output (git's message, secrets redacted).
    const workspace = await prepareWorkspace(request);
    // A read-only folder cannot be the working directory: the sandbox mounts guards over files in
    // it (.bashrc, .gitconfig...) and cannot create them there. The run works in the agent's own
    // folder and reads the workspace where it is, which the system prompt says.
    const cwd = workspace.readOnly ? request.cwd : workspace.cwd;
    const readOnlyDirs = workspace.readOnly ? [workspace.cwd] : [];
    const systemNote = workspace.readOnly
      ? `This agent's workspace is the read-only folder ${workspace.cwd}: read it there. The working directory is a writable folder of the agent's own.`
      : null;
    const { env, credentialNames, shadowedSecrets } = runEnvironment({
      base: settings.baseEnv(),
      overrides: settings.env,
      runEnv: settings.runEnv,
      secrets: request.secrets,
      dirs,
      runTag,
    });
    if (shadowedSecrets.length > 0) settings.logger.warn({ runId, secrets: shadowedSecrets }, 'secrets not passed on: the service sets these variables itself');
    const notes: string[] = [];
    const allowPrivate = settings.allowPrivateAddresses;
    const mcp = await mcpServersFor({ servers: request.mcpServers, credentialNames, allowPrivate, lookup: settings.lookup });
    notes.push(...mcp.notes);
    const options: Options = {
      cwd,
      env,
      // Stored prompts are data: no `@file` expansion, no slash commands.
      verbatimPrompts: true,
      disallowedTools: [...request.disallowedTools],
      mcpServers: mcp.servers,
      strictMcpConfig: true,
      // Over stdin, not on the command line, where `ps` would show their env and headers.
      mcpServersDelivery: 'initialize',
      ...(allowPrivate ? {} : { hooks: { PreToolUse: [webFetchGuard(settings.lookup)] } }),
    };
    if (settings.sandbox === 'off') {
      settings.logger.warn({ runId }, 'the sandbox is off (CRON_AGENTS_SANDBOX=off): this run can read and write whatever the service can');
      return { cwd, dirs, env, options, notes, systemNote };
    }
    const missing = missingSandboxPackages(env.PATH);
    if (missing.length > 0) {
      await removeRunTmp(dirs);
      return { error: sandboxUnavailableMessage(missing) };
    }
    const screened = allowPrivate ? { domains: [...request.allowedDomains], notes: [] } : await screenAllowedDomains(request.allowedDomains, settings.lookup);
    notes.push(...screened.notes);
    const paths = { cwd, readOnlyDirs, tmp: dirs.tmp, pathEnv: env.PATH, protectedPaths: settings.protectedPaths };
    return { cwd, dirs, env, options: { ...options, ...sandboxedOptions(paths, screened.domains, credentialNames) }, notes, systemNote };
  } catch (error) {
    await removeRunTmp(dirs);
    throw error;
  }
}

/** The run's own SDK options over its boundary's: what it asks of the model. */
export function runOptions(request: AgentRunRequest, prepared: PreparedRun): Options {
  const options: Options = {
    ...prepared.options,
    maxTurns: request.maxTurns,
    permissionMode: 'dontAsk',
    allowedTools: [...request.allowedTools],
    settingSources: [],
    persistSession: false,
    // A title given up front saves the title-generation API call Claude Code makes otherwise.
    title: `cron-agents run ${request.runId}`,
  };
  if (request.maxBudgetUsd !== null) options.maxBudgetUsd = request.maxBudgetUsd;
  if (request.model !== null) options.model = request.model;
  const append = [request.systemPrompt, prepared.systemNote].filter((text) => text !== null).join('\n\n');
  if (append !== '') options.systemPrompt = { type: 'preset', preset: 'claude_code', append };
  if (request.effort !== null) options.effort = request.effort;
  // Claude Code refuses to start when the fallback is the main model.
  if (request.fallbackModel !== null && request.fallbackModel !== request.model) options.fallbackModel = request.fallbackModel;
  // The model answers through a StructuredOutput tool whose input the CLI checks against the schema.
  if (request.outputSchema) options.outputFormat = { type: 'json_schema', schema: request.outputSchema };
  return options;
}

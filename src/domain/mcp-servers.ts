import { ValidationError } from './errors.js';
import { checkNoSecretRef, checkSecretRefSyntax, urlProtocol } from './secret-ref-syntax.js';
import { resolveSecretRefs, type SecretValues } from './secret-refs.js';
import type { McpServerSpec } from './types.js';

/**
 * An MCP server as a request carries it: one object for both kinds (the schema checks types and
 * sizes), made into a McpServerSpec by parseMcpServers, which names the field of any problem.
 */
export interface McpServerInput {
  type: 'stdio' | 'http' | 'sse';
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  url?: string;
  headers?: Record<string, string>;
}

/** A server's name becomes part of its tools' names (`mcp__<name>__<tool>`). */
export const MCP_SERVER_NAME_PATTERN = '^[a-zA-Z0-9_-]{1,64}$';
const SERVER_NAME = new RegExp(MCP_SERVER_NAME_PATTERN);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;

function blank(text: string): boolean {
  return text.trim() === '';
}

/** Line breaks and other control characters would split or end a header. */
function hasControlCharacter(text: string): boolean {
  return [...text].some((char) => {
    const code = char.charCodeAt(0);
    return code < 0x20 || code === 0x7f;
  });
}

function refuseKeys(server: McpServerInput, keys: readonly (keyof McpServerInput)[], field: string, why: string): void {
  for (const key of keys) if (server[key] !== undefined) throw ValidationError.field(`${field}.${key}`, why);
}

function checkEnv(env: Record<string, string>, field: string): void {
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name))
      throw ValidationError.field(`${field}.${name}`, 'is not a valid environment variable name (letters, digits and _, not starting with a digit)');
    checkSecretRefSyntax(value, `${field}.${name}`);
  }
}

function checkHeaders(headers: Record<string, string>, field: string): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) throw ValidationError.field(`${field}.${name}`, 'is not a valid HTTP header name');
    if (hasControlCharacter(value)) throw ValidationError.field(`${field}.${name}`, 'must not contain line breaks or control characters');
    checkSecretRefSyntax(value, `${field}.${name}`);
  }
}

function checkServerUrl(url: string, field: string): void {
  checkSecretRefSyntax(url, field);
  const protocol = urlProtocol(url);
  if ((protocol !== 'https:' && protocol !== 'http:') || /\s/.test(url)) {
    throw ValidationError.field(field, 'must be an http:// or https:// URL');
  }
}

function parseServer(name: string, server: McpServerInput): McpServerSpec {
  const field = `mcpServers.${name}`;
  if (!SERVER_NAME.test(name)) throw ValidationError.field(field, 'a server name is 1 to 64 letters, digits, _ or -');
  if (server.type === 'stdio') {
    refuseKeys(server, ['url', 'headers'], field, 'is for http and sse servers only');
    const { command, args, env } = server;
    if (command === undefined || blank(command)) throw ValidationError.field(`${field}.command`, 'is required for a stdio server');
    checkNoSecretRef(command, `${field}.command`);
    args?.forEach((arg, i) => checkSecretRefSyntax(arg, `${field}.args[${i}]`));
    if (env) checkEnv(env, `${field}.env`);
    return { type: 'stdio', command, ...(args ? { args: [...args] } : {}), ...(env ? { env: { ...env } } : {}) };
  }
  refuseKeys(server, ['command', 'args', 'env'], field, 'is for stdio servers only');
  const { url, headers } = server;
  if (url === undefined || blank(url)) throw ValidationError.field(`${field}.url`, `is required for an ${server.type} server`);
  checkServerUrl(url, `${field}.url`);
  if (headers) checkHeaders(headers, `${field}.headers`);
  return { type: server.type, url, ...(headers ? { headers: { ...headers } } : {}) };
}

/** Checks an agent's MCP servers (names, commands, URLs, headers, secret references) and returns them as specs. */
export function parseMcpServers(input: Record<string, McpServerInput>): Record<string, McpServerSpec> {
  const servers: Record<string, McpServerSpec> = {};
  for (const [name, server] of Object.entries(input)) servers[name] = parseServer(name, server);
  return servers;
}

function sameEntries(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const left = Object.entries(a ?? {}).sort(([x], [y]) => x.localeCompare(y));
  const right = Object.entries(b ?? {}).sort(([x], [y]) => x.localeCompare(y));
  return JSON.stringify(left) === JSON.stringify(right);
}

/** Whether two specs describe the same server (env and headers in any order). */
export function sameMcpServer(a: McpServerSpec, b: McpServerSpec): boolean {
  if (a.type === 'stdio' && b.type === 'stdio') {
    return a.command === b.command && JSON.stringify(a.args ?? []) === JSON.stringify(b.args ?? []) && sameEntries(a.env, b.env);
  }
  if (a.type !== 'stdio' && b.type !== 'stdio') return a.type === b.type && a.url === b.url && sameEntries(a.headers, b.headers);
  return false;
}

function resolveEntries(entries: Record<string, string>, secrets: SecretValues): Record<string, string> {
  return Object.fromEntries(Object.entries(entries).map(([key, value]) => [key, resolveSecretRefs(value, secrets)]));
}

/**
 * The servers with every `${secret:NAME}` in env, headers, args and url replaced by its value,
 * for one run. Throws UnknownSecretError (secret-refs.ts) naming a secret the agent lacks.
 */
export function resolveMcpServerSecrets(servers: Record<string, McpServerSpec>, secrets: SecretValues): Record<string, McpServerSpec> {
  const resolved: Record<string, McpServerSpec> = {};
  for (const [name, server] of Object.entries(servers)) {
    resolved[name] =
      server.type === 'stdio'
        ? {
            ...server,
            ...(server.args ? { args: server.args.map((arg) => resolveSecretRefs(arg, secrets)) } : {}),
            ...(server.env ? { env: resolveEntries(server.env, secrets) } : {}),
          }
        : { ...server, url: resolveSecretRefs(server.url, secrets), ...(server.headers ? { headers: resolveEntries(server.headers, secrets) } : {}) };
  }
  return resolved;
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** Reads a stored server back: only what parseMcpServers could have written passes. */
export function toMcpServerSpec(value: unknown): McpServerSpec | null {
  if (typeof value !== 'object' || value === null) return null;
  const record: Record<string, unknown> = { ...value };
  const { type, command, args, env, url, headers } = record;
  if (type === 'stdio' && typeof command === 'string') {
    return { type, command, ...(isStringArray(args) ? { args } : {}), ...(isStringRecord(env) ? { env } : {}) };
  }
  if ((type === 'http' || type === 'sse') && typeof url === 'string') return { type, url, ...(isStringRecord(headers) ? { headers } : {}) };
  return null;
}

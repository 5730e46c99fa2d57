import { ValidationError } from '../../../domain/errors';
import { parseMcpServers, type McpServerInput } from '../../../domain/mcp-servers';
import type { McpServerSpec } from '../../../domain/types';

/**
 * The MCP servers field as JSON text, both ways. Checked while it is typed with the server's own
 * rules (domain/mcp-servers.ts), so a mistake shows beside the field before anything is sent.
 */

export type McpServersParse = { ok: true; servers: Record<string, McpServerSpec> } | { ok: false; error: string };

const TYPES = ['stdio', 'http', 'sse'] as const;
const KEYS = ['type', 'command', 'args', 'env', 'url', 'headers'];

/** The text a stored set of servers is edited as; no server is an empty box. */
export function mcpServersText(servers: Readonly<Record<string, object>>): string {
  return Object.keys(servers).length === 0 ? '' : JSON.stringify(servers, null, 2);
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringRecord(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new Error(`${where}: must be an object of names to strings`);
  const entries = Object.entries(value);
  const bad = entries.find(([, v]) => typeof v !== 'string');
  if (bad) throw new Error(`${where}.${bad[0]}: must be a string`);
  return Object.fromEntries(entries.map(([k, v]) => [k, String(v)]));
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value !== undefined && typeof value !== 'string') throw new Error(`${where}: must be a string`);
  return value;
}

function stringList(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new Error(`${where}: must be a list of strings`);
  return value.map(String);
}

/** One server's settings as the request carries them, or an Error naming what is wrong. */
function serverInput(name: string, value: unknown): McpServerInput {
  if (!isObject(value)) throw new Error(`${name}: must be an object such as {"type": "http", "url": "https://…"}`);
  const record: Record<string, unknown> = { ...value };
  const unknown = Object.keys(record).find((key) => !KEYS.includes(key));
  if (unknown !== undefined) throw new Error(`${name}.${unknown}: is not a known setting (type, command, args, env, url, headers)`);
  const type = TYPES.find((t) => t === record.type);
  if (type === undefined) throw new Error(`${name}.type: must be "stdio", "http" or "sse"`);
  const input: McpServerInput = { type };
  const command = optionalString(record.command, `${name}.command`);
  const url = optionalString(record.url, `${name}.url`);
  const args = stringList(record.args, `${name}.args`);
  const env = stringRecord(record.env, `${name}.env`);
  const headers = stringRecord(record.headers, `${name}.headers`);
  if (command !== undefined) input.command = command;
  if (url !== undefined) input.url = url;
  if (args !== undefined) input.args = args;
  if (env !== undefined) input.env = env;
  if (headers !== undefined) input.headers = headers;
  return input;
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** The servers the text describes, or what is wrong with it in one sentence. An empty box is no server. */
export function parseMcpServersJson(text: string): McpServersParse {
  if (text.trim() === '') return { ok: true, servers: {} };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, error: sentence(`Not valid JSON: ${error instanceof Error ? error.message : String(error)}`) };
  }
  if (!isObject(json)) return { ok: false, error: 'Must be a JSON object of server names to their settings, e.g. {"docs": {"type": "http", "url": "…"}}.' };
  try {
    const inputs: Record<string, McpServerInput> = {};
    for (const [name, value] of Object.entries(json)) inputs[name] = serverInput(name, value);
    return { ok: true, servers: parseMcpServers(inputs) };
  } catch (error) {
    if (error instanceof ValidationError) {
      const detail = error.details[0];
      return { ok: false, error: sentence(detail ? `${detail.field.replace(/^mcpServers\./, '')}: ${detail.message}` : error.message) };
    }
    return { ok: false, error: sentence(error instanceof Error ? error.message : String(error)) };
  }
}

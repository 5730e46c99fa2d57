/**
 * A fake Anthropic Messages API for running the real `claude` CLI (through the Agent SDK) offline.
 *
 * Point the CLI at it with `ANTHROPIC_BASE_URL=<url>` and any `ANTHROPIC_API_KEY`.
 *
 * What each run gets is chosen by a directive in its prompt, e.g.
 * `[[fake: tool_turns=2 text="done" input_tokens=1000 output_tokens=200 delay_ms=500]]`
 * (grammar in README.md), so one server can serve a whole service running many agents at once:
 * nothing is kept per connection or per run; every answer is computed from the request alone
 * (the directive in the conversation's first user message, and the number of assistant messages
 * already in the conversation = the 0-based turn to answer).
 *
 * Side requests: the CLI also calls /v1/messages for itself (Claude Code 2.1.332 sends a
 * session-title request, `tools: []` with a json_schema `{title}` output format, unless the SDK
 * `title` option is set; other versions send e.g. a `max_tokens: 1` quota probe). The agent loop
 * always sends its tool definitions, so a request with no `tools` is a side request: it gets a
 * harmless reply (a value fitting the requested JSON schema, else "ok") with zero usage, is logged
 * with `kind: 'side'`, and cannot affect a run's script or turn count (both are stateless).
 *
 * Other paths: `POST /v1/messages/count_tokens` is answered; `HEAD /api/hello` (the CLI's start-up
 * connectivity probe, skipped with CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1) and any other
 * GET/HEAD get 200 `{}`; other POSTs get an Anthropic-shaped 404. All of them land in `otherRequests`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the fake answers to one conversation. */
export interface FakeScript {
  /** Number of assistant turns that are tool calls before the final text answer. */
  toolTurns: number;
  /** The final text answer. */
  text: string;
  /** Tool used by the tool turns. */
  tool: string;
  /** The Bash command run by each tool turn. */
  command: string;
  /** Usage reported for every main response. */
  inputTokens: number;
  outputTokens: number;
  cacheReadInputTokens: number;
  cacheCreationInputTokens: number;
  /** Wait this long before answering each main request. */
  delayMs: number;
  /** Answer main requests with this HTTP status (4xx/5xx) and an Anthropic-shaped error body. */
  errorStatus: number | null;
  /** Message of the error body. */
  errorMessage: string;
  /** Only fail from this main turn on (0-based, counted as assistant messages already present). */
  errorOnTurn: number;
  /** One tool call per tool turn, any tool with any input (`steps=`); null: `tool` and `command`. */
  steps: FakeToolStep[] | null;
  /** Characters of a comment ending each Bash command (`pad=`): very large tool calls from a short prompt. */
  padding: number;
}

/** A tool call the fake model makes, as given by the `steps` directive. */
export interface FakeToolStep {
  tool: string;
  input: Record<string, unknown>;
}

export const DEFAULT_SCRIPT: Readonly<FakeScript> = Object.freeze({
  toolTurns: 0,
  text: 'ok',
  tool: 'Bash',
  command: 'echo hi',
  inputTokens: 10,
  outputTokens: 5,
  cacheReadInputTokens: 0,
  cacheCreationInputTokens: 0,
  delayMs: 0,
  errorStatus: null,
  errorMessage: '',
  errorOnTurn: 0,
  steps: null,
  padding: 0,
});

export type RequestKind = 'main' | 'side' | 'count_tokens';

/** One /v1/messages* request as received. */
export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  kind: RequestKind;
  /** Parsed JSON body (undefined when not JSON), as sent: read it with `firstUserText` and the like. */
  body: unknown;
  /** For main requests: the script in force and the 0-based turn answered. */
  script?: FakeScript;
  turn?: number;
}

export interface OtherRequest {
  at: number;
  method: string;
  path: string;
}

export interface FakeAnthropic {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Every /v1/messages and /v1/messages/count_tokens request, in arrival order. */
  requests: LoggedRequest[];
  /** Requests to any other path (answered with a harmless 200 `{}`, or 404 for unknown POSTs). */
  otherRequests: OtherRequest[];
  /** Main (agent-loop) requests only. */
  mainRequests(): LoggedRequest[];
  /** Script for conversations whose prompt has no directive (defaults: plain text "ok"). */
  setDefaultScript(script: Partial<FakeScript> | string): void;
  /** Number of responses currently being delayed or streamed. */
  inFlight(): number;
  close(): Promise<void>;
}

export interface FakeAnthropicOptions {
  port?: number;
  /** Log every request line to this function (e.g. console.error). */
  log?: (line: string) => void;
  /** Keep at most this many entries in `requests` / `otherRequests` (oldest dropped). Default: all. */
  keepRequests?: number;
}

const DIRECTIVE_RE = /\[\[fake:([^\]]*)\]\]/;
const PAIR_RE = /([a-z_]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s\]]+)/g;

/** `steps=<base64 of a JSON array of {tool, input}>`: base64, so any input fits in a directive. */
function parseSteps(raw: string): FakeToolStep[] {
  const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  const steps = Array.isArray(parsed) ? parsed : [];
  return steps.map((step: unknown) => {
    if (typeof step !== 'object' || step === null || !('tool' in step) || typeof step.tool !== 'string' || !('input' in step)) {
      throw new Error('fake directive: steps must be a base64 JSON array of {tool, input}');
    }
    const input = typeof step.input === 'object' && step.input !== null ? Object.fromEntries(Object.entries(step.input)) : {};
    return { tool: step.tool, input };
  });
}

/** The `steps=` value that makes the fake model call these tools, one per turn, in order. */
export function stepsDirective(steps: readonly FakeToolStep[]): string {
  return `steps=${Buffer.from(JSON.stringify(steps)).toString('base64')}`;
}

/** Parses the inside of a `[[fake: ...]]` directive (or a whole text containing one). */
export function parseDirective(text: string, base: Readonly<FakeScript> = DEFAULT_SCRIPT): FakeScript {
  const inner = DIRECTIVE_RE.exec(text)?.[1] ?? text;
  const script: FakeScript = { ...base };
  for (const m of inner.matchAll(PAIR_RE)) {
    const key = m[1] ?? '';
    let raw = m[2] ?? '';
    if (raw.startsWith('"')) raw = JSON.parse(raw) as string;
    const num = Number(raw);
    const int = (): number => {
      if (!Number.isFinite(num) || num < 0) throw new Error(`fake directive: ${key} needs a number, got ${raw}`);
      return Math.floor(num);
    };
    switch (key) {
      case 'tool_turns':
        script.toolTurns = int();
        break;
      case 'text':
        script.text = raw;
        break;
      case 'tool':
        script.tool = raw;
        break;
      case 'command':
        script.command = raw;
        break;
      case 'sleep':
        // A bare `sleep N` is refused by Claude Code ("Blocked: standalone sleep").
        script.command = `echo sleeping; sleep ${int()}`;
        if (script.toolTurns === 0) script.toolTurns = 1;
        break;
      case 'input_tokens':
        script.inputTokens = int();
        break;
      case 'output_tokens':
        script.outputTokens = int();
        break;
      case 'cache_read':
        script.cacheReadInputTokens = int();
        break;
      case 'cache_creation':
        script.cacheCreationInputTokens = int();
        break;
      case 'delay_ms':
        script.delayMs = int();
        break;
      case 'error':
        script.errorStatus = int();
        break;
      case 'error_message':
        script.errorMessage = raw;
        break;
      case 'error_on_turn':
        script.errorOnTurn = int();
        break;
      case 'pad':
        script.padding = int();
        break;
      case 'steps':
        script.steps = parseSteps(raw);
        script.toolTurns = script.steps.length;
        break;
      default:
        throw new Error(`fake directive: unknown key ${key}`);
    }
  }
  return script;
}

/** A text block of a message's content, the only kind of content block the fake reads. */
interface TextBlock {
  type: 'text';
  text: string;
}

/** A message of the conversation: its content is a string or a list of content blocks of any kind. */
interface RequestMessage {
  role: 'user' | 'assistant';
  content: string | unknown[];
}

/** The part of a JSON schema a side reply fills in: an object's properties and their types. */
interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
}

/**
 * The parts of a Messages API request body the fake reads, as `readRequest` finds them: a part
 * that is missing or not of its type is left out (messages and tools: empty).
 */
interface MessagesRequest {
  model?: string;
  stream?: boolean;
  max_tokens?: number;
  messages: RequestMessage[];
  tools: unknown[];
  /** Structured output, e.g. the title generator's `{title}` schema. */
  output_config?: { format?: { schema?: JsonSchema } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isTextBlock(block: unknown): block is TextBlock {
  return isObject(block) && block.type === 'text' && typeof block.text === 'string';
}

function readMessage(message: unknown): RequestMessage[] {
  if (!isObject(message) || (message.role !== 'user' && message.role !== 'assistant')) return [];
  const { role, content } = message;
  return [{ role, content: typeof content === 'string' || Array.isArray(content) ? content : [] }];
}

function readSchema(schema: unknown): JsonSchema | undefined {
  if (!isObject(schema)) return undefined;
  const { type, properties } = schema;
  return {
    ...(typeof type === 'string' ? { type } : {}),
    ...(isObject(properties) ? { properties: Object.fromEntries(Object.entries(properties).map(([key, prop]) => [key, readSchema(prop) ?? {}])) } : {}),
  };
}

/** Reads the parts of a parsed request body (any JSON value, or undefined) that the fake uses. */
function readRequest(body: unknown): MessagesRequest {
  if (!isObject(body)) return { messages: [], tools: [] };
  const { model, stream, max_tokens, messages, tools, output_config } = body;
  const schema = isObject(output_config) && isObject(output_config.format) ? readSchema(output_config.format.schema) : undefined;
  return {
    ...(typeof model === 'string' ? { model } : {}),
    ...(typeof stream === 'boolean' ? { stream } : {}),
    ...(typeof max_tokens === 'number' ? { max_tokens } : {}),
    messages: Array.isArray(messages) ? messages.flatMap(readMessage) : [],
    tools: Array.isArray(tools) ? tools : [],
    ...(schema ? { output_config: { format: { schema } } } : {}),
  };
}

function textOf(content: string | unknown[]): string {
  if (typeof content === 'string') return content;
  return content.map((b) => (isTextBlock(b) ? b.text : '')).join('\n');
}

/** Text of the first user message of a conversation (all its text blocks). */
export function firstUserText(body: unknown): string {
  const first = readRequest(body).messages.find((m) => m.role === 'user');
  return first ? textOf(first.content) : '';
}

/** Number of assistant messages already in the conversation = 0-based index of the turn to answer. */
export function countAssistantTurns(body: unknown): number {
  return readRequest(body).messages.filter((m) => m.role === 'assistant').length;
}

/** Text of the newest tool result in the conversation ('' when none): what `{last_tool_result}` in `text` becomes. */
export function lastToolResultText(body: unknown): string {
  for (const message of [...readRequest(body).messages].reverse()) {
    if (typeof message.content === 'string') continue;
    for (const block of [...message.content].reverse()) {
      if (!isObject(block) || block.type !== 'tool_result') continue;
      const { content } = block;
      return typeof content === 'string' ? content : Array.isArray(content) ? textOf(content) : '';
    }
  }
  return '';
}

/**
 * main: the agent loop (it always sends the tool definitions, even when allowedTools is empty).
 * side: everything else the CLI sends on its own (quota probe with max_tokens 1, title or
 * summary generation, ...), which never carries tools.
 */
export function classifyRequest(body: unknown): 'main' | 'side' {
  return readRequest(body).tools.length > 0 ? 'main' : 'side';
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

function errorBody(status: number, message: string): string {
  const type = ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
  return JSON.stringify({
    type: 'error',
    error: { type, message: message || `fake ${status} error` },
    request_id: `req_fake_${Math.random().toString(36).slice(2)}`,
  });
}

interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

let idCounter = 0;
const newId = (prefix: string): string => `${prefix}_fake${Date.now().toString(36)}${(idCounter++).toString(36)}`;

/** A reply that satisfies a structured-output request (e.g. the title generator's `{title}`), else "ok". */
function sideReplyText(request: MessagesRequest): string {
  const schema = request.output_config?.format?.schema;
  if (schema?.type !== 'object' || !schema.properties) return 'ok';
  const out: Record<string, unknown> = {};
  for (const [key, prop] of Object.entries(schema.properties)) {
    const t = prop.type;
    out[key] =
      t === 'string' ? 'Fake session' : t === 'number' || t === 'integer' ? 0 : t === 'boolean' ? false : t === 'array' ? [] : t === 'object' ? {} : null;
  }
  return JSON.stringify(out);
}

function toolInput(script: FakeScript): Record<string, unknown> {
  if (script.tool === 'Bash') {
    const command = script.padding > 0 ? `${script.command} # ${'p'.repeat(script.padding)}` : script.command;
    return { command, description: 'Run a command' };
  }
  if (script.tool === 'Read') return { file_path: script.command };
  return { command: script.command };
}

function sse(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function streamMessage(res: ServerResponse, model: string, blocks: Block[], stopReason: string, usage: Usage): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'request-id': newId('req'),
    'anthropic-organization-id': '00000000-0000-0000-0000-000000000000',
  });
  sse(res, 'message_start', {
    type: 'message_start',
    message: {
      id: newId('msg'),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: Math.min(1, usage.output_tokens) },
    },
  });
  sse(res, 'ping', { type: 'ping' });
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      // Two deltas, like a real stream.
      const mid = Math.ceil(block.text.length / 2);
      for (const part of [block.text.slice(0, mid), block.text.slice(mid)]) {
        if (part) sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: part } });
      }
    } else {
      sse(res, 'content_block_start', {
        type: 'content_block_start',
        index,
        content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} },
      });
      const json = JSON.stringify(block.input);
      const mid = Math.ceil(json.length / 2);
      for (const part of [json.slice(0, mid), json.slice(mid)]) {
        sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: part } });
      }
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
  });
  sse(res, 'message_delta', {
    type: 'message_delta',
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output_tokens },
  });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

function jsonMessage(res: ServerResponse, model: string, blocks: Block[], stopReason: string, usage: Usage): void {
  res.writeHead(200, { 'content-type': 'application/json', 'request-id': newId('req') });
  res.end(
    JSON.stringify({
      id: newId('msg'),
      type: 'message',
      role: 'assistant',
      model,
      content: blocks,
      stop_reason: stopReason,
      stop_sequence: null,
      usage,
    }),
  );
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const log = options.log ?? (() => {});
  const keep = options.keepRequests ?? Number.POSITIVE_INFINITY;
  const requests: LoggedRequest[] = [];
  const otherRequests: OtherRequest[] = [];
  const record = <T>(list: T[], entry: T): void => {
    list.push(entry);
    if (list.length > keep) list.splice(0, list.length - keep);
  };
  let defaultScript: FakeScript = { ...DEFAULT_SCRIPT };
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;

  const wait = (ms: number, req: IncomingMessage): Promise<boolean> =>
    new Promise((resolve) => {
      if (ms <= 0) return resolve(true);
      const onClose = (): void => {
        clearTimeout(timer);
        timers.delete(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        timers.delete(timer);
        req.socket.off('close', onClose);
        resolve(true);
      }, ms);
      timers.add(timer);
      req.socket.once('close', onClose);
    });

  async function handleMessages(req: IncomingMessage, res: ServerResponse, path: string, body: unknown): Promise<void> {
    const request = readRequest(body);
    const kind = classifyRequest(body);
    const model = request.model ?? 'claude-fake';
    const stream = request.stream === true;
    if (kind === 'side') {
      record(requests, { at: Date.now(), method: req.method ?? '', path, kind, body });
      log(`side request model=${model} max_tokens=${request.max_tokens} stream=${stream}`);
      // Zero usage: side requests are counted in the run's modelUsage / total_cost_usd, and tests
      // want exact token counts from the script alone.
      const usage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
      const blocks: Block[] = [{ type: 'text', text: sideReplyText(request) }];
      if (stream) streamMessage(res, model, blocks, 'end_turn', usage);
      else jsonMessage(res, model, blocks, 'end_turn', usage);
      return;
    }

    let script: FakeScript;
    const prompt = firstUserText(body);
    try {
      script = DIRECTIVE_RE.test(prompt) ? parseDirective(prompt, defaultScript) : defaultScript;
    } catch (e) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(errorBody(400, (e as Error).message));
      return;
    }
    const turn = countAssistantTurns(body);
    record(requests, { at: Date.now(), method: req.method ?? '', path, kind, body, script, turn });
    log(`main request model=${model} turn=${turn} stream=${stream}`);

    if (!(await wait(script.delayMs, req))) return;

    if (script.errorStatus !== null && turn >= script.errorOnTurn) {
      res.writeHead(script.errorStatus, { 'content-type': 'application/json', 'request-id': newId('req') });
      res.end(errorBody(script.errorStatus, script.errorMessage));
      return;
    }

    const usage: Usage = {
      input_tokens: script.inputTokens,
      output_tokens: script.outputTokens,
      cache_read_input_tokens: script.cacheReadInputTokens,
      cache_creation_input_tokens: script.cacheCreationInputTokens,
    };
    const isToolTurn = turn < script.toolTurns;
    const blocks: Block[] = isToolTurn
      ? [{ type: 'tool_use', id: newId('toolu'), name: script.steps?.[turn]?.tool ?? script.tool, input: script.steps?.[turn]?.input ?? toolInput(script) }]
      : [{ type: 'text', text: script.text.replaceAll('{last_tool_result}', lastToolResultText(body)) }];
    const stopReason = isToolTurn ? 'tool_use' : 'end_turn';
    if (stream) streamMessage(res, model, blocks, stopReason, usage);
    else jsonMessage(res, model, blocks, stopReason, usage);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = raw ? (JSON.parse(raw) as unknown) : undefined;
    } catch {
      body = undefined;
    }
    log(`${method} ${req.url}`);

    if (method === 'POST' && path === '/v1/messages') return handleMessages(req, res, path, body);
    if (method === 'POST' && path === '/v1/messages/count_tokens') {
      record(requests, { at: Date.now(), method, path, kind: 'count_tokens', body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ input_tokens: Math.max(1, Math.ceil(raw.length / 4)) }));
      return;
    }
    record(otherRequests, { at: Date.now(), method, path: req.url ?? path });
    log(`other request ${method} ${req.url}`);
    if (method === 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(errorBody(404, `fake: no route ${method} ${path}`));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(method === 'HEAD' ? undefined : '{}');
  }

  const server: Server = createServer((req, res) => {
    inFlight++;
    res.on('close', () => inFlight--);
    handle(req, res).catch((e: unknown) => {
      log(`fake handler error: ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(errorBody(500, (e as Error).message));
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    otherRequests,
    mainRequests: () => requests.filter((r) => r.kind === 'main'),
    setDefaultScript(script) {
      defaultScript = typeof script === 'string' ? parseDirective(script, DEFAULT_SCRIPT) : { ...DEFAULT_SCRIPT, ...script };
    },
    inFlight: () => inFlight,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

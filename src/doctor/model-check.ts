import { hasModelCredentials } from '../claude/environment.js';
import type { CheckResult } from './doctor.js';

/**
 * The model credentials: one of the variables the Agent SDK reads is set, and (with --online) the
 * Messages API accepts it for one request of one output token.
 */

const NAME = 'model credentials';
const DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** The smallest model the CLI uses itself; ANTHROPIC_DEFAULT_HAIKU_MODEL (or the older ANTHROPIC_SMALL_FAST_MODEL) overrides it. */
const DEFAULT_PROBE_MODEL = 'claude-haiku-4-5';
/** Claude Code's subscription tokens are sent as bearer tokens with this beta. */
const OAUTH_BETA = 'oauth-2025-04-20';

type Env = Record<string, string | undefined>;

/** The credential the request is made with, as the SDK would pick it, and its headers. */
function credential(env: Env): { variable: string; headers: Record<string, string> } | null {
  if (env.ANTHROPIC_API_KEY) return { variable: 'ANTHROPIC_API_KEY', headers: { 'x-api-key': env.ANTHROPIC_API_KEY } };
  if (env.ANTHROPIC_AUTH_TOKEN) return { variable: 'ANTHROPIC_AUTH_TOKEN', headers: { authorization: `Bearer ${env.ANTHROPIC_AUTH_TOKEN}` } };
  if (env.CLAUDE_CODE_OAUTH_TOKEN) {
    return { variable: 'CLAUDE_CODE_OAUTH_TOKEN', headers: { authorization: `Bearer ${env.CLAUDE_CODE_OAUTH_TOKEN}`, 'anthropic-beta': OAUTH_BETA } };
  }
  return null;
}

/** The API's own words from an error answer (`{"error": {"message"}}`), or the start of the body. */
function apiMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') return parsed.error.message;
  } catch {
    // not JSON
  }
  return body.slice(0, 200).trim() || '(no body)';
}

/** One request of one output token with the credential; what the answer says about it. */
async function probe(env: Env, variable: string, headers: Record<string, string>, timeoutMs: number): Promise<CheckResult> {
  const base = (env.ANTHROPIC_BASE_URL?.trim() || DEFAULT_BASE_URL).replace(/\/+$/, '');
  const model = env.ANTHROPIC_DEFAULT_HAIKU_MODEL?.trim() || env.ANTHROPIC_SMALL_FAST_MODEL?.trim() || DEFAULT_PROBE_MODEL;
  let response: Response;
  try {
    response = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      headers: { ...headers, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model, max_tokens: 1, messages: [{ role: 'user', content: 'Reply with OK.' }] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
    return {
      name: NAME,
      status: 'fail',
      summary: `${variable} is set, but ${base} cannot be reached: ${cause}`,
      fix: 'check this host reaches the API (this check does not use HTTPS_PROXY; the runs do), or ANTHROPIC_BASE_URL',
    };
  }
  const text = await response.text();
  const said = `${response.status}: ${apiMessage(text)}`;
  if (response.ok) return { name: NAME, status: 'ok', summary: `${variable} works: ${base} answered a one-token request to ${model}` };
  if (response.status === 401 || response.status === 403) {
    return {
      name: NAME,
      status: 'fail',
      summary: `${base} refused ${variable} (${said})`,
      fix: `set a valid ${variable} (a new key from the Anthropic Console)`,
    };
  }
  // Past authentication: the credential was accepted, but something else is off (model name, rate limit, overload).
  const fix =
    response.status === 404 || response.status === 400
      ? `the probe's model may be unknown there: set ANTHROPIC_DEFAULT_HAIKU_MODEL to a model your account has`
      : 'try again later; runs retry such answers themselves';
  return { name: NAME, status: 'warn', summary: `${variable} is set; ${base} answered ${said}`, fix };
}

/** Whether credentials are there, and (online) whether they work. */
export async function checkModel(env: Env, options: { online: boolean; timeoutMs: number }): Promise<CheckResult> {
  if (!hasModelCredentials(env)) {
    return {
      name: NAME,
      status: 'fail',
      summary: 'none set: every run would end as an error ("Not logged in")',
      fix: 'set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN, CLAUDE_CODE_OAUTH_TOKEN, or CLAUDE_CODE_USE_BEDROCK / CLAUDE_CODE_USE_VERTEX with their cloud credentials)',
    };
  }
  const found = credential(env);
  if (!found) {
    const cloud = env.CLAUDE_CODE_USE_BEDROCK ? 'Amazon Bedrock' : 'Google Vertex AI';
    return { name: NAME, status: 'ok', summary: `${cloud} (its cloud credentials are not checked here)` };
  }
  if (!options.online) return { name: NAME, status: 'ok', summary: `${found.variable} is set (not tried: add --online to send one tiny request)` };
  return probe(env, found.variable, found.headers, options.timeoutMs);
}

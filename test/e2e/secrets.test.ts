import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeAnthropic, type FakeAnthropic } from '../fake-anthropic/fake-anthropic-server.js';
import { disposeServer, startServerProcess, waitFor, type ServerProcess } from '../support/server-process.js';

/**
 * An agent's secret end to end: the built server, the real Agent SDK and `claude`, the fake model.
 * The secret reaches a Bash command's environment; when the model echoes the command's output
 * back, the stored output shows `[secret:NAME]`; no API response and no log line (at trace level)
 * carries the value.
 */

const VALUE = 'xoxb-e2e-secret-7f3a9c1d2b4e';
const FINAL = new Set(['success', 'error', 'budget_exceeded', 'cancelled']);

interface RunJson {
  id: string;
  status: string;
  output: string | null;
}

let fake: FakeAnthropic;
let server: ServerProcess;
/** The text of every API response of the test. */
const responses: string[] = [];

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await server.request<T>(method, path, body);
  responses.push(JSON.stringify(response.body));
  return response;
}

beforeAll(async () => {
  fake = await startFakeAnthropic();
  server = await startServerProcess({ env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: 'sk-ant-test-key', LOG_LEVEL: 'trace' } });
}, 60_000);

afterAll(async () => {
  if (server) {
    await disposeServer(server);
  }
  await fake?.close();
}, 60_000);

describe('a secret in a run with the real Agent SDK', () => {
  it('reaches the Bash command as an environment variable and is redacted from the stored output and the logs', { timeout: 90_000 }, async () => {
    const created = await api<{ data: { id: string } }>('POST', '/api/agents', {
      name: 'secret-echo',
      schedule: '0 0 1 1 *',
      allowedTools: ['Bash'],
      prompt: '[[fake: tool_turns=1 command="echo token=$SLACK_TOKEN" text="The command printed: {last_tool_result}"]]',
    });
    expect(created.status).toBe(200);
    const agentId = created.body.data.id;
    const set = await api<{ data: { name: string } }>('PUT', `/api/agents/${agentId}/secrets/SLACK_TOKEN`, { value: VALUE });
    expect(set.status).toBe(200);
    expect(set.body.data.name).toBe('SLACK_TOKEN');

    const started = await api<{ runId: string }>('POST', `/api/agents/${agentId}/run`);
    const run = await waitFor(
      async () => {
        const runs = (await api<{ data: RunJson[] }>('GET', `/api/agents/${agentId}/runs`)).body.data;
        const found = runs.find((r) => r.id === started.body.runId);
        return found && FINAL.has(found.status) ? found : undefined;
      },
      60_000,
      'the run to end',
    );

    // The command saw the value: the model was sent it as the tool's output...
    const toolResults = fake.mainRequests().map((r) => JSON.stringify(r.body));
    expect(
      toolResults.some((body) => body.includes(`token=${VALUE}`)),
      'the Bash command printed the secret',
    ).toBe(true);
    // ... and the stored output, where the model echoed it, has the name instead.
    expect(run.status, run.output ?? '').toBe('success');
    expect(run.output).toContain('The command printed: token=[secret:SLACK_TOKEN]');

    await api('GET', `/api/agents/${agentId}/secrets`);
    await api('GET', `/api/agents/${agentId}`);
    for (const text of responses) expect(text).not.toContain(VALUE);
    expect(server.output()).not.toContain(VALUE);
    expect(server.output()).toContain('secret set');
  });
});

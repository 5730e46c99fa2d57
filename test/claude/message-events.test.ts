import type { SDKMessage } from '@anthropic-ai/claude-agent-sdk';
import { describe, expect, it } from 'vitest';
import { messageEvents } from '../../src/claude/message-events.js';

/** An SDK message as the CLI sends it, with only the fields the mapping reads (the rest do not matter to it). */
function sdk(fields: Record<string, unknown>): SDKMessage {
  return { uuid: 'u', session_id: 's', ...fields } as unknown as SDKMessage;
}

function assistant(content: unknown[], extra: Record<string, unknown> = {}): SDKMessage {
  return sdk({ type: 'assistant', parent_tool_use_id: null, message: { id: 'msg_1', role: 'assistant', content }, ...extra });
}

function user(content: unknown, extra: Record<string, unknown> = {}): SDKMessage {
  return sdk({ type: 'user', parent_tool_use_id: null, message: { role: 'user', content }, ...extra });
}

describe('messageEvents', () => {
  it('maps system/init to init with the model, tools and MCP servers', () => {
    const init = sdk({
      type: 'system',
      subtype: 'init',
      model: 'claude-sonnet-4-5',
      tools: ['Bash', 'Read'],
      mcp_servers: [{ name: 'github', status: 'connected', source: 'dynamic' }],
      cwd: '/x',
    });
    expect(messageEvents(init)).toEqual([
      { type: 'init', model: 'claude-sonnet-4-5', tools: ['Bash', 'Read'], mcpServers: [{ name: 'github', status: 'connected' }] },
    ]);
  });

  it('maps each content block of an assistant message, in order', () => {
    const m = assistant([
      { type: 'thinking', thinking: 'Let me look', signature: 'sig' },
      { type: 'text', text: 'I will list the files.' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
      { type: 'text', text: '' },
      { type: 'redacted_thinking', data: 'xx' },
    ]);
    expect(messageEvents(m)).toEqual([
      { type: 'thinking', text: 'Let me look' },
      { type: 'text', text: 'I will list the files.' },
      { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } },
    ]);
  });

  it('maps tool results of a user message, their content as text', () => {
    const m = user([
      { type: 'tool_result', tool_use_id: 'toolu_1', content: 'a.txt\nb.txt', is_error: false },
      {
        type: 'tool_result',
        tool_use_id: 'toolu_2',
        content: [
          { type: 'text', text: 'line 1' },
          { type: 'image', source: {} },
          { type: 'text', text: 'line 2' },
        ],
      },
      { type: 'tool_result', tool_use_id: 'toolu_3', is_error: true, content: 'Permission denied' },
      { type: 'text', text: 'not a tool result' },
    ]);
    expect(messageEvents(m)).toEqual([
      { type: 'tool_result', toolUseId: 'toolu_1', isError: false, content: 'a.txt\nb.txt' },
      { type: 'tool_result', toolUseId: 'toolu_2', isError: false, content: 'line 1\n[image]\nline 2' },
      { type: 'tool_result', toolUseId: 'toolu_3', isError: true, content: 'Permission denied' },
    ]);
    expect(messageEvents(user('a plain prompt'))).toEqual([]);
  });

  it("marks a subagent's events with the Task call that started it", () => {
    expect(messageEvents(assistant([{ type: 'text', text: 'sub' }], { parent_tool_use_id: 'toolu_task' }))).toEqual([
      { type: 'text', text: 'sub', parentToolUseId: 'toolu_task' },
    ]);
    expect(messageEvents(user([{ type: 'tool_result', tool_use_id: 't', content: 'r' }], { parent_tool_use_id: 'toolu_task' }))).toEqual([
      { type: 'tool_result', toolUseId: 't', isError: false, content: 'r', parentToolUseId: 'toolu_task' },
    ]);
  });

  it('maps an API error message and a retry to error events', () => {
    const failed = assistant([{ type: 'text', text: 'API Error: 400 bad request' }], { error: 'invalid_request' });
    expect(messageEvents(failed)).toEqual([{ type: 'error', message: 'API Error: 400 bad request' }]);
    const retry = sdk({ type: 'system', subtype: 'api_retry', attempt: 2, max_retries: 10, retry_delay_ms: 500, error_status: 529, error: 'server_error' });
    expect(messageEvents(retry)).toEqual([{ type: 'error', message: 'API error 529 (server_error); trying again (attempt 2 of 10)' }]);
  });

  it('stands for nothing on a result, a replayed user message or any other message', () => {
    expect(messageEvents(sdk({ type: 'result', subtype: 'success', result: 'x' }))).toEqual([]);
    expect(messageEvents(user([{ type: 'tool_result', tool_use_id: 't', content: 'r' }], { isReplay: true }))).toEqual([]);
    expect(messageEvents(sdk({ type: 'system', subtype: 'status', status: 'requesting' }))).toEqual([]);
    expect(messageEvents(sdk({ type: 'stream_event', event: {} }))).toEqual([]);
  });
});

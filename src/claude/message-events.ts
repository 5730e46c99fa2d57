import type { SDKAssistantMessage, SDKMessage, SDKUserMessage } from '@anthropic-ai/claude-agent-sdk';
import type { RunEventInput } from '../domain/run-events.js';

/**
 * The transcript events an SDK message stands for (src/domain/run-events.ts), in order:
 *   system/init       -> init (model, tools, MCP servers and their status)
 *   assistant         -> text, thinking, tool_use per content block; an API error -> error
 *   user              -> tool_result per tool_result block (content as text)
 *   system/api_retry  -> error (the API failed; the CLI tries again)
 * Events of a subagent carry `parentToolUseId`. Usage and the result are the executor's (from
 * the run's progress and outcome); every other message stands for none. Texts are given whole:
 * the executor redacts and cuts them.
 */
export function messageEvents(m: SDKMessage): RunEventInput[] {
  switch (m.type) {
    case 'system':
      if (m.subtype === 'init') {
        return [{ type: 'init', model: m.model, tools: [...m.tools], mcpServers: m.mcp_servers.map(({ name, status }) => ({ name, status })) }];
      }
      if (m.subtype === 'api_retry') {
        const status = m.error_status === null ? '' : ` ${m.error_status}`;
        return [{ type: 'error', message: `API error${status} (${m.error}); trying again (attempt ${m.attempt} of ${m.max_retries})` }];
      }
      return [];
    case 'assistant':
      return withParent(assistantEvents(m), m.parent_tool_use_id);
    case 'user':
      return 'isReplay' in m && m.isReplay ? [] : withParent(toolResults(m), m.parent_tool_use_id);
    default:
      return [];
  }
}

function withParent(events: RunEventInput[], parentToolUseId: string | null): RunEventInput[] {
  return parentToolUseId ? events.map((event) => ({ ...event, parentToolUseId })) : events;
}

function assistantEvents(m: SDKAssistantMessage): RunEventInput[] {
  const content = Array.isArray(m.message?.content) ? m.message.content : [];
  if (m.error) {
    // A synthetic message standing for a failed API call: its text is the error.
    const text = content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
    return [{ type: 'error', message: text.trim() || `API error (${m.error})` }];
  }
  const events: RunEventInput[] = [];
  for (const block of content) {
    switch (block.type) {
      case 'text':
        if (block.text !== '') events.push({ type: 'text', text: block.text });
        break;
      case 'thinking':
        if (block.thinking !== '') events.push({ type: 'thinking', text: block.thinking });
        break;
      case 'tool_use':
      case 'server_tool_use':
      case 'mcp_tool_use':
        events.push({ type: 'tool_use', id: block.id, name: block.name, input: block.input });
        break;
      case 'mcp_tool_result':
        events.push({ type: 'tool_result', toolUseId: block.tool_use_id, isError: block.is_error, content: contentText(block.content) });
        break;
      default:
        break;
    }
  }
  return events;
}

function toolResults(m: SDKUserMessage): RunEventInput[] {
  const content = m.message?.content;
  if (!Array.isArray(content)) return [];
  const events: RunEventInput[] = [];
  for (const block of content) {
    if (block.type !== 'tool_result') continue;
    events.push({ type: 'tool_result', toolUseId: block.tool_use_id, isError: block.is_error === true, content: contentText(block.content) });
  }
  return events;
}

/** A tool result's content as text: its text blocks, and a placeholder for each other block (an image). */
function contentText(content: string | readonly { type: string; text?: unknown }[] | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return content.map((block) => (block.type === 'text' && typeof block.text === 'string' ? block.text : `[${block.type}]`)).join('\n');
}

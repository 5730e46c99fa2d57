import type { PlainEvent, TimelineItem, UsageEvent } from '../transcript-timeline';
import { compact, count, duration, longDateTime, usd } from '../format';
import { StatusBadge } from './bits';
import { AlertIcon } from './icons';
import { Markdown } from './markdown';
import { ToolStep } from './tool-step';

/** A run's transcript as a list of steps, in order; a subagent's steps are indented under the call that started them. */

interface TimelineProps {
  items: TimelineItem[];
  /** The run is still going: calls without a result are running. */
  live: boolean;
  /** The first event's instant: each step says how long after it it came. */
  origin: number;
  label?: string;
}

export function RunTimeline({ items, live, origin, label = 'Transcript' }: TimelineProps) {
  return (
    <ol class="timeline" aria-label={label}>
      {items.map((item) => (
        <TimelineEntry key={item.key} item={item} live={live} origin={origin} />
      ))}
    </ol>
  );
}

function Offset({ at, origin }: { at: string; origin: number }) {
  return (
    <time class="step-time" dateTime={at} title={longDateTime(at)}>
      +{duration(Math.max(0, Date.parse(at) - origin))}
    </time>
  );
}

function TimelineEntry({ item, live, origin }: { item: TimelineItem; live: boolean; origin: number }) {
  if (item.kind === 'tool') {
    return (
      <li class="tl-item tl-tool">
        <ToolStep item={item} live={live} />
        {item.children.length > 0 ? (
          <div class="subagent">
            <RunTimeline items={item.children} live={live} origin={origin} label={`Subagent steps of ${item.use.name}`} />
          </div>
        ) : null}
      </li>
    );
  }
  if (item.kind === 'usage') return <UsageLine event={item.event} />;
  return (
    <li class={`tl-item tl-${item.event.type}${item.orphan ? ' subagent' : ''}`} data-testid={`event-${item.event.type}`}>
      <EventBody event={item.event} />
      <Offset at={item.event.at} origin={origin} />
    </li>
  );
}

/** Usage so far, between the steps it followed. */
function UsageLine({ event }: { event: UsageEvent }) {
  return (
    <li class="tl-item tl-usage" data-testid="event-usage">
      <span class="usage-figures" title={`${count(event.inputTokens)} input tokens, ${count(event.outputTokens)} output tokens`}>
        <span class="sr-only">Usage so far: </span>
        {usd(event.costUsd)} · {compact(event.inputTokens)} in / {compact(event.outputTokens)} out · {event.numTurns} {event.numTurns === 1 ? 'turn' : 'turns'}
      </span>
    </li>
  );
}

function EventBody({ event }: { event: PlainEvent }) {
  switch (event.type) {
    case 'init':
      return (
        <div class="init-line">
          <span class="tl-label">Started</span> <code>{event.model}</code> · {event.tools.length} {event.tools.length === 1 ? 'tool' : 'tools'}
          {event.mcpServers.map((server) => (
            <span key={server.name} class={server.status === 'connected' ? 'mcp-server' : 'mcp-server mcp-failed'}>
              {server.status === 'connected' ? null : <AlertIcon />}
              MCP <code>{server.name}</code>: {server.status}
            </span>
          ))}
        </div>
      );
    case 'text':
      return (
        <div class="answer-text">
          <Markdown text={event.text} />
        </div>
      );
    case 'thinking':
      return (
        <details class="thinking">
          <summary>Thinking</summary>
          <pre class="step-pre">{event.text}</pre>
        </details>
      );
    case 'tool_result':
      return (
        <div class={event.isError ? 'output-error' : ''}>
          <div class="output-label">Result of a call not in the transcript</div>
          <pre class="step-pre">{event.content}</pre>
        </div>
      );
    case 'result':
      return (
        <div class="result-line">
          <span class="tl-label">Finished</span> <StatusBadge status={event.status} /> {usd(event.costUsd)} · {compact(event.inputTokens)} in /{' '}
          {compact(event.outputTokens)} out · {event.numTurns} {event.numTurns === 1 ? 'turn' : 'turns'}
        </div>
      );
    case 'error':
    case 'truncated':
      return (
        <div class="output-error" role="note">
          <div class="output-label">
            <AlertIcon /> {event.type === 'error' ? 'Error' : 'Transcript cut'}
          </div>
          <pre class="step-pre" data-testid="event-message">
            {event.message}
          </pre>
        </div>
      );
  }
}

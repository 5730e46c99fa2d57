import type { RunEvent } from './api';

/**
 * A transcript as the run page shows it: each tool call one step holding its result, the steps
 * of a subagent inside the call (Task) that started it, and each series of usage events as its
 * newest figure (usage rises from one step to the next).
 */

export type ToolUseEvent = Extract<RunEvent, { type: 'tool_use' }>;
export type ToolResultEvent = Extract<RunEvent, { type: 'tool_result' }>;
export type UsageEvent = Extract<RunEvent, { type: 'usage' }>;
/** Events shown as they are. */
export type PlainEvent = Exclude<RunEvent, ToolUseEvent | UsageEvent>;

export interface ToolStepItem {
  kind: 'tool';
  key: string;
  use: ToolUseEvent;
  /** Null while the call runs (or when its result was not recorded). */
  result: ToolResultEvent | null;
  /** What a subagent started by this call did. */
  children: TimelineItem[];
}

export type TimelineItem =
  | ToolStepItem
  | { kind: 'usage'; key: string; event: UsageEvent }
  /** `orphan`: a subagent's event whose call is not in the transcript (cut by its size limit). */
  | { kind: 'event'; key: string; event: PlainEvent; orphan: boolean };

/** The timeline of `events` (in seq order). */
export function transcriptTimeline(events: readonly RunEvent[]): TimelineItem[] {
  const top: TimelineItem[] = [];
  const calls = new Map<string, ToolStepItem>();
  for (const event of events) {
    const parent = event.parentToolUseId ? calls.get(event.parentToolUseId) : undefined;
    const list = parent ? parent.children : top;
    const key = `e${event.seq}`;
    if (event.type === 'tool_use') {
      const item: ToolStepItem = { kind: 'tool', key, use: event, result: null, children: [] };
      calls.set(event.id, item);
      list.push(item);
    } else if (event.type === 'tool_result' && calls.has(event.toolUseId)) {
      const call = calls.get(event.toolUseId);
      if (call) call.result = event;
    } else if (event.type === 'usage') {
      const item: TimelineItem = { kind: 'usage', key, event };
      if (list.at(-1)?.kind === 'usage') list[list.length - 1] = item;
      else list.push(item);
    } else {
      list.push({ kind: 'event', key, event, orphan: Boolean(event.parentToolUseId) && !parent });
    }
  }
  return top;
}

/** The newest usage figure of the whole run (a subagent's included), or null before the first. */
export function latestUsage(events: readonly RunEvent[]): UsageEvent | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const event = events[i];
    if (event?.type === 'usage') return event;
  }
  return null;
}

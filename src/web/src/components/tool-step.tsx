import type { ToolStepItem } from '../transcript-timeline';
import { duration } from '../format';
import { AlertIcon, CheckIcon, ChevronIcon, Spinner } from './icons';

/** One tool call of a transcript: a line saying what was called and how it went, opened to show the input and the result. */

/** The input fields that say best what a call does, in order of preference. */
const BRIEF_KEYS = ['command', 'file_path', 'path', 'pattern', 'url', 'query', 'description', 'prompt', 'subagent_type'];
const BRIEF_MAX = 140;

/** A line for the call's summary: its command, file or query, else its first text field. */
export function briefInput(input: unknown): string {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return '';
  const entries = Object.entries(input);
  const chosen =
    BRIEF_KEYS.map((key) => entries.find(([name, value]) => name === key && typeof value === 'string')).find(Boolean) ??
    entries.find(([, value]) => typeof value === 'string');
  const text = chosen ? String(chosen[1]).replace(/\s+/g, ' ').trim() : '';
  return text.length > BRIEF_MAX ? `${text.slice(0, BRIEF_MAX - 1)}…` : text;
}

type StepState = 'running' | 'done' | 'error' | 'no-result';

function stateOf(item: ToolStepItem, live: boolean): StepState {
  if (item.result) return item.result.isError ? 'error' : 'done';
  return live ? 'running' : 'no-result';
}

function StepStatus({ state, item }: { state: StepState; item: ToolStepItem }) {
  const took = item.result ? duration(Date.parse(item.result.at) - Date.parse(item.use.at)) : null;
  if (state === 'running')
    return (
      <span class="step-status">
        <Spinner />
        Running…
      </span>
    );
  if (state === 'no-result') return <span class="step-status muted">No result recorded</span>;
  return (
    <span class={`step-status step-${state}`}>
      {state === 'error' ? <AlertIcon /> : <CheckIcon />}
      {state === 'error' ? 'Error' : 'Done'}
      {took ? <span class="muted"> · {took}</span> : null}
    </span>
  );
}

function inputText(input: unknown): string {
  return typeof input === 'string' ? input : (JSON.stringify(input, null, 2) ?? '');
}

/** `live`: the run is still going, so a call without a result is running. A failed call starts open. */
export function ToolStep({ item, live }: { item: ToolStepItem; live: boolean }) {
  const state = stateOf(item, live);
  const brief = briefInput(item.use.input);
  return (
    <details class={`tool-step tool-step-${state}`} open={state === 'error' ? true : undefined} data-testid="tool-step" data-state={state}>
      <summary>
        <ChevronIcon class="icon chevron" />
        <span class="step-title">
          <span class="tool-name">{item.use.name}</span>
          {brief ? <code class="tool-brief">{brief}</code> : null}
        </span>
        <StepStatus state={state} item={item} />
      </summary>
      <div class="step-body">
        <div class="output-label">Input</div>
        <pre class="step-pre" data-testid="tool-input">
          {inputText(item.use.input)}
        </pre>
        {item.result ? (
          <>
            <div class="output-label">{item.result.isError ? 'Result (error)' : 'Result'}</div>
            <pre class={item.result.isError ? 'step-pre step-pre-error' : 'step-pre'} data-testid="tool-result">
              {item.result.content === '' ? <span class="muted">(empty)</span> : item.result.content}
            </pre>
            {item.result.truncated ? <p class="muted small">Cut to the first 16 KiB: the transcript keeps no more of a tool's result.</p> : null}
          </>
        ) : null}
      </div>
    </details>
  );
}

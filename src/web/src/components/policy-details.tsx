import type { Agent } from '../api';
import { OVERLAP_LABELS, capsWords, pauseWords, retryWords } from '../policy-words';

/** An agent's spend caps and scheduling policies: entries of its settings list. */
export function PolicyDetails({ agent }: { agent: Agent }) {
  const caps = capsWords(agent);
  return (
    <>
      <div>
        <dt>Spend caps (UTC)</dt>
        <dd data-testid="agent-caps">{caps ?? <span class="muted">None</span>}</dd>
      </div>
      <div>
        <dt>While a run is still going</dt>
        <dd data-testid="agent-overlap">{OVERLAP_LABELS[agent.overlapPolicy]}</dd>
      </div>
      <div>
        <dt>Failures</dt>
        <dd data-testid="agent-failure-policy">
          <div>{retryWords(agent)}</div>
          <div class="muted small">{pauseWords(agent)}</div>
        </dd>
      </div>
    </>
  );
}

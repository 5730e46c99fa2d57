import type { Run } from '../api';
import { count, shortDateTime } from '../format';
import { Link } from '../router';
import '../spend-and-policies.css';

/** How issue 11's runs read: a retry's attempt and first run, and a skipped run's reason and slots. */

/** "Schedule", "Manual", "Retry (attempt 2)". */
export function triggerWords(run: Pick<Run, 'trigger' | 'attempt'>): string {
  if (run.trigger === 'retry') return `Retry (attempt ${run.attempt})`;
  return run.trigger === 'schedule' ? 'Schedule' : 'Manual';
}

/** The run a retry retries (the chain's first run), linked. */
export function RetryOf({ run }: { run: Pick<Run, 'retryOf'> }) {
  if (!run.retryOf) return null;
  return (
    <div class="muted small" data-testid="retry-of">
      retries <Link href={`/runs/${encodeURIComponent(run.retryOf)}`}>the first run</Link>
    </div>
  );
}

/** The first line of a skipped run's output: it says why (the previous run still going, a cap, downtime). */
function reasonOf(run: Pick<Run, 'output'>): string {
  const line = (run.output ?? '').split('\n')[0]?.trim() ?? '';
  return line === '' ? 'Skipped' : line;
}

/** "12 slots, the last Jan 5, 09:10:00"; one slot: its time. */
export function slotsWords(run: Pick<Run, 'skippedSlots' | 'lastSkippedFor' | 'scheduledFor'>): string | null {
  const slots = run.skippedSlots;
  if (slots === null) return null;
  if (slots <= 1) return run.scheduledFor ? `1 slot, ${shortDateTime(run.scheduledFor)}` : null;
  return `${count(slots)} slots, the last ${shortDateTime(run.lastSkippedFor)}`;
}

/** A skipped run's reason and the slots it stands for: what its row shows instead of duration, cost and tokens. */
export function SkipReason({ run }: { run: Run }) {
  const slots = slotsWords(run);
  return (
    <div class="skip-reason" data-testid="skip-reason">
      <span>{reasonOf(run)}</span>
      {slots ? (
        <span class="muted small" data-testid="skipped-slots">
          {' '}
          · {slots}
        </span>
      ) : null}
    </div>
  );
}

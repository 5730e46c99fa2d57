import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Run, RunEvent } from './api';
import { openRunStream, type StreamState } from './run-stream';

/** A run's transcript as the page holds it, kept up to date by the run's stream. */
export interface RunTranscript {
  /** Every event received, in order, each once. */
  events: RunEvent[];
  /** The run as the stream's `end` gave it; null until then. */
  ended: Run | null;
  state: StreamState | 'ended';
  /** Opens the stream again after a failure, from the last event received. */
  retry: () => void;
}

/**
 * Follows the stream of `runId` once `start` is true, until its `end`. Events that arrive
 * together (the replay of a long transcript) are rendered together, once a frame; an event seen
 * before (a reconnection resends nothing, but a retry might) is dropped by its seq.
 */
export function useRunTranscript(runId: string, start: boolean): RunTranscript {
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [ended, setEnded] = useState<Run | null>(null);
  const [state, setState] = useState<RunTranscript['state']>('connecting');
  const [attempt, setAttempt] = useState(0);
  const lastSeq = useRef(0);

  useEffect(() => {
    if (!start) return;
    let pending: RunEvent[] = [];
    let frame = 0;
    const flush = () => {
      cancelAnimationFrame(frame);
      frame = 0;
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      setEvents((list) => [...list, ...batch]);
    };
    const close = openRunStream(runId, lastSeq.current, {
      onEvent: (event) => {
        if (event.seq <= lastSeq.current) return;
        lastSeq.current = event.seq;
        pending.push(event);
        frame ||= requestAnimationFrame(flush);
      },
      onEnd: (run) => {
        flush();
        setEnded(run);
        setState('ended');
      },
      onState: setState,
    });
    return () => {
      close();
      flush();
    };
  }, [runId, start, attempt]);

  const retry = useCallback(() => setAttempt((n) => n + 1), []);
  return { events, ended, state, retry };
}

import { useState } from 'preact/hooks';
import { ApiError, authHeaders, cancelAgent, fetchTranscript, runPath, type Run } from '../api';
import { toast } from './feedback';
import { StopIcon } from './icons';

/** The run page's buttons: cancel a run still going, and download the transcript. */

/** A pasted token cannot ride on a plain link: the file is fetched with it and handed over. */
async function downloadWithToken(run: Run): Promise<void> {
  try {
    const url = URL.createObjectURL(await fetchTranscript(run.id));
    const link = document.createElement('a');
    link.href = url;
    link.download = `run-${run.id}.jsonl`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    toast('error', error instanceof Error ? error.message : String(error));
  }
}

export function RunActions({ run, live, canWrite }: { run: Run; live: boolean; canWrite: boolean }) {
  const [cancelling, setCancelling] = useState(false);
  const cancel = async () => {
    setCancelling(true);
    try {
      toast('success', (await cancelAgent(run.agentId)).message);
      // The button stays disabled: the stream's end shows the run cancelled.
    } catch (error) {
      toast('error', error instanceof ApiError ? error.message : String(error));
      setCancelling(false);
    }
  };
  return (
    <div class="header-actions">
      {canWrite && live ? (
        <button type="button" class="button" onClick={cancel} disabled={cancelling} title="Cancels what the agent is running now">
          <StopIcon />
          Cancel run
        </button>
      ) : null}
      <a
        class="button"
        href={`${runPath(run.id)}/transcript.jsonl`}
        download={`run-${run.id}.jsonl`}
        onClick={(event) => {
          if (!authHeaders().authorization) return;
          event.preventDefault();
          void downloadWithToken(run);
        }}
      >
        Download JSONL
      </a>
    </div>
  );
}

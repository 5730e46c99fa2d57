import { expect } from 'vitest';
import { encodeRunEvent, type RunEventBody } from '../../src/domain/run-events.js';
import { ZERO_USAGE, type RunOutcome } from '../../src/domain/types.js';
import type { TestApp } from '../support/test-app.js';
import { createAgent, triggerRun } from './api-helpers.js';

/** The executor id of "another instance" that the tests play through the shared store. */
export const OTHER_INSTANCE = 'other-instance:1:abcd';

/** A run that another instance executes: queued through the API, claimed through the store as OTHER_INSTANCE. */
export interface RemoteRun {
  runId: string;
  agentId: string;
  /** Appends events as that instance's writer would (numbered on from the last). */
  append(events: RunEventBody[]): Promise<void>;
  /** Ends the run as that instance would. */
  finish(outcome?: Partial<RunOutcome>): Promise<void>;
}

/** Needs an app that executes no runs itself (`runnerEnabled: false`), or its executor would claim the run first. */
export async function remoteRun(t: TestApp): Promise<RemoteRun> {
  const agent = await createAgent(t);
  const runId = await triggerRun(t, agent.id);
  const claimed = await t.app.store.claimQueuedRun(OTHER_INSTANCE, t.clock.now(), t.clock.now() + 3_600_000);
  expect(claimed?.run.id).toBe(runId);
  let seq = 0;
  return {
    runId,
    agentId: agent.id,
    async append(events) {
      const encoded = events.map((event) => encodeRunEvent({ ...event, seq: ++seq, at: t.clock.now() }));
      // A hundred a statement, as the executor's writer flushes them.
      for (let i = 0; i < encoded.length; i += 100) {
        expect(await t.app.store.appendRunEvents(runId, OTHER_INSTANCE, encoded.slice(i, i + 100))).toBe(true);
      }
    },
    async finish(outcome = {}) {
      const done = { ...ZERO_USAGE, costUsd: 0.25, numTurns: 3, status: 'success' as const, output: 'done', ...outcome };
      expect(await t.app.store.finishRun(runId, OTHER_INSTANCE, done, t.clock.now())).toBe(true);
    },
  };
}

/** `count` text events: `text 1`, `text 2`... after `from`. */
export function texts(count: number, from = 0): RunEventBody[] {
  return Array.from({ length: count }, (_, i) => ({ type: 'text' as const, text: `text ${from + i + 1}` }));
}

/** A tool call and its result. */
export function toolCall(id: string, command: string, result: string): RunEventBody[] {
  return [
    { type: 'tool_use', id, name: 'Bash', input: { command } },
    { type: 'tool_result', toolUseId: id, isError: false, content: result },
  ];
}

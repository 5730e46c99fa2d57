import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planAgentUpdate, planNewAgent, type AgentInput } from '../../src/domain/agent-fields.js';
import { ZERO_USAGE, type Agent, type FinalRunStatus, type Run } from '../../src/domain/types.js';
import type { WebhookEventType } from '../../src/domain/webhook-events.js';
import type { Webhook } from '../../src/domain/webhooks.js';
import type { MissedTickSlots, Store, TickResult } from '../../src/store/store.js';
import { dialectsUnderTest } from '../support/dialects.js';

/**
 * Issue 11's policies in the store, on both dialects: retries (durable rows, backoff, claimed
 * not before their time), pauses after failures, overlap policies at the tick and at the claim,
 * skipped rows coalesced by cause (overlap, caps, downtime), and what a restart keeps.
 */

const T0 = Date.parse('2026-01-05T08:00:00.000Z');
const SECOND = 1000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const SLOT_9 = Date.parse('2026-01-05T09:00:00.000Z');

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`policies in the store (${dialect.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await dialect.open({ maxConnections: 12 });
    });
    afterEach(async () => {
      await store.close();
    });

    async function newAgent(overrides: Partial<AgentInput> = {}): Promise<Agent> {
      const { fields, nextFireAt } = planNewAgent({ name: `agent-${randomUUID().slice(0, 8)}`, schedule: '0 * * * *', prompt: 'p', ...overrides }, T0);
      return store.createAgent(fields, null, nextFireAt, T0);
    }

    /** Queues a manual run and claims it (it must be the one claimed); returns its id. */
    async function startManual(agentId: string, at: number, executor = 'exec'): Promise<string> {
      const runId = randomUUID();
      await store.enqueueManualRun(agentId, runId, at);
      expect((await store.claimQueuedRun(executor, at, at + MINUTE))?.run.id).toBe(runId);
      return runId;
    }

    async function finish(runId: string, status: FinalRunStatus, at: number, costUsd = 0, executor = 'exec'): Promise<void> {
      expect(await store.finishRun(runId, executor, { ...ZERO_USAGE, status, output: `${status} output`, costUsd }, at)).toBe(true);
    }

    /** The agent's runs, oldest first. */
    async function runsOf(agentId: string): Promise<Run[]> {
      return (await store.listRuns(agentId, { limit: 1000, since: null })).reverse();
    }

    /** Claims the agent's due tick for `slot` (its current next fire time), planning `next` an hour on. */
    async function tick(agentId: string, slot: number, missed: MissedTickSlots | null = null, onCancel?: (ids: string[]) => void): Promise<TickResult> {
      const due = (await store.getAgent(agentId))!.nextFireAt!;
      const [result] = await store.claimTicks([{ agentId, due, next: slot + HOUR, slot, runId: randomUUID(), now: slot, missed }], undefined, onCancel);
      return result!;
    }

    async function webhook(events: WebhookEventType[]): Promise<Webhook> {
      const fields = { name: 'hook', url: 'https://hooks.example.com/x', events, agentIds: null, format: 'standard' as const, enabled: true };
      return store.createWebhook({ id: randomUUID(), fields, encryptedSecret: 'sealed' }, T0);
    }

    const eventTypes = async (hook: Webhook): Promise<WebhookEventType[]> => (await store.listDeliveries(hook.id, 100)).map((d) => d.eventType).sort();

    describe('retries', () => {
      it('a run that ends as error queues a durable retry with backoff, claimed not before its time, until maxRetries', async () => {
        const agent = await newAgent({ maxRetries: 2, retryDelaySeconds: 60 });
        const first = await startManual(agent.id, T0);
        await finish(first, 'error', T0 + 10 * SECOND);

        const [, retry1] = await runsOf(agent.id);
        expect(retry1).toMatchObject({
          status: 'queued',
          trigger: 'retry',
          retryOf: first,
          attempt: 2,
          notBefore: T0 + 70 * SECOND,
          queuedAt: T0 + 10 * SECOND,
        });
        expect(await store.claimQueuedRun('exec', T0 + 70 * SECOND - 1, T0 + HOUR)).toBeNull();
        expect((await store.claimQueuedRun('exec', T0 + 70 * SECOND, T0 + HOUR))?.run).toMatchObject({ id: retry1!.id, trigger: 'retry', attempt: 2 });
        await finish(retry1!.id, 'error', T0 + 80 * SECOND);

        // Doubled for the second retry, and still pointing at the chain's first run.
        const retry2 = (await runsOf(agent.id))[2]!;
        expect(retry2).toMatchObject({ trigger: 'retry', retryOf: first, attempt: 3, notBefore: T0 + 80 * SECOND + 120 * SECOND });
        expect(await store.claimQueuedRun('exec', T0 + 199 * SECOND, T0 + HOUR)).toBeNull();
        expect((await store.claimQueuedRun('exec', T0 + 200 * SECOND, T0 + HOUR))?.run.id).toBe(retry2.id);
        await finish(retry2.id, 'error', T0 + 210 * SECOND);

        // attempt 3 > maxRetries 2: the chain ends.
        expect((await runsOf(agent.id)).map((r) => [r.trigger, r.attempt, r.status])).toEqual([
          ['manual', 1, 'error'],
          ['retry', 2, 'error'],
          ['retry', 3, 'error'],
        ]);
      });

      it('only error is retried: not success, budget_exceeded or cancelled; and not for a disabled agent', async () => {
        const agent = await newAgent({ maxRetries: 3, retryDelaySeconds: 1 });
        for (const status of ['success', 'budget_exceeded', 'cancelled'] as const) await finish(await startManual(agent.id, T0), status, T0 + SECOND);
        expect((await runsOf(agent.id)).filter((r) => r.trigger === 'retry')).toEqual([]);

        const disabled = await newAgent({ maxRetries: 3, enabled: false });
        await finish(await startManual(disabled.id, T0), 'error', T0 + SECOND);
        expect((await runsOf(disabled.id)).map((r) => r.trigger)).toEqual(['manual']);
      });

      it('a retry queued before its agent was disabled ends as cancelled instead of starting', async () => {
        const agent = await newAgent({ maxRetries: 1, retryDelaySeconds: 1 });
        await finish(await startManual(agent.id, T0), 'error', T0 + SECOND);
        await store.updateAgent(agent.id, (current) => planAgentUpdate(current, { enabled: false }, T0 + 2 * SECOND), T0 + 2 * SECOND);
        expect(await store.claimQueuedRun('exec', T0 + MINUTE, T0 + HOUR)).toBeNull();
        const retry = (await runsOf(agent.id))[1]!;
        expect(retry).toMatchObject({ trigger: 'retry', status: 'cancelled', startedAt: null });
        expect(retry.output).toMatch(/disabled/);
      });

      it('runs the restart or the lease reaper end as error are retried (they were interrupted)', async () => {
        const agent = await newAgent({ maxRetries: 1, retryDelaySeconds: 5 });
        const crashed = await startManual(agent.id, T0, 'dead-process');
        expect(await store.endAbandonedRuns(T0 + MINUTE, { everything: true })).toEqual([crashed]);
        const retry = (await runsOf(agent.id))[1]!;
        expect(retry).toMatchObject({ trigger: 'retry', retryOf: crashed, attempt: 2, status: 'queued', notBefore: T0 + MINUTE + 5 * SECOND });

        const other = await newAgent({ maxRetries: 1, retryDelaySeconds: 5 });
        const lost = await startManual(other.id, T0, 'gone-instance');
        // The lease (a minute) ran out: the reaper ends it; the retry waits its delay.
        expect(await store.endAbandonedRuns(T0 + 2 * MINUTE, { everything: false })).toEqual([lost]);
        expect((await runsOf(other.id))[1]).toMatchObject({ trigger: 'retry', retryOf: lost, attempt: 2, notBefore: T0 + 2 * MINUTE + 5 * SECOND });
      });
    });

    describe('pause after failures', () => {
      it('disables the agent after N failed runs in a row (cancelled ones aside), says why, emits agent.paused, cancels its queued retries', async () => {
        const hook = await webhook(['agent.paused', 'run.cancelled']);
        const agent = await newAgent({ pauseAfterFailures: 2, maxRetries: 1, retryDelaySeconds: 600 });
        const first = await startManual(agent.id, T0);
        await finish(first, 'error', T0 + SECOND);
        const retry = (await runsOf(agent.id))[1]!;
        expect(retry).toMatchObject({ trigger: 'retry', status: 'queued' });
        // A cancelled run neither counts nor breaks the row.
        await finish(await startManual(agent.id, T0 + 2 * SECOND), 'cancelled', T0 + 3 * SECOND);
        expect((await store.getAgent(agent.id))!.enabled).toBe(true);
        const second = await startManual(agent.id, T0 + 4 * SECOND);
        await finish(second, 'budget_exceeded', T0 + 5 * SECOND);

        const paused = (await store.getAgent(agent.id))!;
        expect(paused).toMatchObject({ enabled: false, nextFireAt: null, pausedAt: T0 + 5 * SECOND });
        expect(paused.pausedReason).toMatch(/2 failed runs in a row/);
        expect(paused.pausedReason).toContain(second);
        expect((await store.getRun(retry.id))!).toMatchObject({ status: 'cancelled' });
        expect((await store.getRun(retry.id))!.output).toMatch(/paused/);
        expect(await eventTypes(hook)).toEqual(['agent.paused', 'run.cancelled', 'run.cancelled']);
        const claimed = await store.claimDeliveries('sender', T0 + HOUR, T0 + 2 * HOUR, 10);
        const event = claimed.find((d) => d.event.type === 'agent.paused')!.event;
        expect(event).toMatchObject({ agentId: agent.id, runId: null });
        expect(event.data).toMatchObject({ agent: { id: agent.id, name: agent.name }, consecutiveFailures: 2, pausedReason: paused.pausedReason });
        expect(event.data.lastRun).toMatchObject({ id: second, status: 'budget_exceeded' });
        // The audit trail says the service disabled it, and why.
        const audit = await store.listAudit({ agentId: agent.id, action: 'agent.disable', limit: 10 });
        expect(audit).toHaveLength(1);
        expect(audit[0]).toMatchObject({ actor: { userId: null, credential: 'system' }, details: { reason: paused.pausedReason, pausedAfterFailures: 2 } });

        // A further failure (a manual run of the paused agent) pauses nothing twice.
        await finish(await startManual(agent.id, T0 + 6 * SECOND), 'error', T0 + 7 * SECOND);
        expect((await eventTypes(hook)).filter((t) => t === 'agent.paused')).toHaveLength(1);

        // Enabling it again clears why it was paused, and schedules it again.
        const enabled = await store.updateAgent(agent.id, (current) => planAgentUpdate(current, { enabled: true }, T0 + MINUTE), T0 + MINUTE);
        expect(enabled).toMatchObject({ enabled: true, pausedReason: null, pausedAt: null, nextFireAt: SLOT_9 });
      });

      it('a success between failures starts the count again', async () => {
        const agent = await newAgent({ pauseAfterFailures: 2 });
        await finish(await startManual(agent.id, T0), 'error', T0 + SECOND);
        await finish(await startManual(agent.id, T0 + 2 * SECOND), 'success', T0 + 3 * SECOND);
        await finish(await startManual(agent.id, T0 + 4 * SECOND), 'error', T0 + 5 * SECOND);
        expect((await store.getAgent(agent.id))!).toMatchObject({ enabled: true, pausedReason: null });
        await finish(await startManual(agent.id, T0 + 6 * SECOND), 'error', T0 + 7 * SECOND);
        expect((await store.getAgent(agent.id))!.enabled).toBe(false);
      });
    });

    describe('overlap policies at the tick, and held-back runs at the claim', () => {
      it('skip: the blocked slots are one skipped row (one run.skipped), apart from the stats, the agent still moves on', async () => {
        const hook = await webhook(['run.skipped', 'run.succeeded']);
        const agent = await newAgent();
        const blocking = await startManual(agent.id, T0);
        expect(await tick(agent.id, SLOT_9)).toBe('skipped_overlap');
        expect(await tick(agent.id, SLOT_9 + HOUR)).toBe('skipped_overlap');
        expect(await tick(agent.id, SLOT_9 + 2 * HOUR)).toBe('skipped_overlap');
        expect((await store.getAgent(agent.id))!.nextFireAt).toBe(SLOT_9 + 3 * HOUR);
        const [, skipped, ...rest] = await runsOf(agent.id);
        expect(rest).toEqual([]);
        expect(skipped).toMatchObject({
          status: 'skipped',
          trigger: 'schedule',
          scheduledFor: SLOT_9,
          lastSkippedFor: SLOT_9 + 2 * HOUR,
          skippedSlots: 3,
          completedAt: SLOT_9 + 2 * HOUR,
          costUsd: 0,
          startedAt: null,
        });
        expect(skipped!.output).toContain(blocking);
        expect(await eventTypes(hook)).toEqual(['run.skipped']);
        // The agent's last run is the one that ran; stats count the row apart.
        expect((await store.getAgent(agent.id))!).toMatchObject({ lastStatus: 'running', lastRunAt: T0 });
        await finish(blocking, 'success', SLOT_9 + 2 * HOUR + 1);
        const stats = await store.agentStats(agent.id, T0 - HOUR, SLOT_9 + 3 * HOUR);
        expect(stats).toMatchObject({ totalRuns: 1, skippedRuns: 1, successRate: 100 });
        const global = await store.globalStats(T0 - HOUR, SLOT_9 + 3 * HOUR);
        expect(global).toMatchObject({ runsInPeriod: 1, skippedRuns: 1 });
        expect((await store.getAgent(agent.id))!).toMatchObject({ lastStatus: 'success', lastRunAt: T0 });

        // A run of the agent starting closes the row: the next blocked slot makes a new one.
        const next = await startManual(agent.id, SLOT_9 + 3 * HOUR - 1);
        expect(await tick(agent.id, SLOT_9 + 3 * HOUR)).toBe('skipped_overlap');
        const rows = (await runsOf(agent.id)).filter((r) => r.status === 'skipped');
        expect(rows.map((r) => [r.scheduledFor, r.skippedSlots])).toEqual([
          [SLOT_9, 3],
          [SLOT_9 + 3 * HOUR, 1],
        ]);
        expect(rows[1]!.output).toContain(next);
        expect(await eventTypes(hook)).toEqual(['run.skipped', 'run.skipped', 'run.succeeded']);
      });

      it('a run blocking slots while queued and then running keeps one row', async () => {
        const agent = await newAgent();
        expect(await tick(agent.id, SLOT_9)).toBe('fired');
        expect(await tick(agent.id, SLOT_9 + HOUR)).toBe('skipped_overlap');
        const claimed = await store.claimQueuedRun('exec', SLOT_9 + HOUR, SLOT_9 + 2 * HOUR);
        expect(claimed?.run.scheduledFor).toBe(SLOT_9);
        expect(await tick(agent.id, SLOT_9 + 2 * HOUR)).toBe('skipped_overlap');
        const skipped = (await runsOf(agent.id)).filter((r) => r.status === 'skipped');
        expect(skipped.map((r) => [r.skippedSlots, r.lastSkippedFor])).toEqual([[2, SLOT_9 + 2 * HOUR]]);
      });

      it('queue: one slot waits behind the running run and starts when it ends; a further slot is skipped', async () => {
        const agent = await newAgent({ overlapPolicy: 'queue' });
        const running = await startManual(agent.id, T0);
        expect(await tick(agent.id, SLOT_9)).toBe('fired');
        // Held back while the agent has a running run; a manual run is not.
        expect(await store.claimQueuedRun('exec', SLOT_9, SLOT_9 + HOUR)).toBeNull();
        expect(await tick(agent.id, SLOT_9 + HOUR)).toBe('skipped_overlap');
        const manual = randomUUID();
        await store.enqueueManualRun(agent.id, manual, SLOT_9 + HOUR + 1);
        expect((await store.claimQueuedRun('exec', SLOT_9 + HOUR + 2, SLOT_9 + 2 * HOUR))?.run.id).toBe(manual);
        await finish(manual, 'success', SLOT_9 + HOUR + 3);
        expect(await store.claimQueuedRun('exec', SLOT_9 + HOUR + 4, SLOT_9 + 2 * HOUR)).toBeNull();

        await finish(running, 'success', SLOT_9 + HOUR + 5);
        const waiting = await store.claimQueuedRun('exec', SLOT_9 + HOUR + 6, SLOT_9 + 2 * HOUR);
        expect(waiting?.run).toMatchObject({ trigger: 'schedule', scheduledFor: SLOT_9 });
        const skipped = (await runsOf(agent.id)).find((r) => r.status === 'skipped');
        expect(skipped).toMatchObject({ scheduledFor: SLOT_9 + HOUR, skippedSlots: 1 });
        expect(skipped!.output).toMatch(/queue/);
      });

      it('allow: slots run concurrently, never held back', async () => {
        const agent = await newAgent({ overlapPolicy: 'allow' });
        const running = await startManual(agent.id, T0);
        expect(await tick(agent.id, SLOT_9)).toBe('fired');
        expect(await tick(agent.id, SLOT_9 + HOUR)).toBe('fired');
        const a = await store.claimQueuedRun('exec', SLOT_9 + HOUR, SLOT_9 + 2 * HOUR);
        const b = await store.claimQueuedRun('exec', SLOT_9 + HOUR, SLOT_9 + 2 * HOUR);
        expect([a?.run.scheduledFor, b?.run.scheduledFor]).toEqual([SLOT_9, SLOT_9 + HOUR]);
        expect((await runsOf(agent.id)).filter((r) => r.status === 'running').map((r) => r.id)).toContain(running);
        expect((await runsOf(agent.id)).some((r) => r.status === 'skipped')).toBe(false);
      });

      it('replace: the running run is asked to stop, a waiting retry is cancelled, the new run starts once the old one ended', async () => {
        const agent = await newAgent({ overlapPolicy: 'replace', maxRetries: 1, retryDelaySeconds: 1 });
        const failed = await startManual(agent.id, T0);
        await finish(failed, 'error', T0 + 1);
        const retry = (await runsOf(agent.id))[1]!;
        const running = await startManual(agent.id, T0 + 2);
        const asked: string[][] = [];
        expect(await tick(agent.id, SLOT_9, null, (ids) => asked.push(ids))).toBe('fired');
        expect(asked).toEqual([[running]]);
        expect((await store.renewLeases('exec', [running], SLOT_9 + MINUTE)).cancelRequested).toEqual([running]);
        expect(await store.getRun(retry.id)).toMatchObject({ status: 'cancelled' });
        expect((await store.getRun(retry.id))!.output).toMatch(/replaced/);
        // Held back until the replaced run has stopped.
        expect(await store.claimQueuedRun('exec', SLOT_9 + 1, SLOT_9 + HOUR)).toBeNull();
        await finish(running, 'cancelled', SLOT_9 + 2);
        expect((await store.claimQueuedRun('exec', SLOT_9 + 3, SLOT_9 + HOUR))?.run).toMatchObject({ trigger: 'schedule', scheduledFor: SLOT_9 });
      });

      it('a retry waits behind a running run of its agent (skip policy), and blocks slots while it waits', async () => {
        const agent = await newAgent({ maxRetries: 1, retryDelaySeconds: 1 });
        await finish(await startManual(agent.id, T0), 'error', T0 + 1);
        const running = await startManual(agent.id, T0 + 2);
        expect(await store.claimQueuedRun('exec', T0 + MINUTE, T0 + HOUR)).toBeNull();
        expect(await tick(agent.id, SLOT_9)).toBe('skipped_overlap');
        await finish(running, 'success', SLOT_9 + 1);
        expect((await store.claimQueuedRun('exec', SLOT_9 + 2, SLOT_9 + HOUR))?.run.trigger).toBe('retry');
      });

      it('concurrent claimers never start two held-back runs of one agent at once', async () => {
        for (let round = 0; round < 8; round++) {
          const agent = await newAgent({ overlapPolicy: 'queue', maxRetries: 1, retryDelaySeconds: 1 });
          // A waiting slot and a waiting retry of the same agent, nothing running: only one may start.
          const running = await startManual(agent.id, T0);
          expect(await tick(agent.id, SLOT_9)).toBe('fired');
          await finish(running, 'error', SLOT_9 + 1);
          const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claimQueuedRun(`exec-${i}`, SLOT_9 + MINUTE, SLOT_9 + HOUR)));
          expect(claims.filter((c) => c !== null)).toHaveLength(1);
          const claimed = claims.find((c) => c !== null)!;
          await finish(claimed.run.id, 'success', SLOT_9 + 2 * MINUTE, 0, claimed.run.executorId!);
          // The other one now may start; out of the way of the next round.
          await store.requestCancel(agent.id, SLOT_9 + 3 * MINUTE);
        }
      });
    });

    describe('skipped rows of caps and downtime', () => {
      it('scheduled runs a used-up cap stops are one row per cap and window; a manual run is a row of its own', async () => {
        const agent = await newAgent({ dailyBudgetUsd: 1, overlapPolicy: 'allow' });
        await finish(await startManual(agent.id, T0), 'success', T0 + SECOND, 1.5);
        expect(await tick(agent.id, SLOT_9)).toBe('fired');
        expect(await tick(agent.id, SLOT_9 + HOUR)).toBe('fired');
        expect(await store.claimQueuedRun('exec', SLOT_9 + HOUR, SLOT_9 + 2 * HOUR)).toBeNull();
        const manual = randomUUID();
        await store.enqueueManualRun(agent.id, manual, SLOT_9 + HOUR + 1);
        expect(await store.claimQueuedRun('exec', SLOT_9 + HOUR + 2, SLOT_9 + 2 * HOUR)).toBeNull();
        const skipped = (await runsOf(agent.id)).filter((r) => r.status === 'skipped');
        expect(skipped.map((r) => [r.trigger, r.skippedSlots, r.scheduledFor, r.lastSkippedFor])).toEqual([
          ['schedule', 2, SLOT_9, SLOT_9 + HOUR],
          ['manual', 1, null, null],
        ]);
        expect(skipped[0]!.output).toMatch(/cap/i);
        expect(skipped[1]!.id).toBe(manual);
        // Only the one row of the slots is left: the second slot's queued run was folded into it.
        expect(await runsOf(agent.id)).toHaveLength(3);
      });

      it('missed slots are one row per agent and outage, also when the latest slot is caught up', async () => {
        const hook = await webhook(['run.skipped']);
        const agent = await newAgent({ schedule: '*/10 * * * *' });
        const outageEnd = SLOT_9 + 3 * HOUR;
        const missed = (count: number, first: number, last: number): MissedTickSlots => ({
          count,
          approximate: false,
          first,
          last,
          since: outageEnd,
          skipId: randomUUID(),
          catchupWindowMs: HOUR,
        });
        const due = (await store.getAgent(agent.id))!.nextFireAt!;
        // Down from 08:05 to 12:05: 08:10 .. 11:50 missed (23 slots), 12:00 caught up.
        const [result] = await store.claimTicks([
          {
            agentId: agent.id,
            due,
            next: outageEnd + 10 * MINUTE,
            slot: outageEnd,
            runId: randomUUID(),
            now: outageEnd + 5 * MINUTE,
            missed: missed(23, due, outageEnd - 10 * MINUTE),
          },
        ]);
        expect(result).toBe('fired');
        const runs = await runsOf(agent.id);
        expect(runs.map((r) => r.status).sort()).toEqual(['queued', 'skipped']);
        const row = runs.find((r) => r.status === 'skipped')!;
        expect(row).toMatchObject({ trigger: 'schedule', skippedSlots: 23, scheduledFor: due, lastSkippedFor: outageEnd - 10 * MINUTE });
        expect(row.output).toMatch(/service was down.*23 slots/);
        // Slots of the same outage found later (another pass) join the row.
        const next = (await store.getAgent(agent.id))!.nextFireAt!;
        await store.claimTicks([
          { agentId: agent.id, due: next, next: next + 10 * MINUTE, slot: null, runId: randomUUID(), now: next + 2 * HOUR, missed: missed(1, next, next) },
        ]);
        const again = (await runsOf(agent.id)).filter((r) => r.status === 'skipped');
        expect(again.map((r) => [r.skippedSlots, r.lastSkippedFor])).toEqual([[24, next]]);
        expect(again[0]!.output).toMatch(/24 slots/);
        expect(await eventTypes(hook)).toEqual(['run.skipped']);
      });
    });

    describe('restarts', () => {
      it('keeps queued runs queued, skips scheduled ones too old to catch up (one row per agent), and retries the interrupted run', async () => {
        const agent = await newAgent({ overlapPolicy: 'allow', maxRetries: 1, retryDelaySeconds: 10 });
        const other = await newAgent();
        expect(await tick(agent.id, SLOT_9)).toBe('fired');
        expect(await tick(agent.id, SLOT_9 + HOUR)).toBe('fired');
        expect(await tick(other.id, SLOT_9 + 2 * HOUR)).toBe('fired');
        const manual = randomUUID();
        await store.enqueueManualRun(other.id, manual, SLOT_9);
        const interrupted = randomUUID();
        await store.enqueueManualRun(agent.id, interrupted, T0);
        expect((await store.claimQueuedRun('old-process', T0, T0 + MINUTE))?.run.id).toBe(interrupted);

        // The service comes back at 11:30 with a one-hour catch-up window: 09:00 and 10:00 are too old, 11:00 is not.
        const restart = SLOT_9 + 2 * HOUR + 30 * MINUTE;
        const ended = await store.endAbandonedRuns(restart, { everything: true, staleSlotsBefore: restart - HOUR, catchupWindowMs: HOUR });
        const runs = await runsOf(agent.id);
        const skipped = runs.filter((r) => r.status === 'skipped');
        expect(skipped.map((r) => [r.scheduledFor, r.lastSkippedFor, r.skippedSlots])).toEqual([[SLOT_9, SLOT_9 + HOUR, 2]]);
        expect(skipped[0]!.output).toMatch(/service was down/);
        expect(ended.sort()).toEqual([interrupted, skipped[0]!.id].sort());
        expect(await store.getRun(interrupted)).toMatchObject({ status: 'error' });
        expect(runs.find((r) => r.trigger === 'retry')).toMatchObject({ retryOf: interrupted, status: 'queued', notBefore: restart + 10 * SECOND });
        // Recent scheduled and manual runs lost nothing: they are still queued, and start.
        expect((await runsOf(other.id)).map((r) => r.status)).toEqual(['queued', 'queued']);
        const started = [];
        for (
          let claim = await store.claimQueuedRun('new', restart, restart + MINUTE);
          claim;
          claim = await store.claimQueuedRun('new', restart, restart + MINUTE)
        ) {
          started.push(claim.run.id);
          await finish(claim.run.id, 'success', restart, 0, 'new');
        }
        expect(started).toContain(manual);
        expect(started).toHaveLength(2);
      });
    });
  });
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Migrator, sql, type Migration } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planAgentUpdate, planNewAgent, type AgentInput } from '../../src/domain/agent-fields.js';
import type { AuditActor, NewAuditEntry } from '../../src/domain/audit.js';
import { ZERO_USAGE, type Agent } from '../../src/domain/types.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { Retention } from '../../src/engine/retention.js';
import { silentLogger } from '../../src/logger.js';
import { dialectsUnderTest } from '../support/dialects.js';
import { FakeClock } from '../support/fake-clock.js';

/**
 * The audit trail and agents' versions in the store, on every dialect: versions and entries are
 * written in the transaction of their change, exactly when it changes something; runs record the
 * version they ran; entries list newest first by filter and cursor, and are pruned in batches.
 */

const T0 = Date.parse('2026-01-05T08:00:00.000Z');
const MINUTE = 60_000;

const ALICE: AuditActor = { userId: 'u-alice', userName: 'alice', address: '192.0.2.7', credential: 'token:t-1' };
const BOB: AuditActor = { userId: 'u-bob', userName: 'bob', address: '192.0.2.8', credential: 'session:abcdef012345' };

function entry(overrides: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return { at: T0, action: 'secret.set', actor: ALICE, agentId: null, targetType: 'secret', targetId: null, targetName: 'API_KEY', details: {}, ...overrides };
}

for (const dialect of dialectsUnderTest()) {
  describe.skipIf(dialect.skipped)(`audit trail and versions (${dialect.name})`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await dialect.open();
    });
    afterEach(async () => {
      await store.close();
    });

    /** `by` null: no actor (a change the service makes). */
    const create = (input: Partial<AgentInput> = {}, by: AuditActor | null = ALICE, at = T0) =>
      store.createAgent(
        planNewAgent({ name: 'Digest', schedule: '0 9 * * *', prompt: 'Summarise.', ...input }, at).fields,
        null,
        null,
        at,
        undefined,
        by ?? undefined,
      );
    const update = (agent: Agent, patch: Partial<AgentInput>, by: AuditActor | null = ALICE, at = T0 + MINUTE) =>
      store.updateAgent(agent.id, (current) => planAgentUpdate(current, patch, at), at, by ?? undefined);
    const versions = (agentId: string) => store.listAgentVersions(agentId, { limit: 100 });
    const entries = (agentId?: string) => store.listAudit({ limit: 100, ...(agentId ? { agentId } : {}) });

    it('makes version 1 with the agent, and records the create with every field', async () => {
      const agent = await create({ maxTurns: 7 });
      const [first, ...others] = await versions(agent.id);
      expect(others).toEqual([]);
      expect(first).toMatchObject({ agentId: agent.id, version: 1, createdAt: T0, createdBy: { id: 'u-alice', name: 'alice' } });
      expect(first!.fields).toMatchObject({ prompt: 'Summarise.', schedule: '0 9 * * *', timezone: 'UTC', maxTurns: 7, allowedTools: [] });
      // Naming, describing and switching are not part of a version.
      expect(Object.keys(first!.fields)).not.toContain('name');
      expect(Object.keys(first!.fields)).not.toContain('enabled');
      const [created] = await entries(agent.id);
      expect(created).toMatchObject({
        action: 'agent.create',
        actor: ALICE,
        agentId: agent.id,
        targetType: 'agent',
        targetId: agent.id,
        targetName: 'Digest',
        at: T0,
      });
      expect(created!.details).toMatchObject({ version: 1, fields: { name: 'Digest', prompt: 'Summarise.', maxTurns: 7 } });
    });

    it('makes a new version when a versioned field changes, with the changed fields old and new', async () => {
      const agent = await create();
      await update(agent, { prompt: 'Summarise, briefly.', maxTurns: 10 }, BOB);
      const [latest, first] = await versions(agent.id);
      expect(latest).toMatchObject({ version: 2, createdAt: T0 + MINUTE, createdBy: { id: 'u-bob', name: 'bob' } });
      expect(latest!.fields).toMatchObject({ prompt: 'Summarise, briefly.', maxTurns: 10 });
      expect(first!.fields).toMatchObject({ prompt: 'Summarise.', maxTurns: 50 });
      const [updated] = await entries(agent.id);
      expect(updated).toMatchObject({ action: 'agent.update', actor: BOB });
      expect(updated!.details).toEqual({
        changes: { prompt: { old: 'Summarise.', new: 'Summarise, briefly.' }, maxTurns: { old: 50, new: 10 } },
        version: 2,
      });
    });

    it('records a change of name or description without a version, and enable / disable as such', async () => {
      const agent = await create();
      await update(agent, { description: 'What it does' });
      await update(agent, { enabled: false }, BOB, T0 + 2 * MINUTE);
      await update(agent, { enabled: true }, BOB, T0 + 3 * MINUTE);
      expect((await versions(agent.id)).map((v) => v.version)).toEqual([1]);
      const listed = await entries(agent.id);
      expect(listed.map((e) => e.action)).toEqual(['agent.enable', 'agent.disable', 'agent.update', 'agent.create']);
      expect(listed[2]!.details).toEqual({ changes: { description: { old: null, new: 'What it does' } } });
      expect(listed[1]!.details).toEqual({ changes: { enabled: { old: true, new: false } } });
    });

    it('writes nothing for an update that changes nothing, or that is refused', async () => {
      const agent = await create();
      await update(agent, { prompt: 'Summarise.', allowedTools: [] });
      await expect(
        store.updateAgent(
          agent.id,
          () => {
            throw new Error('refused');
          },
          T0 + MINUTE,
          ALICE,
        ),
      ).rejects.toThrow('refused');
      expect((await versions(agent.id)).map((v) => v.version)).toEqual([1]);
      expect((await entries(agent.id)).map((e) => e.action)).toEqual(['agent.create']);
    });

    it('makes versions without an actor too (a change the service makes), recording no entry', async () => {
      const agent = await create({}, null);
      await update(agent, { schedule: '0 10 * * *' }, null);
      expect(await versions(agent.id)).toMatchObject([
        { version: 2, createdBy: null },
        { version: 1, createdBy: null },
      ]);
      expect(await entries(agent.id)).toEqual([]);
    });

    it('keeps the entries of a deleted agent, not its versions', async () => {
      const agent = await create();
      expect(await store.deleteAgent(agent.id, { by: BOB, at: T0 + MINUTE })).toEqual({ id: agent.id, name: 'Digest' });
      expect(await versions(agent.id)).toEqual([]);
      const listed = await entries(agent.id);
      expect(listed.map((e) => e.action)).toEqual(['agent.delete', 'agent.create']);
      expect(listed[0]).toMatchObject({ actor: BOB, targetName: 'Digest', details: { runsDeleted: 0 } });
      // A delete of what is gone already records nothing.
      expect(await store.deleteAgent(agent.id, { by: BOB, at: T0 + MINUTE })).toBeNull();
      expect(await entries(agent.id)).toHaveLength(2);
    });

    it('records the version each run ran: when queued, and again when it starts', async () => {
      const agent = await create();
      const manual = await store.enqueueManualRun(agent.id, randomUUID(), T0, entry({ action: 'agent.run', agentId: agent.id, targetType: 'agent' }));
      expect(manual!.agentVersion).toBe(1);
      // Edited while queued: the run runs the agent as its claim reads it, and records that version.
      await update(agent, { prompt: 'New prompt' });
      expect((await store.getRun(manual!.id))!.agentVersion).toBe(1);
      const claimed = await store.claimQueuedRun('x', T0 + 2 * MINUTE, T0 + 3 * MINUTE);
      expect(claimed!.agent.prompt).toBe('New prompt');
      expect(claimed!.run.agentVersion).toBe(2);
      expect((await store.getRun(manual!.id))!.agentVersion).toBe(2);
      await store.finishRun(manual!.id, 'x', { ...ZERO_USAGE, status: 'success', output: '' }, T0 + 3 * MINUTE);
      // A scheduled run, queued by a tick.
      const due = T0 + 10 * MINUTE;
      await store.updateAgent(agent.id, (current) => ({ fields: current, nextFireAt: due }), T0 + 4 * MINUTE);
      expect(await store.claimTick({ agentId: agent.id, due, next: due + MINUTE, slot: due, runId: randomUUID(), now: due })).toBe('fired');
      const [scheduled] = await store.listRuns(agent.id, { limit: 1, since: null });
      expect(scheduled).toMatchObject({ trigger: 'schedule', agentVersion: 2 });
      const [ran] = await entries(agent.id).then((list) => list.filter((e) => e.action === 'agent.run'));
      expect(ran!.details).toEqual({ runId: manual!.id });
    });

    it('records a cancel only when it cancelled something', async () => {
      const agent = await create();
      const cancel = entry({ at: T0 + 1, action: 'agent.cancel', agentId: agent.id, targetType: 'agent' });
      await store.requestCancel(agent.id, T0, cancel);
      expect((await entries(agent.id)).map((e) => e.action)).toEqual(['agent.create']);
      const run = await store.enqueueManualRun(agent.id, randomUUID(), T0);
      await store.requestCancel(agent.id, T0 + 1, cancel);
      const [cancelled] = await entries(agent.id);
      expect(cancelled).toMatchObject({ action: 'agent.cancel', details: { cancelledQueued: [run!.id], runningIds: [] } });
    });

    it('writes the entries of one-statement changes only when the change happened', async () => {
      const agent = await create();
      // Secrets: set (also of an agent that is gone: nothing), delete (twice: once).
      expect(await store.putSecret(agent.id, { name: 'API_KEY', encryptedValue: 'v1:x' }, T0, entry({ agentId: agent.id }))).not.toBeNull();
      expect(await store.putSecret('no-agent', { name: 'API_KEY', encryptedValue: 'v1:x' }, T0, entry({ agentId: 'no-agent' }))).toBeNull();
      const removal = entry({ action: 'secret.delete', agentId: agent.id });
      expect(await store.deleteSecret(agent.id, 'API_KEY', removal)).toBe(true);
      expect(await store.deleteSecret(agent.id, 'API_KEY', removal)).toBe(false);
      // Users and tokens: a name taken twice records once; a revoke of a revoked token records nothing.
      const user = await store.createUser({ name: 'carol', role: 'member' }, T0, entry({ action: 'user.create', targetType: 'user', targetName: 'carol' }));
      await expect(store.createUser({ name: 'Carol', role: 'member' }, T0, entry({ action: 'user.create', targetType: 'user' }))).rejects.toThrow(
        /already exists/,
      );
      const token = await store.createToken(
        { userId: user.id, label: 'ci', tokenHash: 'h', prefix: 'p' },
        T0,
        entry({ action: 'token.create', targetType: 'token' }),
      );
      const revoke = entry({ action: 'token.revoke', targetType: 'token', targetId: token.id });
      expect(await store.revokeToken(token.id, T0, revoke)).toBe(true);
      expect(await store.revokeToken(token.id, T0, revoke)).toBe(false);
      expect(await store.setUserPassword('no-user', 'hash', entry({ action: 'user.set_password', targetType: 'user' }))).toBe(false);
      const listed = await store.listAudit({ limit: 100 });
      expect(listed.map((e) => e.action).sort()).toEqual(['agent.create', 'secret.delete', 'secret.set', 'token.create', 'token.revoke', 'user.create']);
      expect(listed.find((e) => e.action === 'user.create')!.targetId).toBe(user.id);
      expect(listed.find((e) => e.action === 'token.create')!.targetId).toBe(token.id);
    });

    it('records webhook changes with the fields that changed, and nothing for a change to the same values', async () => {
      const fields = {
        name: 'Ops',
        url: 'https://hooks.example.com/x',
        events: ['run.failed' as const],
        agentIds: null,
        format: 'standard' as const,
        enabled: true,
      };
      const id = randomUUID();
      const made = entry({ action: 'webhook.create', targetType: 'webhook', targetId: id });
      await store.createWebhook({ id, fields, encryptedSecret: 'v1:s' }, T0, made);
      const change = entry({ at: T0 + 1, action: 'webhook.update', targetType: 'webhook', targetId: id, targetName: null });
      await store.updateWebhook(id, (current) => ({ ...current, enabled: false, name: 'Ops alerts' }), T0 + 1, change);
      await store.updateWebhook(id, (current) => current, T0 + 2, { ...change, at: T0 + 2 });
      const rotate = entry({ at: T0 + 3, action: 'webhook.rotate_secret', targetType: 'webhook', targetId: id });
      expect(await store.setWebhookSecret(id, 'v1:t', T0 + 3, rotate)).toBe(true);
      const remove = entry({ at: T0 + 4, action: 'webhook.delete', targetType: 'webhook', targetId: id });
      expect(await store.deleteWebhook(id, remove)).toMatchObject({ name: 'Ops alerts' });
      expect(await store.deleteWebhook(id, remove)).toBeNull();
      const listed = await store.listAudit({ limit: 100 });
      expect(listed.map((e) => [e.action, e.targetName])).toEqual([
        ['webhook.delete', 'Ops alerts'],
        ['webhook.rotate_secret', 'Ops alerts'],
        ['webhook.update', 'Ops alerts'],
        ['webhook.create', 'API_KEY'],
      ]);
      expect(listed[2]!.details).toEqual({ changes: { name: { old: 'Ops', new: 'Ops alerts' }, enabled: { old: true, new: false } } });
    });

    it('records sign-ins with their failures and sessions', async () => {
      const user = await store.createUser({ name: 'dave', role: 'viewer' }, T0);
      await store.recordSignInFailure(['ip:192.0.2.7'], T0, T0 - MINUTE, entry({ action: 'sign_in.failure', targetType: 'session', targetName: null }));
      await store.createSession(
        { idHash: 'abc', userId: user.id, expiresAt: T0 + MINUTE },
        T0 + 1,
        entry({ action: 'sign_in.success', at: T0 + 1, targetType: 'session' }),
      );
      expect((await store.listAudit({ limit: 10 })).map((e) => e.action)).toEqual(['sign_in.success', 'sign_in.failure']);
    });

    it('lists entries newest first, filtered, a page at a time', async () => {
      const a = await create({ name: 'A' }, ALICE, T0);
      const b = await create({ name: 'B' }, BOB, T0 + 1);
      // Ten entries at one instant: the id orders them.
      for (let i = 0; i < 10; i++) await store.recordAudit(entry({ at: T0 + 2, agentId: i % 2 === 0 ? a.id : null, actor: i % 2 === 0 ? ALICE : BOB }));
      await store.recordAudit(entry({ at: T0 + 3, action: 'token.revoke', targetType: 'token' }));
      const all = await store.listAudit({ limit: 100 });
      expect(all).toHaveLength(13);
      const keys = all.map((e) => [e.at, e.id] as const);
      expect([...keys].sort((x, y) => y[0] - x[0] || (y[1] < x[1] ? -1 : 1))).toEqual(keys);
      // Pages of 5 follow the cursor without a gap or an overlap.
      const pages: string[] = [];
      let after: { at: number; id: string } | null = null;
      for (;;) {
        const page = await store.listAudit({ limit: 5, after });
        pages.push(...page.map((e) => e.id));
        const last = page.at(-1);
        if (page.length < 5 || !last) break;
        after = { at: last.at, id: last.id };
      }
      expect(pages).toEqual(all.map((e) => e.id));
      expect(await store.listAudit({ limit: 100, agentId: a.id })).toHaveLength(6);
      expect(await store.listAudit({ limit: 100, agentId: b.id })).toHaveLength(1);
      expect(await store.listAudit({ limit: 100, userId: 'u-bob' })).toHaveLength(6);
      expect(await store.listAudit({ limit: 100, action: 'token.revoke' })).toHaveLength(1);
      expect(await store.listAudit({ limit: 100, before: T0 + 2 })).toHaveLength(2);
      expect(await store.listAudit({ limit: 100, agentsOnly: true })).toHaveLength(7);
    });

    it('prunes the oldest entries in batches', async () => {
      for (let i = 0; i < 7; i++) await store.recordAudit(entry({ at: T0 + i }));
      expect(await store.pruneAuditBatch(T0 + 5, 3)).toBe(3);
      expect(await store.pruneAuditBatch(T0 + 5, 3)).toBe(2);
      expect(await store.pruneAuditBatch(T0 + 5, 3)).toBe(0);
      expect((await store.listAudit({ limit: 10 })).map((e) => e.at)).toEqual([T0 + 6, T0 + 5]);
    });

    it('the retention task deletes entries past the audit retention, whatever the runs retention', async () => {
      const DAY = 86_400_000;
      for (const age of [400, 366, 364, 1]) await store.recordAudit(entry({ at: T0 - age * DAY }));
      const options = { store, clock: new FakeClock(T0), logger: silentLogger, instanceId: 'i', batchRows: 1 };
      expect((await new Retention({ ...options, retentionMs: 90 * DAY, auditRetentionMs: 365 * DAY }).prune()).auditEntries).toBe(2);
      expect((await store.listAudit({ limit: 10 })).map((e) => (T0 - e.at) / DAY)).toEqual([1, 364]);
      // Runs kept for ever, entries too: nothing to prune.
      expect((await new Retention({ ...options, retentionMs: 0, auditRetentionMs: 0 }).prune()).auditEntries).toBe(0);
    });
  });
}

describe('migration 0012-audit-and-versions', () => {
  it('gives existing agents version 1 of their fields as stored, and their runs no version', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migration-0012-'));
    const store = openSqliteStore(path.join(dir, 'db.sqlite'));
    try {
      const all = await migrationProvider.getMigrations();
      const before = Object.fromEntries(Object.entries(all).filter(([name]) => name < '0012')) as Record<string, Migration>;
      const { error } = await new Migrator({ db: store.db, provider: { getMigrations: async () => before } }).migrateToLatest();
      expect(error).toBeUndefined();
      await sql`
        insert into agents (id, name, description, schedule, timezone, prompt, enabled, max_turns, max_budget_usd, model, allowed_tools, next_fire_at, creator_id, created_at, updated_at, max_retries)
        values ('old-agent', 'Old', null, '0 * * * *', 'UTC', 'the old prompt', 1, 5, 0.5, null, '["Read"]', null, null, 1000, 2000, 2)
      `.execute(store.db);
      await sql`insert into runs (id, agent_id, status, trigger, queued_at) values ('old-run', 'old-agent', 'success', 'manual', 1500)`.execute(store.db);
      await store.migrate();
      const [first, ...others] = await store.listAgentVersions('old-agent', { limit: 10 });
      expect(others).toEqual([]);
      expect(first).toMatchObject({ version: 1, createdAt: 2000, createdBy: null });
      expect(first!.fields).toMatchObject({ prompt: 'the old prompt', maxTurns: 5, maxBudgetUsd: 0.5, allowedTools: ['Read'], maxRetries: 2, workspace: null });
      expect((await store.getRun('old-run'))!.agentVersion).toBeNull();
      // The next change makes version 2.
      await store.updateAgent('old-agent', (current) => planAgentUpdate(current, { prompt: 'new' }, 3000), 3000);
      expect((await store.listAgentVersions('old-agent', { limit: 10 })).map((v) => v.version)).toEqual([2, 1]);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

import type { Clock } from '../clock.js';
import { DEFAULTS, LIMITS } from '../defaults.js';
import { decodeAgentCursor, encodeAgentCursor } from '../domain/agent-cursor.js';
import { DEFAULT_TIMEZONE, planAgentUpdate, planNewAgent, type AgentInput } from '../domain/agent-fields.js';
import { NotFoundError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { previewSchedule, type SchedulePreview } from '../domain/schedule-preview.js';
import { checkMemberGrants } from '../domain/tool-grants.js';
import { PERIOD_MS, type Agent, type AgentStats, type GlobalStats, type Period, type Run } from '../domain/types.js';
import { parseWorkspace, workspaceHostPath, type WorkspaceInput } from '../domain/workspace-spec.js';
import { checkHostPath, NO_HOST_PATHS, type HostPathPolicy } from '../host-paths.js';
import { AgentCapReached, type Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { auditActor, auditEntry } from './audit.js';
import { agentCapError, checkMinInterval, type AgentLimits } from './agent-limits.js';

/**
 * The scheduler, as services see it: told when an agent's schedule may have changed, so it aims
 * its timer again. Declared here (not imported) so services do not depend on the engine's classes.
 */
export interface SchedulerSignal {
  wake(): void;
}

/** This instance's run executor, as services see it: told of new work and of runs to stop now. */
export interface ExecutorSignal {
  wake(): void;
  /** Stops these runs if this instance executes them. */
  cancelLocal(runIds: readonly string[]): unknown;
  /** Stops every run of the agent this instance executes. */
  cancelAgentLocal(agentId: string): unknown;
}

/** The operator's limits on what an agent may be given, and on how many and how often (from the configuration). */
export interface AgentPolicy extends HostPathPolicy, AgentLimits {
  /** The permission rules members may grant (CRON_AGENTS_MEMBER_TOOLS); null: any. */
  memberTools: readonly string[] | null;
}

/** No host folders, no limit on members' grants, the default limits: what applies when the configuration says nothing. */
export const DEFAULT_AGENT_POLICY: AgentPolicy = Object.freeze({
  ...NO_HOST_PATHS,
  memberTools: null,
  maxAgentsPerUser: DEFAULTS.maxAgentsPerUser,
  minIntervalMs: DEFAULTS.minIntervalMs,
});

export interface AgentsDeps {
  store: Store;
  clock: Clock;
  scheduler: SchedulerSignal;
  /** Null on an instance that does not execute runs. */
  executor: ExecutorSignal | null;
  /** Default: DEFAULT_AGENT_POLICY. */
  agentPolicy?: AgentPolicy;
}

/** The agents list, or a page of it (`nextCursor` set, null on the last page). */
export interface AgentList {
  agents: Agent[];
  nextCursor?: string | null;
}

/** What changes an update may carry: any of the create fields. */
export type AgentChanges = Partial<AgentInput>;

/**
 * Agents and their runs: create, update, delete, run now, cancel, and the reads. Each write
 * changes the store first and then wakes the engine part that must act on it.
 */
export class Agents {
  constructor(private readonly deps: AgentsDeps) {}

  /**
   * Every agent by name; or, with `limit` or `cursor`, a page: `limit` agents (default
   * LIMITS.agentsPageDefault) after `cursor`, and the cursor of the next page (null on the last).
   */
  async list(query: { limit?: number; cursor?: string } = {}): Promise<AgentList> {
    if (query.limit === undefined && query.cursor === undefined) return { agents: await this.deps.store.listAgents() };
    const limit = query.limit ?? LIMITS.agentsPageDefault;
    const after = query.cursor === undefined ? null : decodeAgentCursor(query.cursor);
    // One more than the page tells whether another page follows.
    const agents = await this.deps.store.listAgents({ limit: limit + 1, after });
    if (agents.length <= limit) return { agents, nextCursor: null };
    const page = agents.slice(0, limit);
    const last = page[page.length - 1]!;
    return { agents: page, nextCursor: encodeAgentCursor({ name: last.name, id: last.id }) };
  }

  /** The agent, or a NotFoundError. */
  async get(id: string): Promise<Agent> {
    const agent = await this.deps.store.getAgent(id);
    if (!agent) throw new NotFoundError(`agent ${id} not found`);
    return agent;
  }

  async create(input: AgentInput, by: Actor): Promise<Agent> {
    const now = this.deps.clock.now();
    const { fields, nextFireAt } = planNewAgent(input, now);
    const member = !isAdmin(by);
    if (member) checkMemberGrants(null, fields, this.policy.memberTools);
    if (member) checkMinInterval(fields.schedule, fields.timezone, now, this.policy.minIntervalMs);
    await this.checkHostFolder(input.workspace);
    const max = member ? this.policy.maxAgentsPerUser : undefined;
    const agent = await this.deps.store.createAgent(fields, by.user?.id ?? null, nextFireAt, now, max, auditActor(by)).catch((error: unknown) => {
      throw error instanceof AgentCapReached ? agentCapError(error.agents, this.policy.maxAgentsPerUser) : error;
    });
    this.deps.scheduler.wake();
    by.log.info({ agentId: agent.id, schedule: agent.schedule, enabled: agent.enabled }, 'agent created');
    return agent;
  }

  async update(id: string, changes: AgentChanges, by: Actor): Promise<Agent> {
    const now = this.deps.clock.now();
    await this.checkHostFolder(changes.workspace);
    const agent = await this.deps.store.updateAgent(
      id,
      (current) => {
        const planned = planAgentUpdate(current, changes, now);
        // Thrown inside the update's transaction: a refused change changes nothing.
        if (!isAdmin(by)) checkMemberGrants(current, planned.fields, this.policy.memberTools);
        // A schedule is judged when it changes: an admin's fast schedule stays editable otherwise.
        if (!isAdmin(by) && (changes.schedule !== undefined || changes.timezone !== undefined)) {
          checkMinInterval(planned.fields.schedule, planned.fields.timezone, now, this.policy.minIntervalMs);
        }
        return planned;
      },
      now,
      auditActor(by),
    );
    if (!agent) throw new NotFoundError(`agent ${id} not found`);
    this.deps.scheduler.wake();
    by.log.info({ agentId: agent.id, fields: Object.keys(changes) }, 'agent updated');
    return agent;
  }

  /** Stops the agent's runs, then deletes it with all its runs. */
  async delete(id: string, by: Actor): Promise<{ id: string; name: string }> {
    await this.get(id);
    // Stop what runs before the rows go, so no executor keeps spending on a deleted agent.
    const { runningIds } = await this.deps.store.requestCancel(id, this.deps.clock.now());
    this.deps.executor?.cancelAgentLocal(id);
    await this.notifyCancel(runningIds, by);
    const deleted = await this.deps.store.deleteAgent(id, { by: auditActor(by), at: this.deps.clock.now() });
    if (!deleted) throw new NotFoundError(`agent ${id} not found`);
    this.deps.scheduler.wake();
    by.log.info({ agentId: id }, 'agent deleted');
    return deleted;
  }

  /** Queues a manual run; an executor picks it up (at once when this instance executes runs). */
  async run(id: string, by: Actor): Promise<Run> {
    const agent = await this.get(id);
    const now = this.deps.clock.now();
    const entry = auditEntry(by, now, 'agent.run', { agentId: id, targetType: 'agent', targetId: id, targetName: agent.name });
    const run = await this.deps.store.enqueueManualRun(id, newId(), now, entry);
    if (!run) throw new NotFoundError(`agent ${id} not found`);
    this.deps.executor?.wake();
    by.log.info({ agentId: run.agentId, runId: run.id }, 'manual run queued');
    return run;
  }

  /**
   * Cancels the agent's queued runs and stops its running ones, wherever they execute. Returns
   * how many; a NotFoundError when there was nothing to cancel.
   */
  async cancel(id: string, by: Actor): Promise<number> {
    const agent = await this.get(id);
    const now = this.deps.clock.now();
    const entry = auditEntry(by, now, 'agent.cancel', { agentId: id, targetType: 'agent', targetId: id, targetName: agent.name });
    const result = await this.deps.store.requestCancel(id, now, entry);
    this.deps.executor?.cancelLocal(result.runningIds);
    await this.notifyCancel(result.runningIds, by);
    const count = result.cancelledQueued.length + result.runningIds.length;
    if (count === 0) throw new NotFoundError(`agent ${id} has no running executions`);
    by.log.info({ agentId: id, count }, 'runs cancelled');
    return count;
  }

  /** The agent's runs, newest first. */
  async runs(id: string, query: { limit?: number; period?: Period }): Promise<Run[]> {
    await this.get(id);
    const since = query.period ? this.deps.clock.now() - PERIOD_MS[query.period] : null;
    return this.deps.store.listRuns(id, { limit: query.limit ?? LIMITS.runsLimitDefault, since });
  }

  async stats(id: string, period: Period = '7d'): Promise<AgentStats> {
    await this.get(id);
    const now = this.deps.clock.now();
    return this.deps.store.agentStats(id, now - PERIOD_MS[period], now);
  }

  async globalStats(period: Period = '7d'): Promise<GlobalStats> {
    const now = this.deps.clock.now();
    return this.deps.store.globalStats(now - PERIOD_MS[period], now);
  }

  /** Checks a schedule exactly as creating an agent would (for `by`), and lists its next `count` fire times. */
  previewSchedule(schedule: string, timezone: string | undefined, count: number, by?: Actor): SchedulePreview {
    const now = this.deps.clock.now();
    const preview = previewSchedule(schedule, timezone ?? DEFAULT_TIMEZONE, now, count);
    if (by && !isAdmin(by)) checkMinInterval(preview.schedule, preview.timezone, now, this.policy.minIntervalMs);
    return preview;
  }

  private get policy(): AgentPolicy {
    return this.deps.agentPolicy ?? DEFAULT_AGENT_POLICY;
  }

  /** A workspace on a host folder (hostPath, or a local repository) must be one the operator allows. */
  private async checkHostFolder(workspace: WorkspaceInput | null | undefined): Promise<void> {
    if (workspace === undefined) return;
    const folder = workspaceHostPath(parseWorkspace(workspace));
    if (folder) await checkHostPath(folder.path, folder.field, this.policy);
  }

  /** Runs executing on other instances hear of the cancel at once (their heartbeat is the fallback). */
  private async notifyCancel(runIds: string[], by: Actor): Promise<void> {
    try {
      await this.deps.store.notifyCancel(runIds);
    } catch (error) {
      by.log.warn({ err: error }, 'could not notify other instances of a cancel; their heartbeat will');
    }
  }
}

/** The operator at the command line acts as an admin. */
function isAdmin(by: Actor): boolean {
  return by.user === null || by.user.role === 'admin';
}

import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import type { AuditActor } from '../../domain/audit.js';
import { newId } from '../../domain/ids.js';
import { toMcpServerSpec } from '../../domain/mcp-servers.js';
import type { OutputSchema } from '../../domain/output-schema.js';
import { toWorkspaceSpec } from '../../domain/workspace-spec.js';
import { RUN_STATUSES, type Agent, type AgentFields, type McpServerSpec, type RunStatus } from '../../domain/types.js';
import { num, numOrNull, type DialectTraits } from '../dialect.js';
import type { AgentsTable, Database } from '../schema.js';
import { AgentCapReached, type AgentsPage, type AgentsStore, type AgentUpdate } from '../store.js';
import { recordAgentCreated, recordAgentUpdated } from './agent-versions.js';
import { writeAudit } from './audit.js';
import { precompiled } from './precompiled.js';
import type { SqlRunTotals } from './run-totals.js';

/** Agents, each read with its creator's name and its latest run. */
export class SqlAgents implements AgentsStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly traits: DialectTraits,
    private readonly totals: SqlRunTotals,
  ) {}

  async listAgents(page?: AgentsPage): Promise<Agent[]> {
    // Alphabetical as people read it: case does not split the list ("alpha" before "Zed"); ties
    // by byte order, the same on both databases whatever PostgreSQL's collation.
    const byteOrder = (name: RawBuilder<unknown> | string) => (this.traits.name === 'postgres' ? sql`${name} collate "C"` : sql`${name}`);
    let query = this.agentQuery()
      .orderBy(sql`lower(a.name)`)
      .orderBy(byteOrder(sql.ref('a.name')))
      .orderBy('a.id');
    if (page?.after) {
      // A page starts after the cursor in that same order (a row-value comparison, on both databases).
      const { name, id } = page.after;
      query = query.where(sql<boolean>`(lower(a.name), ${byteOrder(sql.ref('a.name'))}, a.id) > (lower(${name}), ${byteOrder(sql.val(name))}, ${id})`);
    }
    if (page) query = query.limit(page.limit);
    return (await query.execute()).map(toAgent);
  }

  async getAgent(id: string): Promise<Agent | null> {
    return this.readAgent(this.db, id);
  }

  /** One agent, read in `db` (the store's, or a transaction's: a run's claim reads its agent in the claim's). */
  async readAgent(db: Kysely<Database>, id: string): Promise<Agent | null> {
    const row = (await this.agentByIdQuery(db, id)).rows[0];
    return row ? toAgent(row) : null;
  }

  async createAgent(
    fields: AgentFields,
    creatorId: string | null,
    nextFireAt: number | null,
    now: number,
    maxAgentsOfCreator?: number,
    by?: AuditActor,
  ): Promise<Agent> {
    const id = newId(now);
    const row = { id, ...agentColumns(fields), next_fire_at: nextFireAt, creator_id: creatorId, created_at: now, updated_at: now };
    await this.db.transaction().execute(async (trx) => {
      if (maxAgentsOfCreator !== undefined && creatorId !== null) {
        // The creator's row is locked on PostgreSQL, so one member's concurrent creates count one
        // after the other (SQLite serialises writers already).
        let creator = trx.selectFrom('users').select('id').where('id', '=', creatorId);
        if (this.traits.skipLocked) creator = creator.forUpdate();
        await creator.executeTakeFirst();
        const { n } = await trx
          .selectFrom('agents')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('creator_id', '=', creatorId)
          .executeTakeFirstOrThrow();
        if (num(n) >= maxAgentsOfCreator) throw new AgentCapReached(num(n));
      }
      await trx.insertInto('agents').values(row).execute();
      // Version 1, and the entry of the create, with the agent (agent-versions.ts).
      await recordAgentCreated(trx, id, fields, now, by);
    });
    const agent = await this.getAgent(id);
    if (!agent) throw new Error(`agent ${id} vanished right after it was created`);
    return agent;
  }

  async updateAgent(id: string, update: AgentUpdate, now: number, by?: AuditActor): Promise<Agent | null> {
    return this.db.transaction().execute(async (trx) => {
      const current = await this.readAgent(trx, id);
      if (!current) return null;
      const { fields, nextFireAt } = update(current);
      await trx
        .updateTable('agents')
        .set({ ...agentColumns(fields), next_fire_at: nextFireAt, updated_at: Math.max(now, current.updatedAt) })
        .where('id', '=', id)
        .execute();
      // The next version if a versioned field changed, and the entry of the change (agent-versions.ts).
      await recordAgentUpdated(trx, current, fields, now, by);
      return this.readAgent(trx, id);
    });
  }

  async deleteAgent(id: string, audit?: { by: AuditActor; at: number }): Promise<{ id: string; name: string } | null> {
    return this.db.transaction().execute(async (trx) => {
      const row = await this.lockAgent(trx, id);
      if (!row) return null;
      // The deleted rows themselves say what leaves the totals ledger (run-totals.ts, rule 2).
      const deleted = await trx.deleteFrom('runs').where('agent_id', '=', id).returning(['queued_at', 'status', 'cost_usd', 'duration_ms']).execute();
      await this.totals.subtractDeletedRuns(trx, deleted);
      await trx.deleteFrom('agents').where('id', '=', id).execute();
      if (audit) {
        const entry = { at: audit.at, actor: audit.by, agentId: id, targetType: 'agent' as const, targetId: id, targetName: row.name };
        await writeAudit(trx, { ...entry, action: 'agent.delete', details: { runsDeleted: deleted.length } });
      }
      return row;
    });
  }

  /**
   * Reads the agent, locking its row on PostgreSQL so that cancel and delete of one agent take
   * their locks in the same order (agent, then its runs) and never deadlock.
   */
  async lockAgent(trx: Transaction<Database>, id: string): Promise<{ id: string; name: string } | undefined> {
    let query = trx.selectFrom('agents').select(['id', 'name']).where('id', '=', id);
    if (this.traits.skipLocked) query = query.forUpdate();
    return query.executeTakeFirst();
  }

  /** The API's and the executor's point read: compiled once, and read synchronously where the dialect can. */
  private readonly agentByIdQuery = precompiled(
    1,
    (id) => this.agentQuery().where('a.id', '=', id),
    (executor, text, parameters) => this.traits.readNow?.(executor, text, parameters) ?? null,
  );

  private agentQuery() {
    return (
      this.db
        .selectFrom('agents as a')
        .leftJoin('users as u', 'u.id', 'a.creator_id')
        .selectAll('a')
        .select('u.name as creator_name')
        // The latest run's status and time in one index probe, as `status:epochMs` (one subquery
        // where two would walk the agent's runs index twice per agent).
        .select((eb) =>
          eb
            .selectFrom('runs as r')
            .select(sql<string | null>`r.status || ':' || coalesce(r.started_at, r.queued_at)`.as('latest'))
            .whereRef('r.agent_id', '=', 'a.id')
            // A skipped row did not run: the agent's last run is the last that did (or will).
            .where('r.status', '<>', 'skipped')
            .orderBy('r.queued_at', 'desc')
            .limit(1)
            .as('latest_run'),
        )
    );
  }
}

/** An agent row joined with its creator's name and its latest run. */
type AgentRow = Selectable<AgentsTable> & {
  creator_name: string | null;
  /** `status:epochMs` of the agent's latest run, or null. */
  latest_run: string | null;
};

const STATUSES: ReadonlySet<string> = new Set(RUN_STATUSES);

function isRunStatus(text: string): text is RunStatus {
  return STATUSES.has(text);
}

function toAgent(row: AgentRow): Agent {
  const separator = row.latest_run?.indexOf(':') ?? -1;
  const status = row.latest_run && separator > 0 ? row.latest_run.slice(0, separator) : null;
  const lastStatus = status !== null && isRunStatus(status) ? status : null;
  const lastRunAt = row.latest_run && separator > 0 ? Number(row.latest_run.slice(separator + 1)) : null;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    schedule: row.schedule,
    timezone: row.timezone,
    prompt: row.prompt,
    enabled: num(row.enabled) === 1,
    maxTurns: num(row.max_turns),
    maxBudgetUsd: numOrNull(row.max_budget_usd),
    model: row.model,
    allowedTools: parseStringArray(row.allowed_tools),
    disallowedTools: parseStringArray(row.disallowed_tools),
    mcpServers: parseMcpServers(row.mcp_servers),
    workspace: row.workspace === null ? null : toWorkspaceSpec(JSON.parse(row.workspace)),
    allowedDomains: parseStringArray(row.allowed_domains),
    systemPrompt: row.system_prompt,
    effort: row.effort,
    fallbackModel: row.fallback_model,
    outputSchema: parseOutputSchemaColumn(row.output_schema),
    dailyBudgetUsd: numOrNull(row.daily_budget_usd),
    monthlyBudgetUsd: numOrNull(row.monthly_budget_usd),
    overlapPolicy: row.overlap_policy,
    maxRetries: num(row.max_retries),
    retryDelaySeconds: num(row.retry_delay_seconds),
    pauseAfterFailures: numOrNull(row.pause_after_failures),
    pausedReason: row.paused_reason,
    pausedAt: numOrNull(row.paused_at),
    nextFireAt: numOrNull(row.next_fire_at),
    lastRunAt,
    lastStatus,
    creator: row.creator_id && row.creator_name ? { id: row.creator_id, name: row.creator_name } : null,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

/** A stored JSON array of strings: permission rules, domains (only the store writes them, from string arrays). */
function parseStringArray(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** The stored JSON object of MCP servers by name (written from checked specs; anything else is dropped). */
function parseMcpServers(json: string): Record<string, McpServerSpec> {
  const value: unknown = JSON.parse(json);
  const servers: Record<string, McpServerSpec> = {};
  if (typeof value !== 'object' || value === null) return servers;
  for (const [name, entry] of Object.entries(value)) {
    const spec = toMcpServerSpec(entry);
    if (spec) servers[name] = spec;
  }
  return servers;
}

/** The stored outputSchema (written from a checked schema object; anything else reads as none). */
function parseOutputSchemaColumn(json: string | null): OutputSchema | null {
  if (json === null) return null;
  const value: unknown = JSON.parse(json);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? { ...value } : null;
}

function agentColumns(fields: AgentFields) {
  return {
    name: fields.name,
    description: fields.description,
    schedule: fields.schedule,
    timezone: fields.timezone,
    prompt: fields.prompt,
    enabled: fields.enabled ? 1 : 0,
    max_turns: fields.maxTurns,
    max_budget_usd: fields.maxBudgetUsd,
    model: fields.model,
    allowed_tools: JSON.stringify(fields.allowedTools),
    disallowed_tools: JSON.stringify(fields.disallowedTools),
    mcp_servers: JSON.stringify(fields.mcpServers),
    workspace: fields.workspace === null ? null : JSON.stringify(fields.workspace),
    allowed_domains: JSON.stringify(fields.allowedDomains),
    system_prompt: fields.systemPrompt,
    effort: fields.effort,
    fallback_model: fields.fallbackModel,
    output_schema: fields.outputSchema === null ? null : JSON.stringify(fields.outputSchema),
    daily_budget_usd: fields.dailyBudgetUsd,
    monthly_budget_usd: fields.monthlyBudgetUsd,
    overlap_policy: fields.overlapPolicy,
    max_retries: fields.maxRetries,
    retry_delay_seconds: fields.retryDelaySeconds,
    pause_after_failures: fields.pauseAfterFailures,
    // Enabling an agent (again) clears why the service paused it.
    ...(fields.enabled ? { paused_reason: null, paused_at: null } : {}),
  };
}

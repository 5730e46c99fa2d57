import { sql, type Kysely } from 'kysely';
import { decodeRunEvent, type EncodedRunEvent, type RunEvent } from '../../domain/run-events.js';
import { bigint } from '../dialect.js';
import type { Database } from '../schema.js';
import type { RunEventQuery, RunEventsStore } from '../store.js';
import { valuesList } from './values-list.js';

/**
 * Each run's transcript. The executor appends a batch at a time (src/engine/run-event-writer.ts
 * batches them: one statement per flush, never one per SDK message), fenced by its executor id
 * as usage is; the API lists them by seq. The rows go with their run (on delete cascade).
 */
export class SqlRunEvents implements RunEventsStore {
  constructor(private readonly db: Kysely<Database>) {}

  async appendRunEvents(runId: string, executorId: string, events: readonly EncodedRunEvent[]): Promise<boolean> {
    if (events.length === 0) return this.holds(runId, executorId);
    const rows = valuesList(events.map((e) => ({ seq: sql<number>`cast(${e.seq} as integer)`, type: e.type, at: bigint(e.at), data: e.json })));
    // `on conflict do nothing`: a batch sent again after a write whose answer was lost is not
    // written twice. The `where` makes it an insert-select, which SQLite needs before `on conflict`.
    const result = await sql`
      insert into run_events (run_id, seq, type, at, data)
      select ${runId}, v.seq, v.type, v.at, v.data
      from (${rows}) as v
      where exists (select 1 from runs where runs.id = ${runId} and runs.executor_id = ${executorId} and runs.status = 'running')
      on conflict (run_id, seq) do nothing
    `.execute(this.db);
    if (Number(result.numAffectedRows ?? 0) > 0) return true;
    // Nothing written: either the run is no longer held, or this batch was stored already.
    return this.holds(runId, executorId);
  }

  async listRunEvents(runId: string, query: RunEventQuery): Promise<RunEvent[]> {
    const rows = await this.db
      .selectFrom('run_events')
      .select('data')
      .where('run_id', '=', runId)
      .where('seq', '>', query.after)
      .orderBy('seq')
      .limit(query.limit)
      .execute();
    const events: RunEvent[] = [];
    for (const row of rows) {
      const event = decodeRunEvent(row.data);
      if (event) events.push(event);
    }
    return events;
  }

  private async holds(runId: string, executorId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('runs')
      .select('id')
      .where('id', '=', runId)
      .where('executor_id', '=', executorId)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return row !== undefined;
  }
}

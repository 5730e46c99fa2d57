import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { planNewAgent } from '../../src/domain/agent-fields.js';
import { encodeRunEvent } from '../../src/domain/run-events.js';
import { ZERO_USAGE } from '../../src/domain/types.js';
import { SQLITE_FILE } from '../../src/store/open-store.js';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';
import { runCli } from '../support/server-process.js';

/** `cron-agents prune` through the built CLI, on an embedded database made for it. */

const DAY = 86_400_000;
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A data dir whose database holds one run that ended `ageDays[i]` days ago per entry, each with 2 events. */
async function dataDirWithRuns(ageDays: number[]): Promise<{ dataDir: string; runIds: string[] }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-prune-'));
  dirs.push(dataDir);
  const store = openSqliteStore(path.join(dataDir, SQLITE_FILE));
  await store.migrate();
  const now = Date.now();
  const { fields, nextFireAt } = planNewAgent({ name: 'a', schedule: '0 9 1 6 *', prompt: 'p' }, now);
  const agent = await store.createAgent(fields, null, nextFireAt, now);
  const runIds: string[] = [];
  for (const age of ageDays) {
    const at = now - age * DAY;
    const runId = randomUUID();
    await store.enqueueManualRun(agent.id, runId, at);
    await store.claimQueuedRun('x', at, at + DAY);
    await store.appendRunEvents(
      runId,
      'x',
      [1, 2].map((seq) => encodeRunEvent({ seq, at, type: 'text', text: 'hi' })),
    );
    await store.finishRun(runId, 'x', { ...ZERO_USAGE, status: 'success', output: 'ok' }, at + 1_000);
    runIds.push(runId);
  }
  await store.close();
  return { dataDir, runIds };
}

describe('cron-agents prune', { timeout: 60_000 }, () => {
  it('deletes the runs that ended longer ago than CRON_AGENTS_RETENTION, with their events, and says how many', async () => {
    const { dataDir, runIds } = await dataDirWithRuns([200, 100, 10]);
    const result = await runCli(['prune'], { CRON_AGENTS_DATA_DIR: dataDir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^deleted 2 run\(s\) that ended before \d{4}-\d{2}-\d{2}T[\d:.]+Z, and 4 event\(s\)\n$/);

    const store = openSqliteStore(path.join(dataDir, SQLITE_FILE));
    try {
      expect(await store.getRun(runIds[0] ?? '')).toBeNull();
      expect(await store.getRun(runIds[1] ?? '')).toBeNull();
      expect(await store.getRun(runIds[2] ?? '')).not.toBeNull();
      expect(await store.listRunEvents(runIds[2] ?? '', { after: 0, limit: 10 })).toHaveLength(2);
    } finally {
      await store.close();
    }

    const longer = await runCli(['prune'], { CRON_AGENTS_DATA_DIR: dataDir, CRON_AGENTS_RETENTION: '5d' });
    expect(longer.code).toBe(1);
    expect(longer.stderr).toContain('CRON_AGENTS_RETENTION must be at least 31d');
    const off = await runCli(['prune'], { CRON_AGENTS_DATA_DIR: dataDir, CRON_AGENTS_RETENTION: '0' });
    expect(off.code).toBe(0);
    expect(off.stdout).toContain('every run is kept');
    expect((await runCli(['prune', 'now'], { CRON_AGENTS_DATA_DIR: dataDir })).code).toBe(2);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/open-sqlite-store.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cron-agents-wal-'));
  dirs.push(dir);
  return path.join(dir, 'db.sqlite');
}

const sizeOf = (file: string): number => fs.statSync(file).size;

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

describe('SQLite WAL checkpoints', () => {
  it("are not made by the service's connection, but by the worker beside it", async () => {
    const file = tempFile();
    const store = openSqliteStore(file);
    await store.migrate();
    const autocheckpoint = async () => (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(store.db)).rows[0]?.wal_autocheckpoint;
    // The worker switches the connection's automatic checkpoints off once it runs.
    for (let i = 0; i < 100 && (await autocheckpoint()) !== 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await autocheckpoint()).toBe(0);

    // About 2 MiB of new pages, under the default 1,000-page threshold: only a checkpoint made
    // elsewhere moves them from the log into the database file.
    const before = sizeOf(file);
    await sql`create table filler (body text)`.execute(store.db);
    await sql`insert into filler (body) with recursive n(i) as (select 1 union all select i + 1 from n where i < 1000) select hex(randomblob(1000)) from n`.execute(
      store.db,
    );
    expect(await until(() => sizeOf(file) >= before + 1_500_000, 5000)).toBe(true);
    await store.close();
  });

  it('closes cleanly: after close the log has been written back and removed', async () => {
    const file = tempFile();
    const store = openSqliteStore(file);
    await store.migrate();
    await store.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false);
  });
});

import net from 'node:net';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isTransientDatabaseError } from '../../src/store/transient-errors.js';
import { sqliteBusyError } from '../support/database-errors.js';

/** Real errors from the real drivers, not look-alikes. */
describe('isTransientDatabaseError', () => {
  it('is true for SQLite busy: another connection holds the write lock', () => {
    const error = sqliteBusyError();
    expect((error as { code?: string }).code).toBe('SQLITE_BUSY');
    expect(isTransientDatabaseError(error)).toBe(true);
  });

  it('is true for a PostgreSQL server that cannot be reached', async () => {
    // A port nothing listens on: bind one, note it, close it.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'nobody', database: 'none' });
    const error = await client.connect().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).not.toBeNull();
    expect(isTransientDatabaseError(error)).toBe(true);
  });

  it('is false for errors in the request or the code: constraints, syntax, anything else', () => {
    const db = new SQLite(':memory:');
    db.exec('create table t (id text primary key)');
    db.prepare('insert into t values (?)').run('a');
    let constraint: unknown;
    try {
      db.prepare('insert into t values (?)').run('a');
    } catch (e) {
      constraint = e;
    }
    let syntax: unknown;
    try {
      db.prepare('selec nothing');
    } catch (e) {
      syntax = e;
    }
    db.close();
    expect((constraint as { code?: string }).code).toBe('SQLITE_CONSTRAINT_PRIMARYKEY');
    for (const error of [constraint, syntax, new Error('boom'), new TypeError('x is undefined'), 'text', null, undefined]) {
      expect(isTransientDatabaseError(error)).toBe(false);
    }
  });

  it('knows PostgreSQL SQLSTATEs for shutdown, too many connections, deadlock and serialization failure', () => {
    const withCode = (code: string) => Object.assign(new Error(`pg error ${code}`), { code });
    for (const code of ['57P01', '57P03', '53300', '08006', '40001', '40P01']) expect(isTransientDatabaseError(withCode(code)), code).toBe(true);
    for (const code of ['23505', '42601', '22P02']) expect(isTransientDatabaseError(withCode(code)), code).toBe(false);
  });
});

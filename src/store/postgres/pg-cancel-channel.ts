import pg from 'pg';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { CancelChannel } from '../dialect.js';
import type { Database } from '../schema.js';

const CHANNEL = 'cron_agents_cancel';
/** NOTIFY payloads are limited to 8000 bytes; run ids are 36 characters. */
const IDS_PER_NOTIFY = 150;
const RECONNECT_MS = 1_000;

/**
 * Cancel signals over LISTEN/NOTIFY. Each subscriber holds one dedicated connection and
 * reconnects when it drops; while it is down, the executors' heartbeat (which reads the
 * runs' cancel flag) still stops the runs, only later.
 */
export function pgCancelChannel(db: Kysely<Database>, connection: pg.ClientConfig): CancelChannel {
  return {
    async publish(runIds) {
      for (let i = 0; i < runIds.length; i += IDS_PER_NOTIFY) {
        const payload = JSON.stringify(runIds.slice(i, i + IDS_PER_NOTIFY));
        await sql`select pg_notify(${CHANNEL}, ${payload})`.execute(db);
      }
    },

    async subscribe(listener) {
      let client: pg.Client | null = null;
      let closed = false;
      let retry: NodeJS.Timeout | null = null;

      const connect = async (): Promise<void> => {
        if (closed) return;
        const next = new pg.Client(connection);
        next.on('notification', (message) => {
          if (message.channel !== CHANNEL || !message.payload) return;
          try {
            const ids: unknown = JSON.parse(message.payload);
            if (Array.isArray(ids)) listener(ids.filter((id): id is string => typeof id === 'string'));
          } catch {
            // not ours
          }
        });
        next.on('error', () => reconnect(next));
        next.on('end', () => reconnect(next));
        try {
          await next.connect();
          await next.query(`LISTEN ${CHANNEL}`);
          if (closed) {
            await next.end().catch(() => {});
            return;
          }
          client = next;
        } catch {
          reconnect(next);
        }
      };

      const reconnect = (failed: pg.Client): void => {
        if (client === failed) client = null;
        failed.removeAllListeners('end');
        failed.end().catch(() => {});
        if (closed || retry) return;
        retry = setTimeout(() => {
          retry = null;
          void connect();
        }, RECONNECT_MS);
        retry.unref();
      };

      await connect();
      return async () => {
        closed = true;
        if (retry) clearTimeout(retry);
        const current = client;
        client = null;
        if (current) {
          current.removeAllListeners('end');
          await current.end().catch(() => {});
        }
      };
    },
  };
}

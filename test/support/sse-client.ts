import http from 'node:http';

/** One Server-Sent Event as received. */
export interface SseFrame {
  id: string | null;
  event: string;
  data: string;
}

export interface SseConnection {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Frames received so far, in order. */
  readonly frames: SseFrame[];
  /** Comment lines received so far (`: heartbeat` gives `heartbeat`). */
  readonly comments: string[];
  /** The body of a non-200 answer (JSON), once it has all come. */
  body(): Promise<string>;
  /** Resolves once `probe` holds for what was received; rejects if the stream ends first or after 5 s. */
  until(probe: (connection: SseConnection) => boolean, what: string): Promise<void>;
  /** Resolves when the server has ended the response. */
  readonly ended: Promise<void>;
  /** Closes the connection from the client's side. */
  close(): void;
}

/**
 * A minimal EventSource over node:http for tests: it parses frames as they arrive and lets a
 * test wait for what it expects to have been received, never for a fixed time.
 */
export function openSse(url: string, headers: Record<string, string>): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (response) => {
      response.setEncoding('utf8');
      const frames: SseFrame[] = [];
      const comments: string[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let raw = '';
      let over = false;
      const check = () => {
        for (const waiter of [...waiters]) waiter();
      };
      const ended = new Promise<void>((done) => {
        const finish = () => {
          over = true;
          check();
          done();
        };
        response.on('end', finish);
        response.on('close', finish);
      });
      response.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          parseBlock(buffer.slice(0, cut), frames, comments);
          buffer = buffer.slice(cut + 2);
        }
        check();
      });
      const connection: SseConnection = {
        status: response.statusCode ?? 0,
        headers: response.headers,
        frames,
        comments,
        ended,
        body: async () => {
          await ended;
          return raw;
        },
        until(probe, what) {
          return new Promise((done, fail) => {
            const timer = setTimeout(
              () => settle(new Error(`timed out waiting for ${what}; received ${JSON.stringify(frames.map((f) => f.id ?? f.event))}`)),
              5_000,
            );
            const settle = (error?: Error) => {
              clearTimeout(timer);
              waiters.delete(waiter);
              if (error) fail(error);
              else done();
            };
            const waiter = () => {
              if (probe(connection)) settle();
              else if (over) settle(new Error(`the stream ended before ${what}`));
            };
            waiters.add(waiter);
            waiter();
          });
        },
        close: () => {
          request.destroy();
          response.destroy();
        },
      };
      resolve(connection);
    });
    request.on('error', reject);
  });
}

function parseBlock(block: string, frames: SseFrame[], comments: string[]): void {
  let id: string | null = null;
  let event = 'message';
  const data: string[] = [];
  let fields = 0;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) {
      comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (name === 'id') id = value;
    else if (name === 'event') event = value;
    else if (name === 'data') data.push(value);
    else continue;
    fields++;
  }
  if (fields > 0 && (data.length > 0 || id !== null)) frames.push({ id, event, data: data.join('\n') });
}

/** The frames that carry run events (not `end`), their data parsed. */
export function eventFrames<T = { seq: number; type: string }>(connection: SseConnection): T[] {
  return connection.frames.filter((f) => f.event !== 'end').map((f) => JSON.parse(f.data) as T);
}

// A webhook receiver for bench/webhooks.js, in a child process of its own so that its CPU is not
// the sender's: answers 204 at once, verifies each Standard Webhooks signature, and reports each
// arrival (its time, the event's id and, for a run's event, when the run ended) to the parent.
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';

let secret = '';
process.on('message', (message) => {
  if (message && typeof message === 'object' && 'secret' in message) secret = String(message.secret);
});

function verified(headers, body) {
  const id = String(headers['webhook-id']);
  const ts = String(headers['webhook-timestamp']);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = Buffer.from(createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64'));
  const given = Buffer.from(String(headers['webhook-signature']).slice(3));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const at = Date.now();
    const body = Buffer.concat(chunks).toString('utf8');
    res.writeHead(204).end();
    const parsed = JSON.parse(body);
    process.send?.({ id: req.headers['webhook-id'], at, completedAt: parsed.data?.run?.completedAt ?? null, ok: verified(req.headers, body) });
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` });
});
process.on('disconnect', () => process.exit(0));

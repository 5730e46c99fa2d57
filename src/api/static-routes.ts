import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Serves the built dashboard (`vite build` writes it to dist/web) with SPA fallback: a GET for
 * any path outside /api that is not a file gets index.html, and the dashboard's router takes
 * over. The files are few and small, so they are read (and gzipped) once, at start-up.
 */

/** dist/web, from dist/api (the built server) and from src/api (tests running the sources) alike. */
export const DEFAULT_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/web');

/**
 * No inline script or style, no plugins, no framing, and nothing loaded or sent anywhere but
 * this origin: a prompt or an output that smuggles markup into the page still cannot run.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The dashboard's headers; the API reference's page (/api/docs, openapi.ts) gets them too. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.webmanifest': 'application/manifest+json',
};

interface StaticFile {
  body: Buffer;
  gzipped: Buffer | null;
  type: string;
  etag: string;
  cacheControl: string;
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cron-agents</title></head>
<body><h1>cron-agents</h1><p>The dashboard is not built. Run <code>npm run build</code> (it runs <code>vite build</code>), then restart the service. The API is served at <code>/api</code>.</p></body></html>
`;

function makeFile(urlPath: string, body: Buffer): StaticFile {
  const type = TYPES[path.extname(urlPath).toLowerCase()] ?? 'application/octet-stream';
  const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 1024;
  return {
    body,
    gzipped: compressible ? gzipSync(body, { level: 9 }) : null,
    type,
    etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    // Vite names built assets by content hash: they never change. Everything else is revalidated.
    cacheControl: urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  };
}

/** Built files per folder: read and compressed once per process (tests build many servers). */
const loaded = new Map<string, Map<string, StaticFile>>();

function loadFiles(webDir: string): Map<string, StaticFile> {
  const cached = loaded.get(webDir);
  if (cached) return cached;
  const files = new Map<string, StaticFile>();
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const urlPath = '/' + path.relative(webDir, full).split(path.sep).join('/');
        files.set(urlPath, makeFile(urlPath, fs.readFileSync(full)));
      }
    }
  };
  if (fs.existsSync(webDir)) walk(webDir);
  if (!files.has('/index.html')) files.set('/index.html', makeFile('/index.html', Buffer.from(NOT_BUILT_PAGE)));
  // A folder without a build is not remembered: a later server may find it built.
  if (files.size > 1) loaded.set(webDir, files);
  return files;
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  reply.headers(SECURITY_HEADERS);
  reply.header('content-type', file.type).header('cache-control', file.cacheControl).header('etag', file.etag);
  if (request.headers['if-none-match'] === file.etag) return reply.status(304).send();
  if (file.gzipped) {
    reply.header('vary', 'accept-encoding');
    if (/\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''))) {
      return reply.header('content-encoding', 'gzip').send(file.gzipped);
    }
  }
  return reply.send(file.body);
}

/** The dashboard's routes: its files, and index.html for every other non-/api GET. */
export const staticRoutes: FastifyPluginAsync<{ webDir?: string | undefined }> = async (app, options) => {
  const files = loadFiles(options.webDir ?? DEFAULT_WEB_DIR);
  const index = files.get('/index.html')!;

  const handler = async (request: FastifyRequest<{ Params: { '*'?: string } }>, reply: FastifyReply) => {
    const urlPath = '/' + (request.params['*'] ?? '');
    // Never reached for /api paths (see the constraint below); kept as a second line of defence.
    if (urlPath === '/api' || urlPath.startsWith('/api/')) return reply.callNotFound();
    const file = files.get(urlPath);
    if (file) return send(request, reply, file);
    // A missing file (a stale asset name) is a 404, not a page of HTML where a script was expected.
    if (/\.[A-Za-z0-9]+$/.test(urlPath)) {
      reply.headers(SECURITY_HEADERS);
      return reply.status(404).type('text/plain; charset=utf-8').send('Not found\n');
    }
    return send(request, reply, index);
  };

  // The catch-all must never see an /api path: with it out of the way, the router treats those
  // exactly as it did before the dashboard existed (401 before 404, 414 for over-long ids).
  app.addConstraintStrategy({
    name: 'dashboardArea',
    mustMatchWhenDerived: false,
    storage() {
      const handlers = new Map<string, unknown>();
      return { get: (area: string) => (handlers.get(area) ?? null) as never, set: (area: string, value: unknown) => void handlers.set(area, value) };
    },
    deriveConstraint: (request) => (isApiPath(request.url ?? '/') ? 'api' : 'web'),
  });
  const routeOptions = { constraints: { dashboardArea: 'web' }, schema: { hide: true } };
  app.get('/', routeOptions, handler);
  app.get('/*', routeOptions, handler);
};

/** Whether a raw request URL names an /api path (decoded as the router decodes it). */
function isApiPath(rawUrl: string): boolean {
  const rawPath = rawUrl.split('?')[0] ?? '/';
  let decoded = rawPath;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    // a malformed escape: the router refuses it with its own error
  }
  return decoded === '/api' || decoded.startsWith('/api/');
}

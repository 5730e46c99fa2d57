import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { LIMITS } from '../defaults.js';
import { adminRoutes } from './admin-routes.js';
import { agentRoutes } from './agent-routes.js';
import type { ApiDeps } from './api-deps.js';
import { installAuth } from './auth.js';
import { frameworkErrorReply, installErrorHandler } from './error-handler.js';
import { previewRoutes } from './preview-routes.js';
import { sessionRoutes } from './session-routes.js';
import { staticRoutes } from './static-routes.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * Bodies are validated strictly (no type coercion: `"5"` is not a number, unknown fields are
 * refused); query strings and params are text by nature, so they are coerced.
 */
function makeAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({ coerceTypes, useDefaults: false, removeAdditional: false, allErrors: true, strict: false });
  addFormats(ajv);
  return ajv;
}

function trustNearestHops(hops: number): (address: string, hop: number) => boolean {
  return (_address, hop) => hop < hops;
}

export interface ServerOptions {
  /** The service's pino logger; none means a silent server. */
  logger?: FastifyBaseLogger;
  /** The built dashboard; default: dist/web of this package. */
  webDir?: string;
  /** Which proxies to believe about the client's address and protocol (Fastify's `trustProxy`). */
  trustProxy?: boolean | number | string[];
}

/** Builds the HTTP server: schemas, auth, errors, the OpenAPI document and every route. */
export async function buildServer(deps: ApiDeps & { health: () => Promise<void> }, options: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    // Fastify 5 takes a ready logger only as `loggerInstance`.
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: LIMITS.bodyBytes,
    // A hop count means "trust the nearest N proxies", as a function since Fastify's types omit numbers.
    trustProxy: typeof options.trustProxy === 'number' ? trustNearestHops(options.trustProxy) : (options.trustProxy ?? false),
    // A line per request would drown the run logs; failed requests are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
    frameworkErrors: frameworkErrorReply,
  });
  // Many clients send `Content-Type: application/json` on every request, bodiless ones too
  // (POST /run, POST /cancel, DELETE): an empty body is "no body", not invalid JSON.
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    if (text === '') done(null, undefined);
    else jsonParser(request, text, done);
  });
  const bodyAjv = makeAjv(false);
  const textAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'cron-agents',
        description: 'Runs Claude agents on cron schedules. Every /api route but this document requires `Authorization: Bearer <token>`.',
        version: '0.1.0',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          // The dashboard's sign-in (POST /api/session); writes also need the X-CSRF-Token header.
          session: { type: 'apiKey', in: 'cookie', name: 'cron_agents_session' },
        },
      },
    },
  });

  installErrorHandler(app);
  installAuth(app, deps);

  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());

  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    try {
      await deps.health();
      return { status: 'ok' };
    } catch (error) {
      return reply.status(503).send({ status: 'unavailable', reason: error instanceof Error ? error.message : String(error) });
    }
  });

  agentRoutes(app, deps);
  adminRoutes(app, deps);
  // The dashboard: sign-in sessions, the schedule editor's preview, and the built web app.
  sessionRoutes(app, deps);
  previewRoutes(app, deps);
  staticRoutes(app, { webDir: options.webDir });
  return app;
}

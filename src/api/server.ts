/**
 * src/api: the HTTP face of the services. A route parses (its schema, in schemas/, is where a
 * route is validated), calls a service (src/services) and presents the result (present.ts).
 *   server.ts            Fastify set-up: OpenAPI, health; registers the route plugins
 *   openapi.ts           the OpenAPI document's options, and its reference at /api/docs
 *   validator-compiler.ts the schemas' validators (ajv), bounded for bodies no one writes by hand
 *   edge-hooks.ts        every answer's edge: security headers, ETag/304, small body limits
 *   auth.ts              who is asking (bearer token or session cookie) and may they (roles)
 *   session-cookie.ts    the dashboard's session cookie, read and set
 *   error-handler.ts     the one place errors become HTTP responses
 *   *-routes.ts          one Fastify plugin per area: agents, runs (a run, its events, its live
 *                        stream: run-event-stream.ts), secrets (an agent's, write-only),
 *                        webhooks (and their delivery log), budget (the deployment's spend caps),
 *                        access (users, tokens), audit (the trail, agents' versions), session,
 *                        preview (schedule editor), static
 *                        (the built dashboard), metrics (/metrics for Prometheus, its own token check)
 *   present.ts           every presenter, and the one ISO date format
 * Only the top imports it: app.ts (buildServer) and cli.ts (present.ts's date format); the
 * dashboard and the tests import the response types of schemas/ (all but passwords.ts are free
 * of Node modules, so the dashboard may import them).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { LIMITS } from '../defaults.js';
import type { SandboxMode } from '../claude/sandbox.js';
import { createServices, type ServiceDeps } from '../services/services.js';
import { accessRoutes } from './access-routes.js';
import { agentRoutes } from './agent-routes.js';
import { budgetRoutes } from './budget-routes.js';
import { auditRoutes } from './audit-routes.js';
import { installAuth } from './auth.js';
import { installEdgeHooks } from './edge-hooks.js';
import { frameworkErrorReply, installErrorHandler } from './error-handler.js';
import { OPENAPI_OPTIONS, registerApiDocs } from './openapi.js';
import { forecastRoutes } from './forecast-routes.js';
import { metricsRoutes, type MetricsSource } from './metrics-routes.js';
import { previewRoutes } from './preview-routes.js';
import { runRoutes } from './run-routes.js';
import { secretRoutes } from './secret-routes.js';
import { sessionRoutes } from './session-routes.js';
import { staticRoutes } from './static-routes.js';
import { validatorCompiler } from './validator-compiler.js';
import { webhookRoutes } from './webhook-routes.js';

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
  /** CRON_AGENTS_SANDBOX: /healthz says `"sandbox": "off"` when runs have none, so a monitor notices. */
  sandbox?: SandboxMode;
  /** GET /metrics (Prometheus) and the token it takes (CRON_AGENTS_METRICS_TOKEN; null: any API token); none: no /metrics. */
  metrics?: { source: MetricsSource; token: string | null };
}

/** What the server is built from: the services' parts, and a check of the database for /healthz. */
export type ServerDeps = ServiceDeps & { health: () => Promise<void> };

/** Builds the HTTP server: schemas, auth, errors, the OpenAPI document and every route. */
export async function buildServer(deps: ServerDeps, options: ServerOptions = {}): Promise<FastifyInstance> {
  const services = createServices(deps);
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
    // The default parser answers through `done`; the promise its type allows for is never made.
    else void jsonParser(request, text, done);
  });
  app.setValidatorCompiler(validatorCompiler());
  installEdgeHooks(app);

  await app.register(swagger, OPENAPI_OPTIONS);

  installErrorHandler(app);
  installAuth(app, services);

  // Hidden, as /healthz is: neither is an operation of the API a client calls (and neither has a 4xx answer to document).
  app.get('/api/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
  await registerApiDocs(app);

  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    try {
      await deps.health();
      return { status: 'ok', ...(options.sandbox === 'off' ? { sandbox: 'off' } : {}) };
    } catch (error) {
      // Anyone may ask: the database's own words (host, user, version) go to the log only.
      request.log.error({ err: error }, 'health check failed: the database is unreachable');
      return reply.status(503).send({ status: 'unavailable', reason: 'the database is unreachable' });
    }
  });

  await app.register(agentRoutes, { services });
  await app.register(runRoutes, { services, clock: deps.clock });
  await app.register(secretRoutes, { services });
  await app.register(webhookRoutes, { services });
  await app.register(forecastRoutes, { services });
  await app.register(accessRoutes, { services });
  await app.register(budgetRoutes, { services });
  await app.register(auditRoutes, { services });
  if (options.metrics) await app.register(metricsRoutes, { services, ...options.metrics });
  // The dashboard: sign-in sessions, the schedule editor's preview, and the built web app.
  await app.register(sessionRoutes, { services });
  await app.register(previewRoutes, { services });
  await app.register(staticRoutes, { webDir: options.webDir });
  return app;
}

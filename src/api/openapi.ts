import type { SwaggerOptions } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { CSRF_HEADER, SESSION_COOKIE } from '../domain/sessions.js';
import { VERSION } from '../version.js';
import { SECURITY_HEADERS } from './static-routes.js';

/**
 * The OpenAPI document (served at /api/openapi.json) and its interactive reference (/api/docs).
 *
 * The document declares OpenAPI 3.1: the route schemas are TypeBox's JSON Schema 2020-12
 * (`exclusiveMinimum: 0` as a number, `type: [..., 'null']`), which 3.1 is and 3.0 is not. Every
 * operation has an `operationId` (the method names of generated clients) and one of the tags
 * below; test/api/openapi-lint.test.ts holds it to Redocly's recommended rules.
 */

/** The areas of the API, in the order the reference lists them. */
const TAGS = [
  { name: 'agents', description: 'Agents: a prompt on a cron schedule, with its run options. Manual runs and cancels.' },
  { name: 'runs', description: "An agent's run history, a run, its events (paged, live, or as a JSON Lines download)." },
  { name: 'stats', description: 'Run counts, cost, tokens and durations, for one agent or the whole deployment.' },
  { name: 'schedules', description: "The schedule editor's check of a cron expression: its description and next fire times." },
  { name: 'secrets', description: "An agent's secrets. Write-only: values are never read back." },
  { name: 'webhooks', description: 'Notifications of run events (Standard Webhooks or Slack), and their delivery log.' },
  { name: 'budget', description: 'Spending caps for the deployment, and what has been spent against them.' },
  { name: 'audit', description: 'Who changed what, when, from where, and with which credential; prompt versions.' },
  { name: 'access', description: 'Users, their roles and passwords, and API tokens.' },
  { name: 'session', description: "The dashboard's sign-in session (an httpOnly cookie)." },
  { name: 'system', description: 'Prometheus metrics. Also public, and not listed here: GET /healthz, and this document at GET /api/openapi.json.' },
];

export const OPENAPI_OPTIONS: SwaggerOptions = {
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'cron-agents',
      description:
        'Runs Claude agents on cron schedules. Every /api route but this document, its reference (/api/docs) and sign-in ' +
        "needs `Authorization: Bearer <token>` (`cron-agents token create USER`) or the dashboard's session cookie; with the cookie, " +
        `writes also need the \`${CSRF_HEADER}\` header. Errors are \`{"error": {"code", "message", "details": [{"field", "message"}]}}\`.`,
      version: VERSION,
      // The package declares no license (package.json is private): the document says so (as an SPDX LicenseRef) rather than invent one.
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    // The origin the document is served from: the interactive reference's requests stay on it,
    // as its Content-Security-Policy (connect-src 'self') requires; clients set their own base URL.
    servers: [{ url: '/', description: 'This service' }],
    tags: TAGS,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API token: `cron-agents token create USER`, or POST /api/tokens.' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: `The dashboard's sign-in (POST /api/session); writes also need the \`${CSRF_HEADER}\` header it returns.`,
        },
      },
    },
    // Either scheme, on every operation that does not say otherwise (public ones say `security: []`).
    security: [{ bearer: [] }, { session: [] }],
  },
};

/**
 * /api/docs: Swagger UI over the same document, readable without signing in. Its page loads
 * only its own scripts and styles (no inline ones), so it keeps the dashboard's strict policy.
 */
const apiDocs: FastifyPluginAsync = async (app) => {
  // Public, as /api/openapi.json is: this hook sees the plugin's routes as they are added.
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, public: true };
  });
  // The dashboard's headers, its Content-Security-Policy among them.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    // Swagger UI's page without its top bar: that bar's logo is an SVG with an inline <style>,
    // which the policy refuses (and its URL box would only load documents of this origin anyway).
    uiConfig: { layout: 'BaseLayout', deepLinking: true, displayOperationId: true },
    theme: { title: 'cron-agents API' },
  });
};

/** Registers the reference; the OpenAPI document itself is @fastify/swagger's, registered with OPENAPI_OPTIONS. */
export async function registerApiDocs(app: FastifyInstance): Promise<void> {
  await app.register(apiDocs);
}

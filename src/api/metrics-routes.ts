import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../domain/errors.js';
import type { Services } from '../services/services.js';
import { ErrorBody } from './schemas/common.js';
import { MetricsText } from './schemas/metrics.js';

/** What /metrics shows: the engine's Metrics (engine/metrics.ts), seen only through this. */
export interface MetricsSource {
  readonly contentType: string;
  render(): Promise<string>;
}

export interface MetricsRoutesOptions {
  services: Services;
  source: MetricsSource;
  /** CRON_AGENTS_METRICS_TOKEN: when set, the one token accepted; otherwise any user's API token. */
  token: string | null;
}

function bearerOf(request: FastifyRequest): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1] ?? null;
}

/** Equal in constant time: both sides are hashed first, so neither their bytes nor their lengths show in the timing. */
function sameToken(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * GET /metrics for Prometheus. Outside /api (where scrapers look for it), so the API's auth hook
 * passes it by; it checks its own bearer token: the metrics token when one is configured (a
 * scraper then holds no user's token), else any user's API token, whatever its role. No session
 * cookie: a scraper has none, and a browser that does need not read this.
 */
export const metricsRoutes: FastifyPluginAsync<MetricsRoutesOptions> = async (app, { services, source, token }) => {
  app.get(
    '/metrics',
    {
      config: { public: true },
      schema: {
        operationId: 'getMetrics',
        tags: ['system'],
        summary: 'Prometheus metrics of this instance, and deployment-wide gauges',
        description: 'Needs a bearer token: CRON_AGENTS_METRICS_TOKEN when it is set (and then only it), otherwise any API token.',
        security: [{ bearer: [] }],
        response: { 200: MetricsText, 401: ErrorBody },
      },
    },
    async (request, reply) => {
      const given = bearerOf(request);
      reply.header('www-authenticate', 'Bearer realm="cron-agents metrics"');
      if (given === null) throw new UnauthorizedError('missing bearer token: send "Authorization: Bearer <token>"');
      if (token !== null) {
        if (!sameToken(given, token)) throw new UnauthorizedError('invalid token: /metrics accepts only CRON_AGENTS_METRICS_TOKEN');
      } else {
        await services.access.authenticateToken(given, request.log);
      }
      reply.removeHeader('www-authenticate');
      const text = await source.render();
      return reply.header('cache-control', 'no-store').type(source.contentType).send(text);
    },
  );
};

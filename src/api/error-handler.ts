import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { LIMITS } from '../defaults.js';
import { AppError, type FieldProblem } from '../domain/errors.js';
import { isTransientDatabaseError } from '../store/transient-errors.js';

/** Seconds a client is asked to wait before trying again when the database is busy or unreachable. */
export const DATABASE_RETRY_AFTER_S = 2;

const STATUS_BY_CODE: Record<string, number> = {
  validation_error: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Names the field an ajv error is about: `maxTurns`, `allowedTools[2]`, `limit`. */
function fieldProblem(error: AjvError, context: string | undefined): FieldProblem {
  const path = error.instancePath
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  if (error.keyword === 'required') {
    const missing = String(error.params.missingProperty);
    return { field: path ? `${path}.${missing}` : missing, message: 'is required' };
  }
  if (error.keyword === 'additionalProperties') {
    const extra = String(error.params.additionalProperty);
    return { field: path ? `${path}.${extra}` : extra, message: 'is not a known field' };
  }
  if (error.keyword === 'minProperties') {
    return { field: path || context || 'body', message: 'must contain at least one field' };
  }
  if (error.keyword === 'pattern' && error.params.pattern === '\\S') {
    return { field: path || context || 'body', message: 'must not be empty or blank' };
  }
  return { field: path || context || 'body', message: error.message ?? 'is invalid' };
}

/** Keeps one problem per field: a union's branches would otherwise each add a line. */
function uniqueByField(problems: FieldProblem[]): FieldProblem[] {
  const seen = new Map<string, FieldProblem>();
  for (const problem of problems) if (!seen.has(problem.field)) seen.set(problem.field, problem);
  return [...seen.values()];
}

/**
 * At most LIMITS.errorDetails problems, and a message naming them (and how many more there were):
 * an answer stays small however many problems a request has.
 */
function capped(problems: FieldProblem[]): { details: FieldProblem[]; more: number } {
  return { details: problems.slice(0, LIMITS.errorDetails), more: Math.max(0, problems.length - LIMITS.errorDetails) };
}

/**
 * A JSON parse error's message without the excerpt of the body that V8 quotes (`Unexpected token
 * 's', ..."{"value": s3cr"... is not valid JSON`): the body may be a secret's value, and no
 * response carries one.
 */
function withoutBodyExcerpt(message: string): string {
  return message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, ': the body is not valid JSON');
}

/** The one place where errors become HTTP responses: `{"error": {code, message, details}}`. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError & { validation?: AjvError[]; validationContext?: string }, request, reply) => {
    if (error instanceof AppError) {
      const { details } = capped(error.details);
      return reply.status(STATUS_BY_CODE[error.code] ?? 400).send({ error: { code: error.code, message: error.message, details } });
    }
    if (error.validation) {
      // anyOf failures repeat the branches' errors; the branch-specific ones name the field best.
      const { details, more } = capped(
        uniqueByField(error.validation.filter((e) => e.keyword !== 'anyOf').map((e) => fieldProblem(e, error.validationContext))),
      );
      const message = details.map((d) => `${d.field} ${d.message}`).join('; ') + (more > 0 ? `; and ${more} more` : '');
      return reply.status(400).send({ error: { code: 'validation_error', message: message || 'invalid request', details } });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code =
        error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
          ? 'invalid_json'
          : error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
            ? 'body_too_large'
            : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
              ? 'unsupported_media_type'
              : error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
                ? 'empty_body'
                : 'bad_request';
      const message = code === 'invalid_json' ? withoutBodyExcerpt(error.message) : error.message;
      return reply.status(status).send({ error: { code, message, details: [] } });
    }
    if (isTransientDatabaseError(error)) {
      request.log.warn({ err: error }, 'request failed: the database is busy or unreachable');
      return reply
        .status(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_S))
        .send({ error: { code: 'database_unavailable', message: 'The database is busy or unreachable; try again shortly', details: [] } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ error: { code: 'internal_error', message: 'Internal server error', details: [] } });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}`, details: [] } });
  });
}

/**
 * Errors the router raises before any route (and so before the error handler) runs: a malformed
 * URL (400) or a path parameter over the router's length limit (414). Fastify's own bodies for
 * these do not have the API's error shape, so they are answered here.
 */
export function frameworkErrorReply(error: FastifyError, _request: unknown, reply: FastifyReply): void {
  const status = error.statusCode ?? 400;
  const code = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'uri_too_long' : error.code === 'FST_ERR_BAD_URL' ? 'bad_url' : 'bad_request';
  void reply.status(status).send({ error: { code, message: error.message, details: [] } });
}

import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { CourierError } from '../../domain/errors.js';
import type { Logger } from '../../observability/logger.js';

export interface HttpAppOptions {
  logger: Logger;
  tls?: { key: Buffer; cert: Buffer };
  /** Honour X-Forwarded-For from a load balancer for the client address. */
  trustProxy?: boolean;
  /** Time a client has to send a whole request, body included; 0 or undefined: no limit. */
  requestTimeoutMs?: number;
  /** Time a connection may stay silent (between requests, or mid-body) before it is closed. */
  idleTimeoutMs?: number;
}

/** Fastify codes of bad input, answered with a stable snake_case code of ours. */
const fastifyCodes: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_request',
  FST_ERR_CTP_BODY_TOO_LARGE: 'too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
};

/**
 * The HTTP gateway's Fastify instance: every error leaves as
 * `{"error": {"code", "message"}}` with a fitting status, as the contract says.
 */
export function createHttpApp(options: HttpAppOptions): FastifyInstance {
  const app = Fastify({
    // Fastify logs every request at info; those lines are kept for debug and trace levels only.
    loggerInstance: ['debug', 'trace'].includes(options.logger.level) ? options.logger : options.logger.child({}, { level: 'warn' }),
    trustProxy: options.trustProxy ?? false,
    // A slow client must not hold a socket (and an upload's temporary file) for ever.
    requestTimeout: options.requestTimeoutMs ?? 0,
    connectionTimeout: options.idleTimeoutMs ?? 0,
    // A field of the wrong type is bad input, not something to convert silently.
    ajv: { customOptions: { coerceTypes: false } },
    ...(options.tls ? { https: options.tls } : {}),
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err: FastifyError | CourierError, request, reply) => {
    if (err instanceof CourierError) {
      if (err.retryAfterSeconds !== undefined) void reply.header('retry-after', String(err.retryAfterSeconds));
      return reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    }
    if (err.validation) {
      return reply.status(400).send({ error: { code: 'invalid_request', message: `Invalid request: ${err.message}.` } });
    }
    const status = err.statusCode ?? 500;
    if (status < 500) {
      const code = fastifyCodes[err.code] ?? 'invalid_request';
      return reply.status(status).send({ error: { code, message: err.message } });
    }
    request.log.error({ err, url: request.url }, 'request failed');
    return reply.status(500).send({ error: { code: 'internal_error', message: 'The server failed to answer; try again.' } });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}.` } }),
  );
  return app;
}

import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { RedisConnection } from '../../adapters/redis-connection.js';
import { CourierError } from '../../domain/errors.js';

export interface HttpRateLimitSettings {
  /** Requests per client address per minute, on every route. */
  perMinute: number;
  /** Shares the counts between the nodes of a cluster; undefined counts on this node only. */
  redis?: RedisConnection;
  /** Key prefix in Redis, one per deployment. */
  prefix: string;
}

/**
 * Limits every HTTP request per client address, with `@fastify/rate-limit`, as an app-wide
 * `onRequest` hook: it runs before the routes' own hooks (a request refused by authentication is
 * counted too) and for unknown routes. Past the limit: `429 rate_limited` with `Retry-After`.
 */
export async function limitHttpRate(app: FastifyInstance, settings: HttpRateLimitSettings): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    max: settings.perMinute,
    timeWindow: 60_000,
    // A Cluster has the commands the plugin uses (defineCommand, one key per call) under its own type.
    ...(settings.redis !== undefined && { redis: settings.redis as Redis, nameSpace: `${settings.prefix}http-rate:` }),
    // A Redis outage must not refuse every request of the deployment; it is logged and counted.
    skipOnError: true,
    errorResponseBuilder: (_request, context) => {
      const seconds = Math.max(1, Math.ceil(context.ttl / 1000));
      return new CourierError('rate_limited', `Too many requests from this address; try again in ${seconds} s.`, 429, seconds);
    },
  });
  app.addHook('onRequest', app.rateLimit());
}

import type { RateDecision, RateLimiter } from '../../../ports/rate-limiter.js';
import { connectRedis, type RedisConnection } from '../../redis-connection.js';

export interface RedisRateLimiterOptions {
  /** `redis://...`, or `redis+cluster://host:port,...` for a Redis Cluster (each hit is one key, so one slot). */
  url: string;
  /** Prefix of every key this limiter writes (default `courier:rate:`). */
  keyPrefix?: string;
  /** Connection errors seen in the background; defaults to `process.emitWarning`. */
  onError?: (err: Error) => void;
}

/**
 * Counts and starts the window in one step, so concurrent hits from many nodes can neither lose a
 * count nor leave a counter without expiry. A counter found without a TTL (written by hand, or
 * by an interrupted older version) gets one rather than blocking its key forever.
 */
const HIT_LUA = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

interface RateCommands {
  courierRateHit(key: string, windowMs: number): Promise<[number, number]>;
}

/** Fixed windows in Redis: every node using the same Redis and prefix shares the counts. */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: RedisConnection & RateCommands;
  private readonly keyPrefix: string;

  constructor(options: RedisRateLimiterOptions) {
    this.keyPrefix = options.keyPrefix ?? 'courier:rate:';
    const redis = connectRedis(options.url, options.onError ?? ((err: Error) => process.emitWarning(err)));
    redis.defineCommand('courierRateHit', { numberOfKeys: 1, lua: HIT_LUA });
    // defineCommand adds the method at run time; ioredis cannot type it.
    this.redis = redis as RedisConnection & RateCommands;
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateDecision> {
    const [count, ttl] = await this.redis.courierRateHit(this.keyPrefix + key, windowMs);
    if (count <= limit) return { allowed: true, retryAfterMs: 0 };
    // PTTL can read 0 in the last millisecond of a window; a refusal always asks for a wait.
    return { allowed: false, retryAfterMs: Math.max(1, ttl) };
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { MemoryRateLimiter } from '../src/adapters/rate-limiter/memory/memory-rate-limiter.js';
import { RedisRateLimiter } from '../src/adapters/rate-limiter/redis/redis-rate-limiter.js';
import { runRateLimiterContract } from './support/rate-limiter-contract.js';

const URL = 'redis://127.0.0.1:6379';
const PREFIX = `courier-test-${randomBytes(6).toString('hex')}:rate:`;

runRateLimiterContract('MemoryRateLimiter', () => new MemoryRateLimiter());
runRateLimiterContract('RedisRateLimiter', () => new RedisRateLimiter({ url: URL, keyPrefix: PREFIX }));

describe('MemoryRateLimiter', () => {
  it('lets go of windows that ended', async () => {
    const l = new MemoryRateLimiter({ sweepIntervalMs: 20 });
    for (let i = 0; i < 100; i++) await l.hit(`ip-${i}`, 5, 50);
    assert.equal(l.size, 100);
    await sleep(80);
    await l.hit('late', 5, 10_000);
    assert.equal(l.size, 1);
    await l.close();
  });
});

describe('RedisRateLimiter', () => {
  const redis = new Redis(URL);
  after(async () => {
    const keys = await redis.keys(`${PREFIX}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('shares counts between instances, as the nodes of a cluster do', async () => {
    const [a, b] = [
      new RedisRateLimiter({ url: URL, keyPrefix: PREFIX }),
      new RedisRateLimiter({ url: URL, keyPrefix: PREFIX }),
    ];
    try {
      assert.equal((await a.hit('shared', 3, 10_000)).allowed, true);
      assert.equal((await b.hit('shared', 3, 10_000)).allowed, true);
      assert.equal((await a.hit('shared', 3, 10_000)).allowed, true);
      const refused = await b.hit('shared', 3, 10_000);
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterMs > 0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('gives an expiry to a counter found without one', async () => {
    const l = new RedisRateLimiter({ url: URL, keyPrefix: PREFIX });
    try {
      await redis.set(`${PREFIX}stuck`, '100');
      const refused = await l.hit('stuck', 3, 5_000);
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 5_000);
      assert.ok((await redis.pttl(`${PREFIX}stuck`)) > 0);
    } finally {
      await l.close();
    }
  });
});

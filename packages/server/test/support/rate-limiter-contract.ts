import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RateLimiter } from '../../src/ports/rate-limiter.js';

/** The guarantees of the RateLimiter port, against one adapter. */
export function runRateLimiterContract(name: string, open: () => RateLimiter): void {
  describe(`RateLimiter contract: ${name}`, () => {
    const limiters: RateLimiter[] = [];
    const limiter = (): RateLimiter => {
      const l = open();
      limiters.push(l);
      return l;
    };
    after(async () => {
      await Promise.all(limiters.map((l) => l.close()));
    });

    it('allows up to the limit, then refuses with the time left in the window', async () => {
      const l = limiter();
      for (let i = 0; i < 3; i++) assert.deepEqual(await l.hit('limit', 3, 10_000), { allowed: true, retryAfterMs: 0 });
      const refused = await l.hit('limit', 3, 10_000);
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 10_000, `retryAfterMs ${refused.retryAfterMs}`);
    });

    it('starts a new window once the last one ends', async () => {
      const l = limiter();
      assert.equal((await l.hit('expiry', 1, 150)).allowed, true);
      const refused = await l.hit('expiry', 1, 150);
      assert.equal(refused.allowed, false);
      assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 150);
      await sleep(200);
      assert.equal((await l.hit('expiry', 1, 150)).allowed, true);
    });

    it('counts each key on its own', async () => {
      const l = limiter();
      assert.equal((await l.hit('key-a', 1, 10_000)).allowed, true);
      assert.equal((await l.hit('key-a', 1, 10_000)).allowed, false);
      assert.equal((await l.hit('key-b', 1, 10_000)).allowed, true);
    });

    it('counts concurrent hits exactly', async () => {
      const l = limiter();
      const decisions = await Promise.all(Array.from({ length: 50 }, () => l.hit('burst', 10, 10_000)));
      assert.equal(decisions.filter((d) => d.allowed).length, 10);
    });
  });
}

/** The small pure parts of push: reading a push service's answer, the retry delay, the failure window. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeOfStatus, retryAfterToMs } from '../src/adapters/push/push-outcome.js';
import { PushFailureWindow } from '../src/observability/push-failure-window.js';
import { ConcurrencyLimit } from '../src/services/push/concurrency-limit.js';
import { PushHosts } from '../src/services/push/push-hosts.js';
import { retryDelay } from '../src/services/push/retry-delay.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

describe('push service answers', () => {
  it('classifies statuses as the PushSender port says', () => {
    assert.equal(outcomeOfStatus(201, undefined).kind, 'sent');
    assert.equal(outcomeOfStatus(404, undefined).kind, 'gone');
    assert.equal(outcomeOfStatus(410, undefined).kind, 'gone');
    assert.deepEqual(outcomeOfStatus(429, '7', NOW), { kind: 'retry', status: 429, reason: 'HTTP 429', retryAfterMs: 7000 });
    assert.equal(outcomeOfStatus(502, undefined).kind, 'retry');
    assert.equal(outcomeOfStatus(400, undefined).kind, 'refused');
    assert.equal(outcomeOfStatus(413, undefined).kind, 'refused');
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfterToMs('120', NOW), 120_000);
    assert.equal(retryAfterToMs('Thu, 01 Jan 2026 00:00:30 GMT', NOW), 30_000);
    assert.equal(retryAfterToMs('Wed, 31 Dec 2025 23:00:00 GMT', NOW), 0, 'a date in the past: at once');
    assert.equal(retryAfterToMs('soon', NOW), undefined);
    assert.equal(retryAfterToMs(undefined, NOW), undefined);
  });

  it('backs off exponentially, never before Retry-After, and gives up on a very long one', () => {
    assert.equal(retryDelay(1, undefined, () => 1), 1000);
    assert.equal(retryDelay(3, undefined, () => 1), 4000);
    assert.equal(retryDelay(3, undefined, () => 0), 2000, 'jitter takes at most half');
    assert.equal(retryDelay(1, 30_000, () => 1), 30_000);
    assert.equal(retryDelay(1, 3_600_000), undefined);
  });
});

describe('--push-hosts', () => {
  it('allows exact names and names below a *.domain, whatever the port, and nothing else', () => {
    const hosts = new PushHosts('fcm.googleapis.com, *.notify.windows.com');
    assert.ok(hosts.allows(new URL('https://fcm.googleapis.com/fcm/send/x')));
    assert.ok(hosts.allows(new URL('https://FCM.googleapis.com:8443/x')));
    assert.ok(hosts.allows(new URL('https://wns2-par02p.notify.windows.com/w/?token=x')));
    assert.ok(!hosts.allows(new URL('https://notify.windows.com/')), '*.domain is below the domain only');
    assert.ok(!hosts.allows(new URL('https://evilnotify.windows.com/')));
    assert.ok(!hosts.allows(new URL('https://fcm.googleapis.com.evil.example/')));
    assert.ok(!hosts.allows(new URL('https://127.0.0.1/')));
  });

  it('refuses an entry that is not a host name', () => {
    assert.throws(() => new PushHosts('https://fcm.googleapis.com/'), /--push-hosts/);
  });
});

describe('PushFailureWindow', () => {
  it('gives the failed share over the last 5 minutes, once there were 20 requests', () => {
    let now = NOW;
    const window = new PushFailureWindow(() => now);
    for (let i = 0; i < 19; i++) window.record(true);
    assert.equal(window.failurePercent(), undefined, 'too few to judge');
    window.record(false);
    assert.equal(window.failurePercent(), 95);
    now += 6 * 60_000;
    for (let i = 0; i < 20; i++) window.record(i % 4 === 0);
    assert.equal(window.failurePercent(), 25, 'the old failures left the window');
  });
});

describe('ConcurrencyLimit', () => {
  it('runs at most max tasks at once and every task in the end', async () => {
    const limit = new ConcurrencyLimit(3);
    let running = 0;
    let most = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limit.run(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((resolve) => setImmediate(resolve));
          running--;
          if (i === 5) throw new Error('one fails');
          return i;
        }).catch(() => -1),
      ),
    );
    assert.equal(most, 3);
    assert.deepEqual(results, Array.from({ length: 20 }, (_, i) => (i === 5 ? -1 : i)));
  });
});

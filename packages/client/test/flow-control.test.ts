/**
 * Against a server with a tight frame rate limit, a burst of sends still gets through: the SDK
 * shrinks its window on `rate_limited` (and on a 1008 close), writes unanswered sends again with
 * the same ids, and the recipient sees each message once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MessageEvent } from '../src/node.js';
import { clientOf } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { waitUntil, within } from './support/wait.js';

const env = sharedServer(['alice', 'bob'], { args: ['--frame-rate', '20'] });

test('100 sends at once past a 20 frames/s limit: all answered, each delivered once', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const seen = new Map<string, number>();
  const rateErrors: unknown[] = [];
  b.on('message', (m: MessageEvent) => void seen.set(m.body ?? '', (seen.get(m.body ?? '') ?? 0) + 1));
  a.on('frame', (f) => {
    if (f.type === 'error' && f.code === 'rate_limited') rateErrors.push(f);
  });
  try {
    await a.connect();
    await b.connect();
    const sent = await within(
      'all 100 answered',
      Promise.all(Array.from({ length: 100 }, (_, i) => a.send({ to: env.bob.userId, body: `burst ${i}` }))),
      40_000,
    );
    assert.equal(new Set(sent.map((s) => s.serverId)).size, 100);
    await waitUntil('bob has all 100', () => seen.size === 100, 20_000);
    for (const [body, count] of seen) assert.equal(count, 1, `${body} shown ${count} times`);
    assert.ok(rateErrors.length > 0, 'the burst did hit the rate limit (otherwise this test proves nothing)');
  } finally {
    await a.close();
    await b.close();
  }
});

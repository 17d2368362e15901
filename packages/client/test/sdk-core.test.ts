/** The SDK's pieces that need no server: browser safety of the core, backoff, URLs, seq dedupe. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SeqDedupe, dedupeKey } from '../src/dedupe.js';
import { MemoryStorage, ReconnectBackoff, httpBase, socketUrl } from '../src/index.js';
import { repoRoot } from './support/server-process.js';

test('the core imports nothing Node-only (only node.ts may)', () => {
  const dir = join(repoRoot(), 'packages', 'client', 'src');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'node.ts')) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const forbidden of [/from '(node:)?(fs|path|os|net|http|https|crypto|events|stream|buffer|url|process)'/, /from 'node:/, /from 'ws'/, /\bBuffer\b/, /\bprocess\./, /\brequire\(/]) {
      assert.doesNotMatch(source, forbidden, `${file} must run in a browser`);
    }
  }
});

test('backoff grows exponentially, stays within [ceiling/2, ceiling], caps, and resets', () => {
  let r = 0;
  const backoff = new ReconnectBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, random: () => r });
  assert.deepEqual([backoff.next(), backoff.next(), backoff.next(), backoff.next(), backoff.next()], [50, 100, 200, 400, 500]);
  r = 0.999999;
  assert.equal(backoff.next(), 1_000);
  backoff.reset();
  assert.equal(backoff.next(), 100);
  const jittered = new ReconnectBackoff({ initialDelayMs: 1_000 });
  for (let i = 0; i < 50; i++) {
    const d = new ReconnectBackoff({ initialDelayMs: 1_000 }).next();
    assert.ok(d >= 500 && d <= 1_000);
  }
  assert.ok(jittered.next() <= 1_000);
});

test('server URLs map to the HTTP base and the socket URL', () => {
  assert.equal(httpBase('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080');
  assert.equal(socketUrl('http://127.0.0.1:8080'), 'ws://127.0.0.1:8080/v1/ws');
  assert.equal(socketUrl('https://chat.example.com/courier/'), 'wss://chat.example.com/courier/v1/ws');
  assert.equal(httpBase('wss://chat.example.com/v1/ws'), 'https://chat.example.com');
  assert.throws(() => httpBase('ftp://x'));
});

test('seq dedupe remembers the highest handled seq through its storage', async () => {
  const storage = new MemoryStorage();
  const key = dedupeKey('+15551234567', 'token-1');
  assert.notEqual(key, dedupeKey('+15551234567', 'token-2'), 'a new device starts afresh');
  const first = new SeqDedupe(storage, key);
  await first.load();
  assert.equal(first.isDuplicate(1), false);
  first.handled(1);
  first.handled(2);
  assert.equal(first.isDuplicate(2), true);
  assert.equal(first.isDuplicate(3), false);
  await first.persist();
  const restarted = new SeqDedupe(storage, key);
  await restarted.load();
  assert.equal(restarted.isDuplicate(2), true);
  assert.equal(restarted.isDuplicate(3), false);
});

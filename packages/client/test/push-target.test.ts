/** Push targets through the SDK: the VAPID key, setting a target, refusals, removal. Wakes themselves are tested by the server. */
import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { CourierApiError } from '../src/node.js';
import { clientOf } from './support/register.js';
import { sharedServer } from './support/shared-server.js';

const env = sharedServer(['alice'], { args: ['--push-hosts', 'push.example.com,*.gateway.example'] });

/** A subscription as `pushManager.subscribe(...).toJSON()` gives it. */
function browserSubscription(endpoint: string) {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return { endpoint, expirationTime: null, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') } };
}

test('vapidPublicKey gives the server key: 65 bytes, uncompressed P-256', async () => {
  const key = Buffer.from(await clientOf(env.server, env.alice).vapidPublicKey(), 'base64url');
  assert.equal(key.length, 65);
  assert.equal(key[0], 4);
});

test('setPushTarget takes a browser subscription or a gateway; removePushTarget resolves', async () => {
  const alice = clientOf(env.server, env.alice);
  await alice.setPushTarget({ webpush: browserSubscription('https://push.example.com/sub/abc') });
  await alice.setPushTarget({ gateway: { url: 'https://eu.gateway.example/notify', pushkey: 'fcm-token' } });
  await alice.removePushTarget();
  await alice.removePushTarget();
});

test('a target the server may not use is refused with invalid_push', async () => {
  const alice = clientOf(env.server, env.alice);
  await assert.rejects(alice.setPushTarget({ webpush: browserSubscription('https://127.0.0.1/internal') }), (err: unknown) => {
    assert.ok(err instanceof CourierApiError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_push');
    assert.match(err.message, /127\.0\.0\.1/);
    return true;
  });
  const bad = browserSubscription('https://push.example.com/sub/abc');
  await assert.rejects(alice.setPushTarget({ webpush: { ...bad, keys: { ...bad.keys, auth: 'c2hvcnQ' } } }), { code: 'invalid_push' });
});

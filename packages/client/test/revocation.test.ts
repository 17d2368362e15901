/**
 * 4001 (token revoked or refused) and 4002 (replaced by another connection of the device) stop
 * the client for good: no reconnection loop.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CourierSocketError, type CloseInfo, type DisconnectInfo, type MessageEvent } from '../src/node.js';
import { clientOf, register } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { sleep, waitUntil } from './support/wait.js';

const env = sharedServer(['alice']);

test('registering the phone again revokes the old device: closed with 4001, no reconnection', async () => {
  const bob = await register(env.server);
  // The old device looks at its inbox without acking, so what reaches it stays undelivered.
  const old = clientOf(env.server, bob, { ack: false });
  const revoked: CloseInfo[] = [];
  const disconnects: DisconnectInfo[] = [];
  let readies = 0;
  old.on('revoked', (r) => void revoked.push(r));
  old.on('disconnected', (d) => void disconnects.push(d));
  old.on('ready', () => void (readies += 1));
  await old.connect();

  // An undelivered message of bob's must reach the new device.
  const a = clientOf(env.server, env.alice);
  await a.connect();
  const pendingSend = old.send({ to: env.alice.userId, body: 'too late' });
  const waiting = await a.send({ to: bob.userId, body: 'for the new device' });

  const renewed = await register(env.server, bob.phone);
  assert.notEqual(renewed.token, bob.token);
  await waitUntil('the old device is revoked', () => old.state === 'revoked');
  assert.equal(revoked[0]?.code, 4001);
  assert.equal(disconnects.at(-1)?.willReconnect, false);
  await sleep(1_500);
  assert.equal(readies, 1, 'the revoked client did not reconnect');
  assert.equal(old.state, 'revoked');
  await pendingSend.then(
    () => undefined,
    (err: unknown) => assert.ok(err instanceof CourierSocketError),
  );
  await assert.rejects(old.send({ to: env.alice.userId, body: 'no' }), { code: 'revoked' });

  const fresh = clientOf(env.server, renewed);
  const got: MessageEvent[] = [];
  fresh.on('message', (m) => void got.push(m));
  try {
    await fresh.connect();
    await waitUntil('the new device gets the kept message', () => got.some((m) => m.serverId === waiting.serverId));
  } finally {
    await fresh.close();
    await a.close();
    await old.close();
  }
});

test('a bad token makes connect() reject, without a reconnection loop', async () => {
  const bad = clientOf(env.server, { userId: '+15550001111', token: 'not-a-valid-token', phone: '+15550001111' });
  let disconnects = 0;
  bad.on('disconnected', () => void (disconnects += 1));
  await assert.rejects(bad.connect(), (err: unknown) => {
    assert.ok(err instanceof CourierSocketError);
    assert.equal(err.code, 'revoked');
    return true;
  });
  await sleep(800);
  assert.equal(disconnects, 1);
  assert.equal(bad.state, 'revoked');
  await bad.close();
});

test('a second connection of the device replaces the first (4002); the first stops instead of fighting back', async () => {
  const first = clientOf(env.server, env.alice);
  const second = clientOf(env.server, env.alice);
  const replaced: CloseInfo[] = [];
  let firstReadies = 0;
  let secondDisconnects = 0;
  first.on('replaced', (r) => void replaced.push(r));
  first.on('ready', () => void (firstReadies += 1));
  second.on('disconnected', () => void (secondDisconnects += 1));
  try {
    await first.connect();
    await second.connect();
    await waitUntil('the first is replaced', () => first.state === 'replaced');
    assert.equal(replaced[0]?.code, 4002);
    await sleep(1_500);
    assert.equal(firstReadies, 1, 'the replaced client did not reconnect');
    assert.equal(secondDisconnects, 0, 'the second connection was left alone');
    assert.equal(second.state, 'ready');
    assert.ok((await second.ping()) >= 0);
  } finally {
    await first.close();
    await second.close();
  }
});

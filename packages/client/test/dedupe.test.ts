/**
 * The server pushes unacked events again after every reconnection; the SDK drops the repeats by
 * `seq`, in the same process and, with a persistent storage, after an app restart.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStorage, type ClientStorage, type MessageEvent } from '../src/node.js';
import { clientOf } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { sleep, waitUntil } from './support/wait.js';

const env = sharedServer(['alice', 'bob']);

/** A client that handles events but, left alone, does not ack them for a minute. */
const slowAck = { ackDelayMs: 60_000, ackEvery: 1_000_000 };

test('a repeated push of an event the app has handled is dropped by seq', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob, slowAck);
  const handled: MessageEvent[] = [];
  const pushes = new Map<number, number>();
  b.on('message', (m) => void handled.push(m));
  b.on('frame', (f) => {
    if (f.type === 'message' && typeof f.seq === 'number') pushes.set(f.seq, (pushes.get(f.seq) ?? 0) + 1);
  });
  try {
    await a.connect();
    await b.connect();
    for (let i = 0; i < 3; i++) await a.send({ to: env.bob.userId, body: `dup ${i}` });
    await waitUntil('bob handles the three', () => handled.length === 3);

    // The acks were never written; the crash makes the server push all three again.
    await env.server.restart('kill');
    const after = await a.send({ to: env.bob.userId, body: 'dup after' });
    await waitUntil('bob handles the new one', () => handled.some((m) => m.serverId === after.serverId), 20_000);

    const firstThree = handled.slice(0, 3).map((m) => m.seq);
    for (const seq of firstThree) assert.equal(pushes.get(seq), 2, `seq ${seq} was pushed twice`);
    assert.deepEqual(
      handled.map((m) => m.body),
      ['dup 0', 'dup 1', 'dup 2', 'dup after'],
      'the app saw each message once',
    );
  } finally {
    await a.close();
    await b.close();
  }

  // close() acked everything, repeats included: a fresh client of the device gets nothing.
  const fresh = clientOf(env.server, env.bob);
  const again: MessageEvent[] = [];
  fresh.on('message', (m) => void again.push(m));
  await fresh.connect();
  await sleep(500);
  await fresh.close();
  assert.deepEqual(again, []);
});

test('with a persistent storage, a restarted app does not show what it showed before', async () => {
  const persistent: ClientStorage = new MemoryStorage();
  const a = clientOf(env.server, env.alice);
  const before = clientOf(env.server, env.bob, { ...slowAck, storage: persistent });
  const shownBefore: string[] = [];
  before.on('message', (m) => void shownBefore.push(m.body ?? ''));
  await a.connect();
  await before.connect();
  for (let i = 0; i < 3; i++) await a.send({ to: env.bob.userId, body: `persist ${i}` });
  await waitUntil('the first app shows the three', () => shownBefore.length === 3);

  // The app dies before acking: the server has to push the three again to the next app.
  await env.server.restart('kill');
  await before.close();

  const restarted = clientOf(env.server, env.bob, { storage: persistent });
  const shownAfter: string[] = [];
  let repushed = 0;
  restarted.on('message', (m) => void shownAfter.push(m.body ?? ''));
  restarted.on('frame', (f) => {
    if (f.type === 'message') repushed += 1;
  });
  try {
    await restarted.connect();
    await waitUntil('the three are pushed again', () => repushed >= 3);
    const next = await a.send({ to: env.bob.userId, body: 'persist next' });
    await waitUntil('the new one is shown', () => shownAfter.includes('persist next'));
    assert.deepEqual(shownAfter, ['persist next']);
    assert.ok(next.serverId);
  } finally {
    await a.close();
    await restarted.close();
  }
});

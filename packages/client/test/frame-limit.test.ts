/**
 * The frame limit comes from the server: a send over it is refused by the SDK (with a hint to send
 * the content as media) before it could cost the socket a 1009 close; a blank body is refused too.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CourierSocketError, type MessageEvent } from '../src/node.js';
import { clientOf } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { waitUntil } from './support/wait.js';

const env = sharedServer(['alice', 'bob'], { args: ['--max-frame-bytes', '2048'] });

test('a send over the limit the server gave in ready is refused locally, and the socket stays up', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const received: MessageEvent[] = [];
  b.on('message', (m) => void received.push(m));
  let disconnects = 0;
  a.on('disconnected', () => void disconnects++);
  try {
    const ready = await a.connect();
    assert.equal(ready.maxFrameBytes, 2048);
    await b.connect();
    // 3,000 bytes: under the 64 KiB default, over this server's limit.
    await assert.rejects(a.send({ to: env.bob.userId, body: 'x'.repeat(3000) }), (err: unknown) => {
      assert.ok(err instanceof CourierSocketError);
      assert.equal(err.code, 'frame_too_large');
      assert.match(err.message, /limit of 2048/);
      assert.match(err.message, /media/);
      return true;
    });
    await assert.rejects(a.send({ to: env.bob.userId, body: ' \n ' }), /must contain some text/);
    const sent = await a.send({ to: env.bob.userId, body: 'small' });
    await waitUntil('bob gets the small message', () => received.length === 1);
    assert.equal(received[0]!.serverId, sent.serverId, 'nothing of the refused sends reached bob');
    assert.equal(disconnects, 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('an explicit maxFrameBytes option wins over the server', async () => {
  const a = clientOf(env.server, env.alice, { maxFrameBytes: 100 });
  try {
    await a.connect();
    await assert.rejects(a.send({ to: env.bob.userId, body: 'y'.repeat(200) }), /limit of 100/);
  } finally {
    await a.close();
  }
});

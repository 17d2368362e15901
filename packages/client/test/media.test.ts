/** Media over HTTP: upload (bytes, Blob, stream), download with ranges, and messages that carry media. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { CourierApiError, CourierSocketError, type MessageEvent } from '../src/node.js';
import { clientOf } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { waitUntil } from './support/wait.js';

const env = sharedServer(['alice', 'bob']);

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

test('upload answers the sha-256, stores the same bytes once, and downloads them back', async () => {
  const a = clientOf(env.server, env.alice);
  const bytes = new Uint8Array(randomBytes(200_000));
  const ref = await a.upload(bytes, 'image/jpeg');
  assert.deepEqual(ref, { hash: sha256(bytes), size: bytes.length, mime: 'image/jpeg' });

  assert.deepEqual(await a.upload(new Blob([bytes]), 'image/jpeg'), ref, 'a Blob of the same bytes');
  assert.deepEqual(await a.upload(bytes.buffer.slice(0), 'image/jpeg'), ref, 'an ArrayBuffer of the same bytes');
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 65_536) controller.enqueue(bytes.slice(i, i + 65_536));
      controller.close();
    },
  });
  assert.deepEqual(await a.upload(stream, 'image/jpeg'), ref, 'a stream of the same bytes');

  // Bob was never sent the blob: he gets the 404 of an unknown hash. Its uploader gets the bytes.
  await assert.rejects(clientOf(env.server, env.bob).downloadBytes(ref.hash), (err: unknown) => err instanceof CourierApiError && err.status === 404);
  const b = a;
  const response = await b.download(ref.hash);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('content-type'), 'image/jpeg');
  assert.equal(response.headers.get('content-length'), String(bytes.length));
  assert.ok(response.headers.get('etag'));
  assert.deepEqual(new Uint8Array(await response.arrayBuffer()), bytes);

  const part = await b.download(ref.hash, { range: { start: 10, end: 19 } });
  assert.equal(part.status, 206);
  assert.deepEqual(new Uint8Array(await part.arrayBuffer()), bytes.slice(10, 20));

  await assert.rejects(b.downloadBytes('0'.repeat(64)), (err: unknown) => {
    assert.ok(err instanceof CourierApiError);
    assert.equal(err.status, 404);
    return true;
  });
});

test('a message carries media; an unknown hash is refused with unknown_media', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const got: MessageEvent[] = [];
  b.on('message', (m) => void got.push(m));
  try {
    await a.connect();
    await b.connect();
    const bytes = new TextEncoder().encode('a voice note, say');
    const ref = await a.upload(bytes, 'audio/ogg');
    const sent = await a.send({ to: env.bob.userId, media: { ...ref, caption: 'listen' } });
    await waitUntil('bob gets the media message', () => got.some((m) => m.serverId === sent.serverId));
    const m = got.find((x) => x.serverId === sent.serverId)!;
    assert.equal(m.media?.hash, ref.hash);
    assert.equal(m.media?.mime, 'audio/ogg');
    assert.equal(m.media?.size, bytes.length);
    assert.equal(m.media?.caption, 'listen');
    assert.deepEqual(await b.downloadBytes(m.media.hash), bytes);

    await assert.rejects(a.send({ to: env.bob.userId, media: { hash: 'f'.repeat(64), mime: 'image/png', size: 1 } }), (err: unknown) => {
      assert.ok(err instanceof CourierSocketError);
      assert.equal(err.code, 'unknown_media');
      return true;
    });
  } finally {
    await a.close();
    await b.close();
  }
});

test('media calls need a valid token', async () => {
  const anonymous = clientOf(env.server, { ...env.alice, token: 'wrong' });
  await assert.rejects(anonymous.upload(new Uint8Array([1, 2, 3]), 'application/octet-stream'), {
    name: 'CourierApiError',
    status: 401,
    code: 'unauthorized',
  });
});

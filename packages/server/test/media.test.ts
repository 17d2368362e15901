import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LocalDiskBlobStore } from '../src/adapters/blob/local-disk/local-disk-blob-store.js';
import { PostgresBlobStore } from '../src/adapters/blob/postgres/postgres-blob-store.js';
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import { SqliteStore } from '../src/adapters/store/sqlite/sqlite-store.js';
import type { BlobStore } from '../src/ports/blob-store.js';
import type { Store } from '../src/ports/store.js';
import { MediaService } from '../src/services/media-service.js';
import { createTestDatabase } from './support/postgres-database.js';
import { startTestNode, type TestNode } from './support/test-node.js';

const MiB = 1024 * 1024;
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** `size` pseudo-random bytes made chunk by chunk (never all in memory), and their SHA-256 once read. */
function randomStream(size: number, chunkSize = 256 * 1024): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let left = size;
  const stream = new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(chunkSize, left));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/** POST /v1/media with a streamed body: chunked, no Content-Length. */
function uploadStream(t: TestNode, token: string, stream: Readable, mime = 'application/octet-stream'): Promise<Response> {
  return fetch(`${t.url}/v1/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': mime },
    body: Readable.toWeb(stream),
    duplex: 'half',
  } as unknown as RequestInit);
}

async function upload(t: TestNode, token: string, bytes: Buffer, mime = 'application/octet-stream'): Promise<{ status: number; body: any }> {
  const response = await fetch(`${t.url}/v1/media`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': mime },
    body: new Uint8Array(bytes),
  });
  return { status: response.status, body: await response.json() };
}

function download(t: TestNode, token: string | undefined, hash: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  return fetch(`${t.url}/v1/media/${hash}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers },
  });
}

async function bodyOf(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

/** Blob files under the node's media folder (temp files excluded), and the temp files. */
async function mediaFiles(t: TestNode): Promise<{ blobs: string[]; temp: string[] }> {
  const root = join(t.dataDir, 'media');
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile());
  return {
    blobs: files.filter((e) => /^[0-9a-f]{64}$/.test(e.name)).map((e) => e.name),
    temp: await readdir(join(root, 'tmp')),
  };
}

describe('media over HTTP', () => {
  let t: TestNode;
  let token = '';
  before(async () => {
    t = await startTestNode();
    token = (await t.register()).token;
  });
  after(() => t.stop());

  it('streams a 50 MiB upload in and out byte for byte', { timeout: 120_000 }, async () => {
    const size = 50 * MiB;
    const source = randomStream(size);
    const response = await uploadStream(t, token, source.stream, 'video/mp4');
    assert.equal(response.status, 201);
    const answer = (await response.json()) as { hash: string; size: number; mime: string };
    assert.deepEqual(answer, { hash: source.digest(), size, mime: 'video/mp4' });

    const got = await download(t, token, answer.hash);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'video/mp4');
    assert.equal(got.headers.get('content-length'), String(size));
    const hash = createHash('sha256');
    let received = 0;
    for await (const chunk of Readable.fromWeb(got.body as any)) {
      hash.update(chunk as Buffer);
      received += (chunk as Buffer).length;
    }
    assert.equal(received, size);
    assert.equal(hash.digest('hex'), answer.hash);
  });

  it('stores the same bytes once and answers the same hash', async () => {
    const bytes = randomBytes(100_000);
    const first = await upload(t, token, bytes, 'image/png');
    assert.equal(first.status, 201);
    assert.deepEqual(first.body, { hash: sha256(bytes), size: bytes.length, mime: 'image/png' });
    const filesAfterFirst = await mediaFiles(t);

    const second = await upload(t, token, bytes, 'image/x-other');
    assert.equal(second.status, 201);
    assert.equal(second.body.hash, first.body.hash);
    assert.equal(second.body.size, bytes.length);
    assert.equal(second.body.mime, 'image/x-other', 'the answer carries this upload\'s mime');
    const filesAfterSecond = await mediaFiles(t);
    assert.deepEqual(filesAfterSecond.blobs.sort(), filesAfterFirst.blobs.sort());
    assert.equal(filesAfterSecond.blobs.filter((name) => name === first.body.hash).length, 1);
    assert.deepEqual(filesAfterSecond.temp, []);

    const got = await download(t, token, first.body.hash);
    assert.equal(got.headers.get('content-type'), 'image/png', 'the first record\'s mime is kept');
    assert.deepEqual(await bodyOf(got), bytes);
  });

  it('keeps a Content-Type\'s media type, lowercased, without parameters', async () => {
    const answer = await upload(t, token, Buffer.from('hello'), 'Text/Plain; charset=utf-8');
    assert.equal(answer.status, 201);
    assert.equal(answer.body.mime, 'text/plain');
  });

  it('answers headers for caching and ranges, and 304 to a matching If-None-Match', async () => {
    const bytes = randomBytes(1000);
    const { body } = await upload(t, token, bytes, 'audio/ogg');
    const got = await download(t, token, body.hash);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('etag'), `"${body.hash}"`);
    assert.equal(got.headers.get('cache-control'), 'private, max-age=31536000, immutable');
    assert.equal(got.headers.get('accept-ranges'), 'bytes');
    assert.equal(got.headers.get('content-length'), '1000');
    assert.deepEqual(await bodyOf(got), bytes);

    for (const tag of [`"${body.hash}"`, `W/"${body.hash}"`, `"other", "${body.hash}"`, '*']) {
      const cached = await download(t, token, body.hash, { 'if-none-match': tag });
      assert.equal(cached.status, 304, tag);
      assert.equal(cached.headers.get('etag'), `"${body.hash}"`);
      assert.equal((await bodyOf(cached)).length, 0);
    }
    const stale = await download(t, token, body.hash, { 'if-none-match': '"something-else"' });
    assert.equal(stale.status, 200);
    assert.deepEqual(await bodyOf(stale), bytes);

    const head = await download(t, token, body.hash, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '1000');
    assert.equal(head.headers.get('content-type'), 'audio/ogg');
  });

  it('answers byte ranges with 206 and an unsatisfiable one with 416', async () => {
    const bytes = randomBytes(1000);
    const { body } = await upload(t, token, bytes);
    const cases: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      ['bytes=100-199', 100, 199],
      ['bytes=990-5000', 990, 999],
      ['bytes=900-', 900, 999],
      ['bytes=-10', 990, 999],
      ['bytes=-5000', 0, 999],
      ['bytes=999-999', 999, 999],
    ];
    for (const [range, start, end] of cases) {
      const got = await download(t, token, body.hash, { range });
      assert.equal(got.status, 206, range);
      assert.equal(got.headers.get('content-range'), `bytes ${start}-${end}/1000`, range);
      assert.equal(got.headers.get('content-length'), String(end - start + 1), range);
      assert.deepEqual(await bodyOf(got), bytes.subarray(start, end + 1), range);
    }

    for (const range of ['bytes=1000-', 'bytes=5000-6000', 'bytes=-0']) {
      const got = await download(t, token, body.hash, { range });
      assert.equal(got.status, 416, range);
      assert.equal(got.headers.get('content-range'), 'bytes */1000', range);
      assert.equal(((await got.json()) as any).error.code, 'range_not_satisfiable');
    }

    // Several ranges, another unit, or a stale If-Range: the whole body.
    const wholeBody: Array<Record<string, string>> = [{ range: 'bytes=0-1,5-6' }, { range: 'items=0-1' }, { range: 'bytes=0-1', 'if-range': '"stale"' }];
    for (const headers of wholeBody) {
      const got = await download(t, token, body.hash, headers);
      assert.equal(got.status, 200, JSON.stringify(headers));
      assert.deepEqual(await bodyOf(got), bytes);
    }
    const matchingIfRange = await download(t, token, body.hash, { range: 'bytes=0-1', 'if-range': `"${body.hash}"` });
    assert.equal(matchingIfRange.status, 206);
  });

  it('wants a token to upload and to download', async () => {
    const { body } = await upload(t, token, randomBytes(10));
    const badAuth: Array<Record<string, string>> = [{}, { authorization: 'Bearer not-a-token' }, { authorization: 'Basic abc' }];
    for (const headers of badAuth) {
      const up = await fetch(`${t.url}/v1/media`, { method: 'POST', headers: { 'content-type': 'image/png', ...headers }, body: new Uint8Array(randomBytes(10)) });
      assert.equal(up.status, 401);
      assert.equal(((await up.json()) as any).error.code, 'unauthorized');
      const down = await fetch(`${t.url}/v1/media/${body.hash}`, { headers });
      assert.equal(down.status, 401);
      assert.equal(((await down.json()) as any).error.code, 'unauthorized');
    }
    const unauthorizedBig = await uploadStream(t, 'wrong', randomStream(5 * MiB).stream);
    assert.equal(unauthorizedBig.status, 401);
  });

  it('keeps nothing of an upload the client abandons midway', async () => {
    const before = await mediaFiles(t);
    const controller = new AbortController();
    let produced = 0;
    const stream = new Readable({
      read() {
        produced += 64 * 1024;
        if (produced > 4 * MiB) {
          controller.abort();
          this.push(null);
          return;
        }
        this.push(randomBytes(64 * 1024));
      },
    });
    await assert.rejects(
      fetch(`${t.url}/v1/media`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' },
        body: Readable.toWeb(stream),
        duplex: 'half',
        signal: controller.signal,
      } as unknown as RequestInit),
    );
    let files = await mediaFiles(t);
    for (let i = 0; i < 100 && files.temp.length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      files = await mediaFiles(t);
    }
    assert.deepEqual(files.temp, [], 'the temp file is removed');
    assert.deepEqual(files.blobs.sort(), before.blobs.sort());
    assert.equal((await upload(t, token, randomBytes(100))).status, 201, 'the node keeps serving');
  });

  it('answers 404 not_found for an unknown or malformed hash', async () => {
    for (const hash of ['0'.repeat(64), 'abc', 'A'.repeat(64), '..%2F..%2Fetc%2Fpasswd', '%2e%2e']) {
      const got = await download(t, token, hash);
      assert.equal(got.status, 404, hash);
      assert.equal(((await got.json()) as any).error.code, 'not_found', hash);
    }
  });

  it('refuses a missing or malformed Content-Type with 400 invalid_media', async () => {
    const missing = await fetch(`${t.url}/v1/media`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: new Uint8Array(randomBytes(10)) });
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as any).error.code, 'invalid_media');
    for (const mime of ['image', 'image/', '/png', 'image/png/x', 'ima ge/png', 'image/*png', '; charset=utf-8']) {
      const bad = await upload(t, token, randomBytes(10), mime);
      assert.equal(bad.status, 400, mime);
      assert.equal(bad.body.error.code, 'invalid_media', mime);
    }
  });

  it('takes JSON bodies as media too, and leaves the JSON routes their parser', async () => {
    const json = Buffer.from('{"not": "parsed"}');
    const stored = await upload(t, token, json, 'application/json');
    assert.equal(stored.status, 201);
    assert.equal(stored.body.hash, sha256(json));
    const bad = await fetch(`${t.url}/v1/register/request`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"phone": ' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as any).error.code, 'invalid_json');
  });

  it('delivers a message with media intact, and refuses unknown or malformed media', async () => {
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    const bytes = randomBytes(5000);
    const { body: stored } = await upload(t, alice.account.token, bytes, 'image/jpeg');
    const media = { hash: stored.hash, mime: 'image/jpeg', size: 5000, thumbnail: randomBytes(16 * 1024).toString('base64'), caption: 'look' };
    alice.client.send({ type: 'send', id: 'm-1', to: bob.account.userId, media });
    const sent = await alice.client.next((f) => f.type === 'sent' || f.type === 'error');
    assert.equal(sent.type, 'sent', JSON.stringify(sent));
    const message = await bob.client.next((f) => f.type === 'message');
    assert.deepEqual(message.media, media);
    assert.equal(message.body, undefined);
    const got = await download(t, bob.account.token, message.media.hash);
    assert.deepEqual(await bodyOf(got), bytes);

    const refusals: Array<[string, unknown]> = [
      ['unknown_media', { ...media, hash: sha256(randomBytes(10)) }],
      ['invalid_media', { ...media, thumbnail: randomBytes(16 * 1024 + 1).toString('base64') }],
      ['invalid_media', { ...media, mime: 'not a mime' }],
      ['invalid_media', { ...media, size: 4999 }],
    ];
    for (const [index, [code, bad]] of refusals.entries()) {
      alice.client.send({ type: 'send', id: `bad-${index}`, to: bob.account.userId, body: 'x', media: bad });
      const error = await alice.client.next((f) => f.type === 'error' || f.type === 'sent');
      assert.equal(error.type, 'error', JSON.stringify(error));
      assert.equal(error.code, code);
      assert.equal(error.ref, `bad-${index}`);
    }
    assert.deepEqual(await bob.client.quietFor(200, 'message'), []);
  });
});

describe('media size limit', () => {
  let t: TestNode;
  let token = '';
  before(async () => {
    t = await startTestNode(['--max-media-bytes', String(MiB)]);
    token = (await t.register()).token;
  });
  after(() => t.stop());

  it('accepts exactly the limit', async () => {
    const bytes = randomBytes(MiB);
    const answer = await upload(t, token, bytes);
    assert.equal(answer.status, 201);
    assert.equal(answer.body.size, MiB);
  });

  it('answers 413 too_large from Content-Length alone', async () => {
    const before = await mediaFiles(t);
    const answer = await upload(t, token, randomBytes(MiB + 1));
    assert.equal(answer.status, 413);
    assert.equal(answer.body.error.code, 'too_large');
    const filesAfter = await mediaFiles(t);
    assert.deepEqual(filesAfter.blobs.sort(), before.blobs.sort());
    assert.deepEqual(filesAfter.temp, []);
  });

  it('answers 413 too_large once a chunked body passes the limit, keeping nothing', async () => {
    const before = await mediaFiles(t);
    const response = await uploadStream(t, token, randomStream(3 * MiB, 64 * 1024).stream);
    assert.equal(response.status, 413);
    assert.equal(((await response.json()) as any).error.code, 'too_large');
    const filesAfter = await mediaFiles(t);
    assert.deepEqual(filesAfter.blobs.sort(), before.blobs.sort());
    assert.deepEqual(filesAfter.temp, []);

    const next = await upload(t, token, randomBytes(1000));
    assert.equal(next.status, 201, 'the node keeps serving');
  });
});

/** The store and blob store of one deployment shape, and how to remove them. */
interface MediaBackend {
  store: Store;
  blobs: BlobStore;
  remove(): Promise<void>;
}

async function embeddedBackend(): Promise<MediaBackend> {
  const root = await mkdtemp(join(tmpdir(), 'courier-retention-'));
  const store = new SqliteStore({ file: join(root, 'courier.db') });
  const blobs = new LocalDiskBlobStore(join(root, 'media'));
  return { store, blobs, remove: () => rm(root, { recursive: true, force: true }) };
}

/** A cluster's: the store and the blobs in one PostgreSQL database. */
async function postgresBackend(): Promise<MediaBackend> {
  const database = await createTestDatabase();
  const store = new PostgresStore({ connectionString: database.url });
  const blobs = new PostgresBlobStore({ connectionString: database.url });
  return { store, blobs, remove: () => database.drop() };
}

for (const [name, open] of [['SQLite and files', embeddedBackend], ['PostgreSQL', postgresBackend]] as const)
describe(`media retention (${name})`, () => {
  const DAY = 24 * 60 * 60 * 1000;
  let backend: MediaBackend;
  let store: Store;
  let blobs: BlobStore;
  let clock = 0;
  let media: MediaService;
  before(async () => {
    backend = await open();
    ({ store, blobs } = backend);
    await store.init();
    await blobs.init();
    clock = 1_000_000;
    media = new MediaService(store, blobs, { maxBytes: MiB, retentionMs: DAY }, () => clock);
  });
  after(async () => {
    await store.close();
    await blobs.close();
    await backend.remove();
  });

  const put = (bytes: Buffer, mime = 'image/png') => media.upload(Readable.from([bytes]), mime);
  const kept = async (hash: string) => (await media.find(hash)) !== undefined && (await blobs.stat(hash)) !== undefined;

  it('removes old unreferenced blobs, keeps those an undelivered message refers to until it is acked', async () => {
    const alice = '+15550000001';
    const bob = '+15550000002';
    await store.registerPrimary(alice, 'token-a', clock);
    await store.registerPrimary(bob, 'token-b', clock);
    const lonely = await put(randomBytes(2000));
    const attached = await put(randomBytes(3000));
    const message = {
      serverId: 'srv-1',
      id: 'c-1',
      from: alice,
      to: bob,
      ts: clock,
      media: { hash: attached.hash, mime: attached.mime, size: attached.size },
    };
    const sent = await store.sendMessage(message, [bob], 1);

    clock += DAY - 1;
    assert.equal(await media.sweep(), 0, 'nothing is older than the retention yet');
    assert.ok(await kept(lonely.hash));

    clock += 2;
    const fresh = await put(randomBytes(1000));
    assert.equal(await media.sweep(), 1);
    assert.equal(await kept(lonely.hash), false, 'the old unreferenced blob is gone, bytes and record');
    assert.equal(await store.getMedia(lonely.hash), undefined);
    assert.ok(await kept(attached.hash), 'an undelivered message still refers to it');
    assert.ok(await kept(fresh.hash), 'younger than the retention');

    await store.ackUpTo({ userId: bob, deviceId: 1 }, sent.appended[0]!.event.seq, clock);
    assert.equal(await media.sweep(), 1);
    assert.equal(await kept(attached.hash), false, 'delivered: nothing refers to it any more');
    assert.ok(await kept(fresh.hash));
  });

  it('renews an expired blob uploaded again, keeping its first mime', async () => {
    const bytes = randomBytes(4000);
    const first = await put(bytes, 'image/gif');
    clock += 2 * DAY;
    const again = await put(bytes, 'image/webp');
    assert.equal(again.hash, first.hash);
    await media.sweep();
    assert.ok(await kept(first.hash), 'the second upload restarted its retention');
    const record = await media.find(first.hash);
    assert.equal(record?.mime, 'image/gif');
    assert.equal(record?.createdAt, clock);
  });

  it('removes many blobs in batches', async () => {
    clock += 2 * DAY;
    await media.sweep();
    const hashes = await Promise.all(Array.from({ length: 250 }, (_, i) => put(Buffer.from(`blob ${i} ${Math.random()}`))));
    clock += 2 * DAY;
    assert.equal(await media.sweep(), 250);
    for (const { hash } of hashes) assert.equal(await kept(hash), false);
    assert.equal(await media.sweep(), 0);
  });
});

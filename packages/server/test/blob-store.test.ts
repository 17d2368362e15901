import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { LocalDiskBlobStore } from '../src/adapters/blob/local-disk/local-disk-blob-store.js';
import { CourierError } from '../src/domain/errors.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The bytes as a stream of small chunks, as a socket would deliver them. */
function chunked(bytes: Buffer, chunkSize = 16 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
  return Readable.from(chunks);
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every blob file under root (the temp folder excluded). */
async function blobFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.parentPath.endsWith('tmp')).map((e) => join(e.parentPath, e.name));
}

describe('LocalDiskBlobStore', () => {
  let root = '';
  let blobs: LocalDiskBlobStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-blobs-'));
    blobs = new LocalDiskBlobStore(root);
    await blobs.init();
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('stores the bytes under their SHA-256, two folder levels deep, and reads them back', async () => {
    const bytes = randomBytes(300_000);
    const stored = await blobs.put(chunked(bytes), 1_000_000);
    assert.deepEqual(stored, { hash: sha256(bytes), size: bytes.length });
    const file = join(root, stored.hash.slice(0, 2), stored.hash.slice(2, 4), stored.hash);
    assert.deepEqual(await readFile(file), bytes);
    assert.deepEqual(await blobs.stat(stored.hash), { size: bytes.length });
    assert.deepEqual(await collect(blobs.read(stored.hash)), bytes);
    assert.deepEqual(await collect(blobs.read(stored.hash, { start: 10, end: 19 })), bytes.subarray(10, 20));
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('stores an empty body', async () => {
    const stored = await blobs.put(Readable.from([]), 10);
    assert.deepEqual(stored, { hash: sha256(Buffer.alloc(0)), size: 0 });
    assert.deepEqual(await blobs.stat(stored.hash), { size: 0 });
  });

  it('accepts exactly maxBytes and refuses one more with too_large, leaving nothing behind', async () => {
    const bytes = randomBytes(64 * 1024);
    const exact = await blobs.put(chunked(bytes, 1000), bytes.length);
    assert.equal(exact.size, bytes.length);

    const over = Buffer.concat([randomBytes(64 * 1024), Buffer.from([1])]);
    const before = await blobFiles(root);
    await assert.rejects(blobs.put(chunked(over, 1000), 64 * 1024), (err: unknown) => {
      assert.ok(err instanceof CourierError);
      assert.equal(err.code, 'too_large');
      assert.equal(err.status, 413);
      return true;
    });
    assert.deepEqual(await readdir(join(root, 'tmp')), [], 'the temp file is removed');
    assert.deepEqual(await blobFiles(root), before, 'no blob appears');
    assert.equal(await blobs.stat(sha256(over)), undefined);
  });

  it('stops reading as soon as the limit is passed', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 1024;
        this.push(Buffer.alloc(1024, 7));
      },
    });
    await assert.rejects(blobs.put(endless, 100 * 1024), { code: 'too_large' });
    assert.ok(produced < 1024 * 1024, `read ${produced} bytes of an endless stream`);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('removes the temp file when the source fails', async () => {
    const failing = new Readable({
      read() {
        this.push(Buffer.alloc(1000));
        this.destroy(new Error('the client went away'));
      },
    });
    await assert.rejects(blobs.put(failing, 1_000_000), /the client went away/);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('stores the same bytes once, even when put concurrently', async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    const results = await Promise.all(Array.from({ length: 8 }, () => blobs.put(chunked(bytes, 64 * 1024), bytes.length)));
    for (const result of results) assert.deepEqual(result, { hash: sha256(bytes), size: bytes.length });
    const files = (await blobFiles(root)).filter((file) => file.endsWith(sha256(bytes)));
    assert.equal(files.length, 1);
    assert.deepEqual(await readFile(files[0]!), bytes);
    assert.deepEqual(await readdir(join(root, 'tmp')), []);

    const again = await blobs.put(chunked(bytes), bytes.length);
    assert.equal(again.hash, sha256(bytes));
    assert.equal((await blobFiles(root)).filter((file) => file.endsWith(sha256(bytes))).length, 1);
  });

  it('rejects a malformed hash before touching the disk', async () => {
    const outside = join(root, '..', `courier-outside-${process.pid}`);
    await writeFile(outside, 'not a blob');
    try {
      const bad = ['', 'abc', '../'.repeat(4) + 'etc/passwd', `../../../${outside}`, 'A'.repeat(64), 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), `${'a'.repeat(62)}/.`];
      for (const hash of bad) {
        await assert.rejects(blobs.stat(hash), { code: 'invalid_hash' }, hash);
        assert.throws(() => blobs.read(hash), { code: 'invalid_hash' }, hash);
        await assert.rejects(blobs.delete(hash), { code: 'invalid_hash' }, hash);
      }
      assert.ok(existsSync(outside));
    } finally {
      await rm(outside, { force: true });
    }
  });

  it('answers undefined for an unknown blob, and deletes idempotently', async () => {
    const bytes = randomBytes(1000);
    const { hash } = await blobs.put(chunked(bytes), 10_000);
    await blobs.delete(hash);
    assert.equal(await blobs.stat(hash), undefined);
    await blobs.delete(hash);
    assert.equal(await blobs.stat('0'.repeat(64)), undefined);
  });

  it('clears temp files a crash left behind, a day old or more, at init', async () => {
    const stale = join(root, 'tmp', 'stale-upload');
    const fresh = join(root, 'tmp', 'running-upload');
    await writeFile(stale, 'half an upload');
    await writeFile(fresh, 'an upload still running');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    await utimes(stale, twoDaysAgo, twoDaysAgo);
    await new LocalDiskBlobStore(root).init();
    assert.deepEqual(await readdir(join(root, 'tmp')), ['running-upload']);
    await rm(fresh);
  });
});

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CourierError } from '../../src/domain/errors.js';
import type { BlobStore } from '../../src/ports/blob-store.js';

/** One adapter's storage, seen from outside the port, for the contract suite. */
export interface BlobStoreHarness {
  /** A store on storage of its own, not yet initialised. */
  store: BlobStore;
  /** Another store on the same storage (another node, or this one restarted), not yet initialised. */
  another(): BlobStore;
  /** What unfinished uploads left in storage (temp files, staged chunks), by name. */
  leftovers(): Promise<string[]>;
  /** How many copies of these bytes storage holds. */
  copies(hash: string): Promise<number>;
  /** Leaves behind what an upload whose process died `ageMs` ago leaves; answers its name. */
  abandonUpload(ageMs: number): Promise<string>;
  /** Removes the storage. */
  drop(): Promise<void>;
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The bytes as a stream of small chunks, as a socket would deliver them. */
export function chunked(bytes: Buffer, chunkSize = 16 * 1024): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += chunkSize) chunks.push(bytes.subarray(at, at + chunkSize));
  return Readable.from(chunks);
}

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const DAY = 24 * 60 * 60 * 1000;

/** The guarantees of the BlobStore port (src/ports/blob-store.ts), run against one adapter. */
export function runBlobStoreContract(name: string, setUp: () => Promise<BlobStoreHarness>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let h: BlobStoreHarness;
    let blobs: BlobStore;
    before(async () => {
      h = await setUp();
      blobs = h.store;
      await blobs.init();
    });
    after(async () => {
      await blobs.close();
      await h.drop();
    });

    it('stores the bytes under their SHA-256 and reads them back, whole and by any range', async () => {
      // Larger than one chunk of the chunked adapters, and not a multiple of it.
      const bytes = randomBytes(700_000);
      const stored = await blobs.put(chunked(bytes), 1_000_000);
      assert.deepEqual(stored, { hash: sha256(bytes), size: bytes.length });
      assert.deepEqual(await blobs.stat(stored.hash), { size: bytes.length });
      assert.deepEqual(await collect(blobs.read(stored.hash)), bytes);
      const ranges = [[0, 0], [10, 19], [262_140, 262_150], [262_144, 524_288], [0, bytes.length - 1], [bytes.length - 1, bytes.length - 1]] as const;
      for (const [start, end] of ranges) {
        assert.deepEqual(await collect(blobs.read(stored.hash, { start, end })), bytes.subarray(start, end + 1), `${start}-${end}`);
      }
      assert.deepEqual(await h.leftovers(), []);
    });

    it('serves a blob stored by another node', async () => {
      const bytes = randomBytes(100_000);
      const { hash } = await blobs.put(chunked(bytes), bytes.length);
      const other = h.another();
      await other.init();
      try {
        assert.deepEqual(await other.stat(hash), { size: bytes.length });
        assert.deepEqual(await collect(other.read(hash, { start: 5, end: 99_999 })), bytes.subarray(5));
      } finally {
        await other.close();
      }
    });

    it('stores an empty body', async () => {
      const stored = await blobs.put(Readable.from([]), 10);
      assert.deepEqual(stored, { hash: sha256(Buffer.alloc(0)), size: 0 });
      assert.deepEqual(await blobs.stat(stored.hash), { size: 0 });
      assert.deepEqual(await collect(blobs.read(stored.hash)), Buffer.alloc(0));
    });

    it('accepts exactly maxBytes and refuses one more with too_large, leaving nothing behind', async () => {
      const bytes = randomBytes(64 * 1024);
      const exact = await blobs.put(chunked(bytes, 1000), bytes.length);
      assert.equal(exact.size, bytes.length);

      const over = Buffer.concat([randomBytes(64 * 1024), Buffer.from([1])]);
      await assert.rejects(blobs.put(chunked(over, 1000), 64 * 1024), (err: unknown) => {
        assert.ok(err instanceof CourierError);
        assert.equal(err.code, 'too_large');
        assert.equal(err.status, 413);
        return true;
      });
      assert.deepEqual(await h.leftovers(), []);
      assert.equal(await blobs.stat(sha256(over)), undefined);
      assert.equal(await h.copies(sha256(over)), 0);
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
      assert.deepEqual(await h.leftovers(), []);
    });

    it('keeps nothing of an upload whose source fails midway', async () => {
      let sent = 0;
      const failing = new Readable({
        read() {
          // Past the first chunk, so a chunked adapter has written some rows already.
          if (sent >= 600_000) {
            this.destroy(new Error('the client went away'));
            return;
          }
          sent += 100_000;
          this.push(randomBytes(100_000));
        },
      });
      await assert.rejects(blobs.put(failing, 1_000_000), /the client went away/);
      assert.deepEqual(await h.leftovers(), []);
    });

    it('stores the same bytes once, even when put concurrently', async () => {
      const bytes = randomBytes(2 * 1024 * 1024);
      const results = await Promise.all(Array.from({ length: 8 }, () => blobs.put(chunked(bytes, 64 * 1024), bytes.length)));
      for (const result of results) assert.deepEqual(result, { hash: sha256(bytes), size: bytes.length });
      assert.equal(await h.copies(sha256(bytes)), 1);
      assert.deepEqual(await collect(blobs.read(sha256(bytes))), bytes);
      assert.deepEqual(await h.leftovers(), []);

      const again = await blobs.put(chunked(bytes), bytes.length);
      assert.equal(again.hash, sha256(bytes));
      assert.equal(await h.copies(sha256(bytes)), 1);
    });

    it('rejects a malformed hash before touching storage', async () => {
      const bad = ['', 'abc', '../'.repeat(4) + 'etc/passwd', 'A'.repeat(64), 'g'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), `${'a'.repeat(62)}/.`, `${'a'.repeat(63)}'`];
      for (const hash of bad) {
        await assert.rejects(blobs.stat(hash), { code: 'invalid_hash' }, hash);
        assert.throws(() => blobs.read(hash), { code: 'invalid_hash' }, hash);
        await assert.rejects(blobs.delete(hash), { code: 'invalid_hash' }, hash);
      }
    });

    it('answers undefined for an unknown blob, fails a read of one, and deletes idempotently', async () => {
      const bytes = randomBytes(1000);
      const { hash } = await blobs.put(chunked(bytes), 10_000);
      await blobs.delete(hash);
      assert.equal(await blobs.stat(hash), undefined);
      assert.equal(await h.copies(hash), 0);
      await assert.rejects(collect(blobs.read(hash)));
      await blobs.delete(hash);
      assert.equal(await blobs.stat('0'.repeat(64)), undefined);
    });

    // Last: it leaves a running upload's remains in storage.
    it('clears what uploads cut short by a crash left, a day old or more, at init', async () => {
      const stale = await h.abandonUpload(2 * DAY);
      const running = await h.abandonUpload(0);
      assert.deepEqual((await h.leftovers()).sort(), [stale, running].sort());
      const restarted = h.another();
      await restarted.init();
      await restarted.close();
      assert.deepEqual(await h.leftovers(), [running]);
    });
  });
}

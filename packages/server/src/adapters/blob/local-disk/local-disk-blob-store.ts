import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type Stats } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../../../ports/blob-store.js';
import { checkContentHash } from '../content-hash.js';
import { HashingMeter } from '../hashing-meter.js';

/** A temporary file this old belongs to no upload still running: its process died mid-upload. */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;

/**
 * Blobs as files under `root`, content-addressed: `<root>/<hash[0..2]>/<hash[2..4]>/<hash>`.
 * Uploads are written to `<root>/tmp/<uuid>` while hashed, then renamed into place, so a blob
 * under its hash is always complete. Two levels of 256 folders keep every folder small.
 */
export class LocalDiskBlobStore implements BlobStore {
  readonly #tmp: string;

  constructor(readonly root: string) {
    this.#tmp = join(root, 'tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.#tmp, { recursive: true });
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of await readdir(this.#tmp)) {
      const path = join(this.#tmp, name);
      const info = await statOrUndefined(path);
      if (info !== undefined && info.mtimeMs < cutoff) await rm(path, { force: true });
    }
  }

  async put(body: Readable, maxBytes: number): Promise<{ hash: string; size: number }> {
    const temp = join(this.#tmp, randomUUID());
    const meter = new HashingMeter(maxBytes);
    try {
      // flush: the bytes reach the disk before the rename publishes them, so a power cut
      // cannot leave a blob whose name promises content it lacks.
      await pipeline(body, meter, createWriteStream(temp, { flags: 'wx', flush: true }));
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    const hash = meter.digest();
    const target = this.#path(hash);
    await mkdir(dirname(target), { recursive: true });
    if ((await this.stat(hash)) !== undefined) {
      await rm(temp, { force: true });
    } else {
      // Two puts of the same bytes may both get here; the second rename replaces identical
      // bytes atomically, so there is still one complete file.
      await rename(temp, target);
      await syncDirectory(dirname(target));
    }
    return { hash, size: meter.bytes };
  }

  async stat(hash: string): Promise<{ size: number } | undefined> {
    const info = await statOrUndefined(this.#path(hash));
    return info?.isFile() ? { size: info.size } : undefined;
  }

  read(hash: string, range?: { start: number; end: number }): Readable {
    const path = this.#path(hash);
    return range === undefined ? createReadStream(path) : createReadStream(path, { start: range.start, end: range.end });
  }

  async delete(hash: string): Promise<void> {
    await rm(this.#path(hash), { force: true });
  }

  async close(): Promise<void> {}

  /** The blob's file; the hash is checked first so that no input can name a path outside `root`. */
  #path(hash: string): string {
    checkContentHash(hash);
    return join(this.root, hash.slice(0, 2), hash.slice(2, 4), hash);
  }
}

/** The file's metadata, or undefined when it does not exist (another process may remove files). */
async function statOrUndefined(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Makes a rename in `directory` durable (the entry itself, not only the file's bytes). */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

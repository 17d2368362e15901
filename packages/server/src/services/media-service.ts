import type { Readable } from 'node:stream';
import { CourierError } from '../domain/errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MediaRecord, Store } from '../ports/store.js';
import { KeyedLock } from './keyed-lock.js';

export interface MediaSettings {
  maxBytes: number;
  retentionMs: number;
  /** Bytes one user may upload per 24 hours. */
  quotaBytes: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** What an upload answers, and what a message's `media` object repeats. */
export interface StoredMedia {
  hash: string;
  size: number;
  mime: string;
}

const CONTENT_HASH = /^[0-9a-f]{64}$/;
const SWEEP_BATCH = 100;

/**
 * Uploads, downloads and the retention sweep of media blobs.
 *
 * Retention: a blob is removed when it was recorded more than `retentionMs` ago and no
 * undelivered message (one still in some inbox) refers to it. Bytes go to the blob store first
 * and are recorded in the store after, and the sweep removes the bytes before the record, so
 * a crash never leaves a record without its bytes for long (the next sweep finishes the job)
 * nor bytes without a record.
 */
export class MediaService {
  /** Serialises, per hash, an upload's recording with the sweep's removal on this node. */
  readonly #locks = new KeyedLock();
  #sweeping?: Promise<number>;

  constructor(
    readonly store: Store,
    readonly blobs: BlobStore,
    readonly settings: MediaSettings,
    readonly now: () => number = Date.now,
  ) {}

  get maxBytes(): number {
    return this.settings.maxBytes;
  }

  /**
   * Bytes `userId` may still upload now: the most one upload may have, or less when its quota
   * for the last 24 hours is nearly used. Throws `quota_exceeded` when `declared` bytes (the
   * request's Content-Length, when it has one) do not fit.
   */
  async allowance(userId: string, declared?: number): Promise<number> {
    const used = await this.store.uploadedBytesSince(userId, this.now() - DAY_MS);
    const left = this.settings.quotaBytes - used;
    if (left <= 0 || (declared !== undefined && declared > left && declared <= this.settings.maxBytes)) throw quotaExceeded(this.settings.quotaBytes);
    return Math.min(left, this.settings.maxBytes);
  }

  /**
   * Streams the body into the blob store, at most `allowance` bytes, and records it with the
   * uploader allowed to fetch it. The same bytes uploaded again keep their first record (and
   * so their first mime); the answer carries this upload's mime.
   */
  async upload(body: Readable, mime: string, uploader: string, allowance: number): Promise<StoredMedia> {
    const { hash, size } = await this.blobs.put(body, allowance).catch((err: unknown) => {
      // Past the quota's share rather than past the size limit: say which.
      if (err instanceof CourierError && err.code === 'too_large' && allowance < this.settings.maxBytes) throw quotaExceeded(this.settings.quotaBytes);
      throw err;
    });
    return this.#locks.run(hash, async () => {
      // A sweep may have removed these very bytes between the put (which found them stored) and now.
      if ((await this.blobs.stat(hash)) === undefined) {
        throw new CourierError('media_gone', 'The media was removed while it was being stored; upload it again.', 503);
      }
      const now = this.now();
      const existing = await this.store.getMedia(hash);
      if (existing === undefined) {
        await this.store.saveMedia({ hash, size, mime, createdAt: now });
      } else if (this.#expired(existing, now)) {
        // Its retention ran out: without a fresh record the next sweep would remove the blob
        // this client was just told is stored, before it can send it.
        await this.store.deleteMedia(hash);
        await this.store.saveMedia({ ...existing, createdAt: now });
      }
      await this.store.grantMedia(hash, uploader, size, now);
      return { hash, size, mime };
    });
  }

  /**
   * The record of a stored blob `userId` may fetch (it uploaded it, or was sent a message
   * carrying it), or undefined: for a malformed or unknown hash, and for a blob it may not fetch.
   */
  async find(hash: string, userId: string): Promise<MediaRecord | undefined> {
    if (!CONTENT_HASH.test(hash)) return undefined;
    if (!(await this.store.mayFetchMedia(hash, userId))) return undefined;
    const record = await this.store.getMedia(hash);
    if (record === undefined) return undefined;
    const blob = await this.blobs.stat(hash);
    return blob === undefined ? undefined : { ...record, size: blob.size };
  }

  /** Bytes start..end inclusive of a blob `find` returned (all of them without a range). */
  read(hash: string, range?: { start: number; end: number }): Readable {
    return this.blobs.read(hash, range);
  }

  /**
   * Removes blobs no undelivered message refers to, older than the retention period, from the
   * blob store and the store; answers how many. Calls during a running sweep share it.
   */
  sweep(): Promise<number> {
    this.#sweeping ??= this.#sweep().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweep(): Promise<number> {
    const now = this.now();
    const olderThan = now - this.settings.retentionMs;
    let removed = 0;
    for (;;) {
      const hashes = await this.store.unreferencedMedia(olderThan, SWEEP_BATCH);
      let removedNow = 0;
      for (const hash of hashes) {
        if (await this.#locks.run(hash, () => this.#remove(hash, now))) removedNow++;
      }
      removed += removedNow;
      // A batch with nothing removable would come back unchanged: stop rather than spin.
      if (removedNow === 0) return removed;
    }
  }

  async #remove(hash: string, now: number): Promise<boolean> {
    const record = await this.store.getMedia(hash);
    // Gone, or uploaded again (and so renewed) since the batch was listed.
    if (record === undefined || !this.#expired(record, now)) return false;
    await this.blobs.delete(hash);
    await this.store.deleteMedia(hash);
    return true;
  }

  #expired(record: MediaRecord, now: number): boolean {
    return record.createdAt < now - this.settings.retentionMs;
  }
}

function quotaExceeded(quotaBytes: number): CourierError {
  return new CourierError('quota_exceeded', `Uploads are limited to ${quotaBytes} bytes per user per 24 hours.`, 429);
}

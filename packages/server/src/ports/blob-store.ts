import type { Readable } from 'node:stream';

/**
 * BlobStore: media bytes, addressed by the SHA-256 of their content.
 *
 * Guarantees: `put` streams (the bytes are never all in memory), hashes while it writes, and
 * makes the blob visible under its hash only once it is complete (the bytes are written under a
 * name of their own, then published under the hash in one step); a put that fails, or whose
 * process dies, leaves nothing `stat` or `read` could serve. The same bytes are stored once.
 * Blobs are immutable. Every method refuses a hash that is not 64 lowercase hex digits with
 * CourierError `invalid_hash` before touching storage.
 *
 * Adapters: local-disk (files; one node, or nodes sharing a volume) and postgres (chunked rows
 * in the cluster's own database). An object store fits the same shape: put to a temporary key
 * and copy to `<hash>` once the hash is known, `stat` a HEAD, `read` a ranged GET.
 * The contract suite (test/support/blob-store-contract.ts) runs against every adapter.
 */
export interface BlobStore {
  /** Prepares storage, and removes what uploads that died mid-way left (a day old or more). */
  init(): Promise<void>;
  /**
   * Stores the stream's bytes. Refuses with CourierError `too_large` (413) as soon as more than
   * `maxBytes` have arrived, leaving nothing behind.
   */
  put(body: Readable, maxBytes: number): Promise<{ hash: string; size: number }>;
  /** The blob's size, or undefined when it is not stored. */
  stat(hash: string): Promise<{ size: number } | undefined>;
  /**
   * Reads bytes start..end inclusive (the whole blob when omitted). The stream fails when the
   * blob is not stored, or is deleted while being read.
   */
  read(hash: string, range?: { start: number; end: number }): Readable;
  /** Removes the blob; removing one that is not stored is no error. */
  delete(hash: string): Promise<void>;
  close(): Promise<void>;
}

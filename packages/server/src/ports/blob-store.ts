import type { Readable } from 'node:stream';

/**
 * BlobStore: media bytes, addressed by the SHA-256 of their content.
 *
 * Guarantees: `put` streams (the bytes are never all in memory), hashes while it writes, and
 * makes the blob visible under its hash only once it is complete (write to a temporary name,
 * then rename); the same bytes are stored once. Blobs are immutable.
 */
export interface BlobStore {
  init(): Promise<void>;
  /**
   * Stores the stream's bytes. Refuses with CourierError `too_large` (413) as soon as more than
   * `maxBytes` have arrived, leaving nothing behind.
   */
  put(body: Readable, maxBytes: number): Promise<{ hash: string; size: number }>;
  /** The blob's size, or undefined when it is not stored. */
  stat(hash: string): Promise<{ size: number } | undefined>;
  /** Reads bytes start..end inclusive (the whole blob when omitted). */
  read(hash: string, range?: { start: number; end: number }): Readable;
  delete(hash: string): Promise<void>;
}

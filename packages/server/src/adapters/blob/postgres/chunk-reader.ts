import { Readable } from 'node:stream';
import type { Pool } from 'pg';
import { CourierError } from '../../../domain/errors.js';

/**
 * Streams a blob's bytes start..end inclusive out of `media_chunks`, one chunk per read, so a
 * download holds at most one chunk in memory and reads no chunk outside the range.
 */
export class ChunkReader extends Readable {
  #chunks: { uploadId: string; chunkBytes: number; next: number; last: number; start: number; end: number } | undefined;

  constructor(
    readonly pool: Pool,
    readonly hash: string,
    readonly range: { start: number; end: number } | undefined,
  ) {
    super();
  }

  override _read(): void {
    this.#readNext().then(
      (bytes) => this.push(bytes),
      (err: Error) => this.destroy(err),
    );
  }

  /** The next slice of the range, or null after its last byte. */
  async #readNext(): Promise<Buffer | null> {
    const chunks = (this.#chunks ??= await this.#locate());
    if (chunks.next > chunks.last) return null;
    const n = chunks.next++;
    const { rows } = await this.pool.query<{ data: Buffer }>('SELECT data FROM media_chunks WHERE upload_id = $1 AND n = $2', [chunks.uploadId, n]);
    const data = rows[0]?.data;
    if (data === undefined) throw new CourierError('not_found', `Media ${this.hash} was removed while it was being read.`, 404);
    const offset = n * chunks.chunkBytes;
    const from = n === Math.floor(chunks.start / chunks.chunkBytes) ? chunks.start - offset : 0;
    const to = n === chunks.last ? chunks.end - offset + 1 : data.length;
    return data.subarray(from, to);
  }

  async #locate() {
    const { rows } = await this.pool.query<{ upload_id: string; size: string; chunk_bytes: number }>(
      'SELECT upload_id, size, chunk_bytes FROM media_blobs WHERE hash = $1',
      [this.hash],
    );
    const blob = rows[0];
    if (blob === undefined) throw new CourierError('not_found', `No media with hash ${this.hash}.`, 404);
    const start = this.range?.start ?? 0;
    const end = this.range?.end ?? Number(blob.size) - 1;
    const chunkBytes = blob.chunk_bytes;
    return {
      uploadId: blob.upload_id,
      chunkBytes,
      start,
      end,
      next: Math.floor(start / chunkBytes),
      // An empty blob (end -1) reads no chunk at all.
      last: end < start ? -1 : Math.floor(end / chunkBytes),
    };
  }
}

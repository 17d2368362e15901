import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'pg';
import type { BlobStore } from '../../../ports/blob-store.js';
import { migrate } from '../../store/postgres/postgres-schema.js';
import { withTransaction } from '../../store/postgres/postgres-transaction.js';
import { checkContentHash } from '../content-hash.js';
import { HashingMeter } from '../hashing-meter.js';
import { ChunkReader } from './chunk-reader.js';
import { ChunkWriter } from './chunk-writer.js';
import { BLOB_LEDGER, BLOB_MIGRATIONS } from './postgres-blob-schema.js';

export interface PostgresBlobStoreOptions {
  connectionString: string;
  /** Connections kept by this node for media. Default 5. */
  poolSize?: number;
  /** Bytes per chunk row of new blobs (each blob records its own). Default 256 KiB. */
  chunkBytes?: number;
  /** Errors nobody awaits: idle connections failing, an aborted upload that could not be cleared. */
  onError?: (error: Error) => void;
}

const DEFAULT_CHUNK_BYTES = 256 * 1024;
/** An upload this old is no longer running anywhere: its node died mid-way. */
const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000;

/**
 * Blobs in PostgreSQL, for a cluster whose nodes share no disk. An upload streams into
 * `media_chunks` under an upload id of its own, one autocommitted row per chunk (so no
 * transaction stays open for as long as a slow client takes); once the last chunk is in and the
 * hash known, one transaction publishes it in `media_blobs`. Until then nothing names those
 * chunks by hash, so an upload cut short by a crash is invisible, and `init` clears it later.
 */
export class PostgresBlobStore implements BlobStore {
  readonly #pool: Pool;
  readonly #chunkBytes: number;
  readonly #onError: (error: Error) => void;

  constructor(options: PostgresBlobStoreOptions) {
    this.#pool = new Pool({ connectionString: options.connectionString, max: options.poolSize ?? 5, connectionTimeoutMillis: 10_000, keepAlive: true });
    this.#chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.#onError = options.onError ?? ((error: Error) => process.emitWarning(error));
    this.#pool.on('error', (error) => this.#onError(error));
  }

  async init(): Promise<void> {
    await migrate(this.#pool, BLOB_MIGRATIONS, BLOB_LEDGER);
    await withTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<{ upload_id: string }>('DELETE FROM media_uploads WHERE started_at < $1 RETURNING upload_id', [Date.now() - STALE_UPLOAD_MS]);
      if (rows.length > 0) await client.query('DELETE FROM media_chunks WHERE upload_id = ANY($1::uuid[])', [rows.map((row) => row.upload_id)]);
    });
  }

  async put(body: Readable, maxBytes: number): Promise<{ hash: string; size: number }> {
    const uploadId = randomUUID();
    const meter = new HashingMeter(maxBytes);
    await this.#pool.query('INSERT INTO media_uploads (upload_id, started_at) VALUES ($1, $2)', [uploadId, Date.now()]);
    try {
      const writer = new ChunkWriter(this.#chunkBytes, (n, data) =>
        this.#pool.query('INSERT INTO media_chunks (upload_id, n, data) VALUES ($1, $2, $3)', [uploadId, n, data]),
      );
      await pipeline(body, meter, writer);
      const hash = meter.digest();
      await this.#publish(uploadId, hash, meter.bytes);
      return { hash, size: meter.bytes };
    } catch (err) {
      await this.#discard(uploadId).catch((discardError: unknown) => {
        // The upload's row stays, so the stale-upload sweep of a later `init` removes it.
        this.#onError(new Error(`could not clear aborted upload ${uploadId}`, { cause: discardError }));
      });
      throw err;
    }
  }

  async stat(hash: string): Promise<{ size: number } | undefined> {
    checkContentHash(hash);
    const { rows } = await this.#pool.query<{ size: string }>('SELECT size FROM media_blobs WHERE hash = $1', [hash]);
    return rows[0] === undefined ? undefined : { size: Number(rows[0].size) };
  }

  read(hash: string, range?: { start: number; end: number }): Readable {
    checkContentHash(hash);
    return new ChunkReader(this.#pool, hash, range);
  }

  async delete(hash: string): Promise<void> {
    checkContentHash(hash);
    await withTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<{ upload_id: string }>('DELETE FROM media_blobs WHERE hash = $1 RETURNING upload_id', [hash]);
      if (rows[0] !== undefined) await client.query('DELETE FROM media_chunks WHERE upload_id = $1', [rows[0].upload_id]);
    });
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  /**
   * Names the upload's chunks by their hash, unless the same bytes are stored already (then the
   * chunks go). The upload's row is taken first: if a stale-upload sweep removed it, its chunks
   * may be gone too, and the upload fails rather than publish a blob with holes.
   */
  async #publish(uploadId: string, hash: string, size: number): Promise<void> {
    await withTransaction(this.#pool, async (client) => {
      const staged = await client.query('DELETE FROM media_uploads WHERE upload_id = $1', [uploadId]);
      if (staged.rowCount !== 1) throw new Error(`upload ${uploadId} was cleared as stale before it finished`);
      // Two uploads of the same bytes at once: the second insert waits for the first to commit,
      // then does nothing, and its chunks are dropped.
      const published = await client.query(
        `INSERT INTO media_blobs (hash, upload_id, size, chunk_bytes, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (hash) DO NOTHING`,
        [hash, uploadId, size, this.#chunkBytes, Date.now()],
      );
      if (published.rowCount === 0) await client.query('DELETE FROM media_chunks WHERE upload_id = $1', [uploadId]);
    });
  }

  async #discard(uploadId: string): Promise<void> {
    await withTransaction(this.#pool, async (client) => {
      await client.query('DELETE FROM media_chunks WHERE upload_id = $1', [uploadId]);
      await client.query('DELETE FROM media_uploads WHERE upload_id = $1', [uploadId]);
    });
  }
}

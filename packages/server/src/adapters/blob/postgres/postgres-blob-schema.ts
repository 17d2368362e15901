import type { MigrationLedger } from '../../store/postgres/postgres-schema.js';

/**
 * The blob store's tables, migrated on a ledger of their own: the blob store may share the
 * store's database (the default) or have one of its own (`--media-url postgres://...`).
 * Append new migrations at the end; never edit one that has shipped.
 */
export const BLOB_LEDGER: MigrationLedger = { table: 'courier_blob_migrations', lockKey: 0x626c6f62 }; // "blob"

export const BLOB_MIGRATIONS: readonly string[] = [
  `
  -- The bytes of every upload, finished or not, in chunks of a fixed size (the last one shorter).
  CREATE TABLE media_chunks (
    upload_id UUID NOT NULL,
    n         INTEGER NOT NULL,
    data      BYTEA NOT NULL,
    PRIMARY KEY (upload_id, n)
  );
  -- Media is compressed already: keep chunks out of line without trying to compress them again.
  ALTER TABLE media_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

  -- Uploads still streaming, or whose node died: their chunks belong to no blob yet.
  CREATE TABLE media_uploads (
    upload_id  UUID PRIMARY KEY,
    started_at BIGINT NOT NULL
  );
  CREATE INDEX media_uploads_started ON media_uploads (started_at);

  -- A blob exists once this row does: it is written, with the upload's row deleted, in one
  -- transaction after the last chunk, so a reader never finds a blob with chunks missing.
  CREATE TABLE media_blobs (
    hash        TEXT PRIMARY KEY,
    upload_id   UUID NOT NULL UNIQUE,
    size        BIGINT NOT NULL,
    chunk_bytes INTEGER NOT NULL,
    created_at  BIGINT NOT NULL
  );
  `,
];

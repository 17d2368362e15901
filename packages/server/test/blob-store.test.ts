import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { LocalDiskBlobStore } from '../src/adapters/blob/local-disk/local-disk-blob-store.js';
import { PostgresBlobStore } from '../src/adapters/blob/postgres/postgres-blob-store.js';
import { chunked, runBlobStoreContract, sha256 } from './support/blob-store-contract.js';
import { createTestDatabase } from './support/postgres-database.js';

/** Every blob file under root (the temp folder excluded). */
async function blobFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && !e.parentPath.endsWith('tmp')).map((e) => join(e.parentPath, e.name));
}

runBlobStoreContract('LocalDiskBlobStore', async () => {
  const root = await mkdtemp(join(tmpdir(), 'courier-blobs-'));
  const tmp = join(root, 'tmp');
  return {
    store: new LocalDiskBlobStore(root),
    another: () => new LocalDiskBlobStore(root),
    leftovers: () => readdir(tmp),
    copies: async (hash) => (await blobFiles(root)).filter((file) => file.endsWith(hash)).length,
    async abandonUpload(ageMs) {
      const name = randomUUID();
      await writeFile(join(tmp, name), 'half an upload');
      const then = new Date(Date.now() - ageMs);
      await utimes(join(tmp, name), then, then);
      return name;
    },
    drop: () => rm(root, { recursive: true, force: true }),
  };
});

runBlobStoreContract('PostgresBlobStore', async () => {
  const database = await createTestDatabase();
  const sql = new pg.Pool({ connectionString: database.url, max: 2 });
  let ended = false;
  // pg-pool's end() resolves before its connections have closed, so the DROP ... WITH (FORCE)
  // that follows may terminate one: an error on a pool nobody uses any more. Before that, fail.
  sql.on('error', (err) => {
    if (!ended) throw err;
  });
  return {
    store: new PostgresBlobStore({ connectionString: database.url }),
    another: () => new PostgresBlobStore({ connectionString: database.url }),
    async leftovers() {
      // Staged uploads, and chunks that no blob and no staged upload names.
      const { rows } = await sql.query<{ upload_id: string }>(
        `SELECT upload_id FROM media_uploads
         UNION SELECT upload_id FROM media_chunks c
           WHERE NOT EXISTS (SELECT 1 FROM media_blobs b WHERE b.upload_id = c.upload_id)`,
      );
      return rows.map((row) => row.upload_id);
    },
    async copies(hash) {
      // Uploads holding chunks that belong to no other blob: this blob's, and any stray copy.
      const { rows } = await sql.query<{ copies: number }>(
        `SELECT count(DISTINCT upload_id)::int AS copies FROM media_chunks c
         WHERE NOT EXISTS (SELECT 1 FROM media_blobs b WHERE b.upload_id = c.upload_id AND b.hash <> $1)`,
        [hash],
      );
      return rows[0]!.copies;
    },
    async abandonUpload(ageMs) {
      const uploadId = randomUUID();
      await sql.query('INSERT INTO media_uploads (upload_id, started_at) VALUES ($1, $2)', [uploadId, Date.now() - ageMs]);
      await sql.query('INSERT INTO media_chunks (upload_id, n, data) VALUES ($1, 0, $2)', [uploadId, randomBytes(1000)]);
      return uploadId;
    },
    async drop() {
      ended = true;
      await sql.end();
      await database.drop();
    },
  };
});

describe('LocalDiskBlobStore layout', () => {
  let root = '';
  let blobs: LocalDiskBlobStore;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'courier-blobs-'));
    blobs = new LocalDiskBlobStore(root);
    await blobs.init();
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('keeps a blob two folder levels deep, under its hash', async () => {
    const bytes = randomBytes(3000);
    const { hash } = await blobs.put(chunked(bytes), bytes.length);
    assert.equal(hash, sha256(bytes));
    assert.deepEqual(await readFile(join(root, hash.slice(0, 2), hash.slice(2, 4), hash)), bytes);
  });
});

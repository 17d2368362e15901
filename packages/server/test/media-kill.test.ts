/**
 * Media in PostgreSQL when the node receiving an upload is killed (kill -9) mid-way: nothing half
 * written is ever served, and the same bytes uploaded again through another node are stored whole.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createTestDatabase } from './support/postgres-database.js';
import { register } from './support/registration.js';
import { spawnNode, type SpawnedNode } from './support/spawned-node.js';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('a PostgreSQL media upload cut by kill -9', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let dir = '';
  let sql: pg.Pool;
  let ended = false;
  const nodes: SpawnedNode[] = [];
  const start = async (name: string) => {
    const node = await spawnNode(['--port', '0', '--database-url', database.url, '--data-dir', join(dir, name), '--sms-outbox', join(dir, 'sms.jsonl')]);
    nodes.push(node);
    return node;
  };
  const count = async (table: string) => (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

  before(async () => {
    database = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), 'courier-media-kill-'));
    sql = new pg.Pool({ connectionString: database.url, max: 2 });
    // pg-pool's end() resolves before its connections have closed, so the DROP ... WITH (FORCE)
    // in `after` may terminate one: an error on a pool nobody uses any more. Before that, fail.
    sql.on('error', (err) => {
      if (!ended) throw err;
    });
  });
  after(async () => {
    for (const node of nodes) node.process.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.exited));
    ended = true;
    await sql.end();
    await database.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves nothing of the cut upload, and stores it whole when sent again to another node', { timeout: 60_000 }, async () => {
    const first = await start('node1');
    const account = await register(first.url, join(dir, 'sms.jsonl'));
    const auth = { authorization: `Bearer ${account.token}` };
    const bytes = randomBytes(3 * 1024 * 1024);
    const firstPart = bytes.subarray(0, 1024 * 1024);

    // The first MiB, then the body stalls: the node is killed while the upload is open.
    let sentFirstPart = false;
    const body = new Readable({
      read() {
        if (sentFirstPart) return;
        sentFirstPart = true;
        this.push(firstPart);
      },
    });
    const upload = fetch(`${first.url}/v1/media`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'video/mp4', 'content-length': String(bytes.length) },
      body: Readable.toWeb(body),
      duplex: 'half',
    } as unknown as RequestInit).then(
      (response) => response.status,
      (err: Error) => err,
    );
    // Chunks of the upload are in the database: it is truly half written when the node dies.
    while ((await count('media_chunks')) === 0) await sleep(20);
    first.process.kill('SIGKILL');
    await first.exited;
    const outcome = await upload;
    assert.ok(outcome instanceof Error, `the cut upload failed at the client, not ${String(outcome)}`);
    body.destroy();

    const second = await start('node2');
    for (const hash of [sha256(bytes), sha256(firstPart)]) {
      const download = await fetch(`${second.url}/v1/media/${hash}`, { headers: auth });
      assert.equal(download.status, 404, 'nothing of the cut upload is served');
    }
    assert.equal(await count('media_blobs'), 0);
    assert.equal(await count('media_uploads'), 1, 'the cut upload stays staged, invisible, until a later start clears it');

    const again = await fetch(`${second.url}/v1/media`, { method: 'POST', headers: { ...auth, 'content-type': 'video/mp4' }, body: bytes });
    assert.equal(again.status, 201);
    assert.deepEqual(await again.json(), { hash: sha256(bytes), size: bytes.length, mime: 'video/mp4' });
    const download = await fetch(`${second.url}/v1/media/${sha256(bytes)}`, { headers: { ...auth, range: `bytes=${bytes.length - 1000}-` } });
    assert.equal(download.status, 206);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), bytes.subarray(bytes.length - 1000));
  });
});

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { GroupCommit } from '../src/adapters/store/postgres/postgres-group-commit.js';
import { PostgresStore } from '../src/adapters/store/postgres/postgres-store.js';
import type { DeviceAddress } from '../src/domain/device.js';
import type { MessageEvent } from '../src/domain/events.js';
import { createTestDatabase } from './support/postgres-database.js';
import { runStoreContract } from './support/store-contract.js';
import { runStoreDevicesContract } from './support/store-devices-contract.js';

type Database = Awaited<ReturnType<typeof createTestDatabase>>;

function message(from: string, id: string, to: string, ts = 1_700_000_000_000): Omit<MessageEvent, 'seq' | 'type'> {
  return { serverId: `srv-${from}-${id}`, id, from, to, ts, body: `hello ${id}` };
}

/** A user's primary device. */
function dev(userId: string): DeviceAddress {
  return { userId, deviceId: 1 };
}

async function register(store: PostgresStore, ...userIds: string[]): Promise<void> {
  await Promise.all(userIds.map((userId) => store.registerPrimary(userId, `token-of-${userId}`, 1_700_000_000_000)));
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

// The contract wants an empty store per test: each test gets its own schema of the run's database,
// which is much quicker than a database per test.
describe('PostgresStore contract', () => {
  let db: Database;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db?.drop();
  });
  const openFresh = async () => {
    const schema = `contract_${randomBytes(6).toString('hex')}`;
    await sql(db.url, `CREATE SCHEMA ${schema}`);
    const url = new URL(db.url);
    url.searchParams.set('options', `-c search_path=${schema}`);
    const open = async () => {
      const store = new PostgresStore({ connectionString: url.toString(), poolSize: 4 });
      await store.init();
      return store;
    };
    return {
      store: await open(),
      reopen: open,
      cleanup: () => sql(db.url, `DROP SCHEMA ${schema} CASCADE`),
    };
  };
  runStoreContract('PostgresStore', openFresh);
  runStoreDevicesContract('PostgresStore', openFresh);
});

/** Two nodes' stores on one fresh database, closed and dropped after the suite. */
function twoNodes(): { a: () => PostgresStore; b: () => PostgresStore; db: () => Database } {
  let db: Database;
  let a: PostgresStore;
  let b: PostgresStore;
  before(async () => {
    db = await createTestDatabase();
    a = new PostgresStore({ connectionString: db.url, poolSize: 4 });
    b = new PostgresStore({ connectionString: db.url, poolSize: 4 });
    await Promise.all([a.init(), b.init()]);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db?.drop();
  });
  return { a: () => a, b: () => b, db: () => db };
}

describe('PostgresStore schema', () => {
  let db: Database;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.drop();
  });

  test('several nodes calling init() at once all succeed, and init() again is a no-op', async () => {
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ connectionString: db.url, poolSize: 2 }));
    try {
      await Promise.all(stores.map((store) => store.init()));
      await stores[0]!.init();
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ version: number }>('SELECT version FROM courier_migrations ORDER BY version');
        assert.deepEqual(
          rows.map((row) => row.version),
          rows.map((_, i) => i + 1),
        );
        assert.ok(rows.length >= 1);
      } finally {
        await client.end();
      }
      await Promise.all(stores.map((store) => store.ping()));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});

describe('PostgresStore as two cluster nodes', () => {
  const nodes = twoNodes();

  test('concurrent sends from two nodes to one inbox get distinct, contiguous seqs in each node\'s order', async () => {
    const perNode = 60;
    const send = (store: PostgresStore, node: string) =>
      Promise.all(
        Array.from({ length: perNode }, (_, i) =>
          store.sendMessage(message(`+1555000${node === 'a' ? 1 : 2}`, `${node}-${i}`, '+15550009999'), ['+15550009999'], 1),
        ),
      );
    await register(nodes.a(), '+15550001', '+15550002', '+15550009999');
    const [fromA, fromB] = await Promise.all([send(nodes.a(), 'a'), send(nodes.b(), 'b')]);

    const seqsOf = (results: typeof fromA) => results.map((result) => result.appended[0]!.event.seq);
    const all = [...seqsOf(fromA), ...seqsOf(fromB)].sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 2 * perNode }, (_, i) => i + 1));
    // One sender's messages through one node: seq order is the order of the calls.
    for (const seqs of [seqsOf(fromA), seqsOf(fromB)]) assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));

    assert.equal(await nodes.b().lastSeq(dev('+15550009999')), 2 * perNode);
    const inbox = await nodes.a().readInbox(dev('+15550009999'), 0, 1000);
    assert.deepEqual(
      inbox.map((event) => event.seq),
      all,
    );
  });

  test('overlapping fan-outs from both nodes in opposite orders neither deadlock nor break contiguity', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `+1555100${String(i).padStart(4, '0')}`);
    await register(nodes.b(), '+15551999999', ...users);
    const jobs: Promise<unknown>[] = [];
    for (let i = 0; i < 40; i++) {
      const store = i % 2 === 0 ? nodes.a() : nodes.b();
      const recipients = i % 3 === 0 ? [...users].reverse() : users.slice(i % 7);
      jobs.push(store.sendMessage(message('+15551999999', `fan-${i}`, 'g-fan'), recipients, 1));
      jobs.push(store.ackUpTo(dev(users[i % users.length]!), 1, 1_700_000_000_001));
    }
    await Promise.all(jobs);
    for (const user of users) {
      const last = await nodes.a().lastSeq(dev(user));
      const events = await nodes.b().readInbox(dev(user), 0, 1000);
      const seqs = events.map((event) => event.seq);
      assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), user);
      assert.ok(seqs.every((seq) => seq >= 1 && seq <= last));
      assert.equal(new Set(seqs).size, seqs.length);
    }
  });

  test('the same (sender, client id) through both nodes at once is stored once', async () => {
    const msgA = message('+15552000001', 'twice', '+15552000002');
    const msgB = { ...msgA, serverId: 'srv-other' };
    await register(nodes.a(), '+15552000001', '+15552000002');
    const [ra, rb] = await Promise.all([
      nodes.a().sendMessage(msgA, ['+15552000002'], 1),
      nodes.b().sendMessage(msgB, ['+15552000002'], 1),
    ]);
    assert.equal([ra, rb].filter((r) => r.duplicate).length, 1);
    assert.equal(ra.serverId, rb.serverId);
    assert.equal((await nodes.a().readInbox(dev('+15552000002'), 0, 10)).length, 1);
  });

  test('the expiry sweep run by both nodes at once handles each expired message once', async () => {
    const [author, ...readers] = ['+15556000001', '+15556000002', '+15556000003'];
    await register(nodes.a(), author!, ...readers);
    const count = 300;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        nodes.a().sendMessage({ ...message(author!, `exp-${i}`, 'g-exp'), group: 'g-exp', expiresIn: 60 }, readers, 1),
      ),
    );
    const due = 1_700_000_000_000 + 60_000;
    // Small batches, many rounds: both nodes are in the table at the same time.
    const sweepAll = async (store: PostgresStore) => {
      let handled = 0;
      for (let n = await store.expireMessages(due, 7); n > 0; n = await store.expireMessages(due, 7)) handled += n;
      return handled;
    };
    const [byA, byB] = await Promise.all([sweepAll(nodes.a()), sweepAll(nodes.b())]);
    assert.equal(byA + byB, count, `each message handled once (a: ${byA}, b: ${byB})`);
    for (const reader of readers) assert.deepEqual(await nodes.b().readInbox(dev(reader), 0, 1000), []);
  });

  test('read by two nodes at once gives one read receipt', async () => {
    await register(nodes.a(), '+15553000001', '+15553000002');
    const sent = await nodes.a().sendMessage(message('+15553000001', 'r1', '+15553000002'), ['+15553000002'], 1);
    const [ra, rb] = await Promise.all([
      nodes.a().markRead(dev('+15553000002'), [sent.serverId], 5),
      nodes.b().markRead(dev('+15553000002'), [sent.serverId], 6),
    ]);
    assert.equal(ra.length + rb.length, 1);
    // Delivered after being read: still no second read receipt.
    await nodes.b().ackUpTo(dev('+15553000002'), 1, 7);
    assert.deepEqual(await nodes.a().markRead(dev('+15553000002'), [sent.serverId], 8), []);
  });
});

describe('PostgresStore group commit', () => {
  const nodes = twoNodes();

  test('one bad write in a batch fails alone', async () => {
    const store = nodes.a();
    await register(store, '+15554000001', '+15554000002');
    const good = Array.from({ length: 20 }, (_, i) =>
      store.sendMessage(message('+15554000001', `ok-${i}`, '+15554000002'), ['+15554000002'], 1),
    );
    // PostgreSQL text cannot hold NUL: this job's statement fails, and with it its first batch.
    const bad = store.sendMessage(message('+15554000001', 'bad\u0000id', '+15554000002'), ['+15554000002'], 1);
    const more = Array.from({ length: 20 }, (_, i) =>
      store.sendMessage(message('+15554000001', `ok2-${i}`, '+15554000002'), ['+15554000002'], 1),
    );
    await assert.rejects(bad);
    const results = await Promise.all([...good, ...more]);
    assert.deepEqual(
      results.map((r) => r.appended[0]!.event.seq).sort((x, y) => x - y),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.equal(await store.lastSeq(dev('+15554000002')), 40);
  });

  test('writes arriving together share transactions', async () => {
    const pool = new pg.Pool({ connectionString: nodes.db().url, max: 2 });
    const sizes: number[] = [];
    const commit = new GroupCommit<number, number>({
      pool,
      async runBatch(client, jobs) {
        sizes.push(jobs.length);
        const { rows } = await client.query<{ n: number }>('SELECT n * 2 AS n FROM unnest($1::int[]) AS t(n)', [jobs]);
        return rows.map((row) => row.n);
      },
    });
    try {
      const first = await Promise.all(Array.from({ length: 100 }, (_, i) => commit.submit(i)));
      assert.deepEqual(first, Array.from({ length: 100 }, (_, i) => i * 2));
      assert.ok(sizes.length <= 2, `100 jobs took ${sizes.length} transactions`);
    } finally {
      await commit.close();
      await pool.end();
    }
  });

  test('a batch that fails is re-run job by job, and only the bad job fails', async () => {
    const pool = new pg.Pool({ connectionString: nodes.db().url, max: 2 });
    const batches: number[][] = [];
    const commit = new GroupCommit<number, number>({
      pool,
      async runBatch(client, jobs) {
        batches.push([...jobs]);
        if (jobs.includes(13)) await client.query('SELECT 1 / 0');
        return jobs.map((n) => n + 1);
      },
    });
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => commit.submit(i)));
      outcomes.forEach((outcome, i) => {
        if (i === 13) assert.equal(outcome.status, 'rejected');
        else assert.deepEqual(outcome, { status: 'fulfilled', value: i + 1 });
      });
      assert.ok(batches.some((jobs) => jobs.length > 1 && jobs.includes(13)), 'the bad job was first in a batch');
      assert.ok(batches.some((jobs) => jobs.length === 1 && jobs[0] === 13), 'then alone');
    } finally {
      await commit.close();
      await pool.end();
    }
  });

  test('deadlocks and serialization failures re-run the transaction', async () => {
    const pool = new pg.Pool({ connectionString: nodes.db().url, max: 2 });
    const failures = ['40P01', '40001'];
    let runs = 0;
    const commit = new GroupCommit<string, string>({
      pool,
      async runBatch(client, jobs) {
        runs++;
        // Written before the failure: it must be rolled back, not committed twice.
        await client.query('CREATE TABLE IF NOT EXISTS retry_probe (n int)');
        await client.query('INSERT INTO retry_probe VALUES (1)');
        const code = failures.shift();
        if (code) await client.query(`DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '${code}'; END $$`);
        return jobs.map((job) => job.toUpperCase());
      },
    });
    try {
      assert.equal(await commit.submit('only'), 'ONLY');
      assert.equal(runs, 3);
      const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM retry_probe');
      assert.equal(Number(rows[0]?.n), 1);
    } finally {
      await commit.close();
      await pool.end();
    }
  });

  test('a group message to 1,000 members and a body with NUL', async () => {
    const store = nodes.b();
    const members = Array.from({ length: 1000 }, (_, i) => `+1555600${String(i).padStart(4, '0')}`);
    await register(store, '+15556999999', ...members);
    const started = Date.now();
    const result = await store.sendMessage(
      { ...message('+15556999999', 'big', 'g-big'), group: 'g-big', body: 'nul \u0000 and \ud800 lone' },
      members,
      1,
    );
    const elapsed = Date.now() - started;
    assert.equal(result.appended.length, 1000);
    assert.ok(elapsed < 5000, `fan-out took ${elapsed} ms`);
    const [event] = await store.readInbox(dev(members[999]!), 0, 10);
    assert.deepEqual(event, result.appended[999]!.event);
    assert.equal(event?.type === 'message' ? event.body : undefined, 'nul \u0000 and \ud800 lone');

    // A client id that is not well-formed UTF-16 still gets its idempotency.
    const odd = message('+15556999999', 'odd-\udc00', members[0]!);
    assert.equal((await store.sendMessage(odd, [members[0]!], 1)).duplicate, false);
    assert.equal((await store.sendMessage(odd, [members[0]!], 1)).duplicate, true);
  });
});

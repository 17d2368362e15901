/**
 * The Redis adapters on a real Redis Cluster (3 masters, each with a replica) started by this
 * file: the bus and rate-limiter contract suites, and two nodes carrying messages while the master
 * that holds the recipient's directory entry fails over.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { directoryKey, RedisBus } from '../src/adapters/bus/redis/redis-bus.js';
import { RedisRateLimiter } from '../src/adapters/rate-limiter/redis/redis-rate-limiter.js';
import { runBusContract } from './support/bus-contract.js';
import { BusRecorder } from './support/bus-recorder.js';
import { createTestDatabase } from './support/postgres-database.js';
import { runRateLimiterContract } from './support/rate-limiter-contract.js';
import { RedisClusterServers } from './support/redis-cluster.js';
import { startTestNode, type TestNode } from './support/test-node.js';
import type { Frame } from './support/ws-client.js';

const TTL_MS = 600;
const errors: Error[] = [];
let servers: RedisClusterServers;

before(async () => {
  servers = await RedisClusterServers.start({ masters: 3, replicas: 1 });
});
after(async () => {
  await servers?.stop();
  assert.deepEqual(errors, [], 'no background errors');
});

runBusContract(
  'RedisBus on a Redis Cluster',
  async (nodeId) => new RedisBus({ url: servers.url, nodeId, keyPrefix: 'courier-test:', directoryTtlMs: TTL_MS, onError: (err) => errors.push(err) }),
  { multiNode: true, directoryTtlMs: TTL_MS, crash: (bus) => (bus as RedisBus).abandon() },
);

runRateLimiterContract('RedisRateLimiter on a Redis Cluster', () => new RedisRateLimiter({ url: servers.url, keyPrefix: `courier-test:${randomBytes(4).toString('hex')}:rate:` }));

describe('RedisBus on a Redis Cluster, many devices', () => {
  it('refreshes, lists and releases thousands of devices in calls of one slot each', { timeout: 30_000 }, async () => {
    const holder = new RedisBus({ url: servers.url, nodeId: 'many-holder', keyPrefix: 'courier-many:', directoryTtlMs: TTL_MS, onError: (err) => errors.push(err) });
    const other = new RedisBus({ url: servers.url, nodeId: 'many-other', keyPrefix: 'courier-many:', directoryTtlMs: TTL_MS, onError: (err) => errors.push(err) });
    // 2,000 users over 16,384 slots: about a hundred slots hold two or more of them, so some
    // calls carry several keys, which a cluster refuses unless they share the slot.
    const users = Array.from({ length: 2000 }, (_, i) => ({ userId: `+1555${String(i).padStart(7, '0')}`, deviceId: 1 }));
    try {
      await holder.start(new BusRecorder());
      await other.start(new BusRecorder());
      await Promise.all(users.map((user, i) => holder.claimDevice(user, `c-${i}`)));
      // Twice the TTL: only the holder's refreshes keep the entries.
      await sleep(TTL_MS * 2);
      assert.equal((await other.onlineDevices(users)).length, users.length);
      await holder.close();
      assert.equal((await other.onlineDevices(users)).length, 0, 'closing released every entry');
      assert.deepEqual(errors, []);
    } finally {
      await Promise.all([holder.close(), other.close()]);
    }
  });
});

describe('two nodes on a Redis Cluster', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let n1: TestNode;
  let n2: TestNode;
  const prefix = 'courier-nodes:';
  before(async () => {
    database = await createTestDatabase();
    const args = (nodeId: string) => ['--database-url', database.url, '--redis-url', servers.url, '--redis-prefix', prefix, '--node-id', nodeId];
    n1 = await startTestNode(args('n1'));
    n2 = await startTestNode(args('n2'));
  });
  after(async () => {
    await Promise.all([n1?.stop(), n2?.stop()]);
    await database?.drop();
  });

  it('loses no message while the master holding the recipient fails over', { timeout: 60_000 }, async () => {
    const alice = await n1.connectNew();
    const bob = await n2.connectNew();
    const to = bob.account.userId;
    // Sends keep a window of 10 in flight: 100 before the failover, as many as fit while it
    // runs, and 100 after it.
    let count = 0;
    let answered = 0;
    const send = async () => {
      alice.client.send({ type: 'send', id: `f-${count}`, to, body: String(count) });
      count++;
      if (count > 10) {
        await alice.client.next((f) => f.type === 'sent' || f.type === 'error', 20_000);
        answered++;
      }
    };
    while (count < 100) await send();
    let done = false;
    const failover = servers.failOver(directoryKey(prefix, { userId: to, deviceId: 1 })).finally(() => {
      done = true;
    });
    const duringFrom = count;
    while (!done) await send();
    const during = count - duringFrom;
    const moved = await failover;
    const total = count + 100;
    while (count < total) await send();
    while (answered < total) {
      await alice.client.next((f) => f.type === 'sent' || f.type === 'error', 20_000);
      answered++;
    }
    assert.notEqual(moved.from, moved.to);
    assert.ok(during > 0, 'messages were sent while the failover ran');
    assert.equal(alice.client.frames.filter((f) => f.type === 'error').length, 0, 'every send answered sent');

    // After the failover, a marker: everything before it must have arrived, once, in order.
    alice.client.send({ type: 'send', id: 'marker', to, body: 'after the failover' });
    const received: Frame[] = [];
    for (;;) {
      const message = await bob.client.next((f) => f.type === 'message', 20_000);
      received.push(message);
      if (message.id === 'marker') break;
    }
    assert.deepEqual(
      received.map((m) => m.id),
      [...Array.from({ length: total }, (_, i) => `f-${i}`), 'marker'],
    );
  });

  it('carries presence and typing between the nodes after the failover', async () => {
    const alice = await n1.connectNew();
    const bob = await n2.connectNew();
    alice.client.send({ type: 'typing', to: bob.account.userId, active: true });
    const typing = await bob.client.next((f) => f.type === 'typing');
    assert.equal(typing.from, alice.account.userId);
  });
});

/**
 * Push in a cluster: two `courier serve` processes on one PostgreSQL and one Redis, and a real
 * HTTPS push service. The decision to wake a device is made once per event in the deployment,
 * by the directory of the whole cluster, and a device's push slot is shared by the nodes.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cluster, type ClusterNode } from './support/cluster.js';
import { FakePushService } from './support/fake-push-service.js';
import type { Account } from './support/registration.js';
import { WsClient } from './support/ws-client.js';

describe('push in a cluster of two nodes', () => {
  let dir: string;
  let service: FakePushService;
  let cluster: Cluster;
  let n1: ClusterNode;
  let n2: ClusterNode;
  let counter = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'courier-push-cluster-'));
    service = await FakePushService.start(dir);
    // The nodes are child processes: they inherit this and trust the push service's certificate.
    process.env.NODE_EXTRA_CA_CERTS = service.certFile;
    // A long interval: any second wake a broken slot would allow comes at once, not after it.
    cluster = await Cluster.start({ nodes: 2, args: ['--push-hosts', '127.0.0.1', '--push-interval', '60'] });
    [n1, n2] = cluster.nodes as [ClusterNode, ClusterNode];
  });

  after(async () => {
    await cluster?.close();
    delete process.env.NODE_EXTRA_CA_CERTS;
    await service?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function subscribed(where: ClusterNode) {
    const account = await cluster.register(where.url);
    const subscription = service.subscribe();
    const response = await fetch(`${where.url}/v1/devices/me/push`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${account.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ webpush: { endpoint: subscription.endpoint, keys: subscription.keys } }),
    });
    assert.equal(response.status, 204);
    return { account, subscription };
  }

  async function send(from: WsClient, to: Account, body = 'hello'): Promise<void> {
    const id = `c${++counter}`;
    from.send({ type: 'send', id, to: to.userId, body });
    await from.next((f) => f.type === 'sent' && f.id === id);
  }

  /** A wake to a fresh offline device, sent after everything before it: what came before it has come. */
  async function marker(from: WsClient): Promise<void> {
    const target = await subscribed(n1);
    await send(from, target.account);
    await service.until(() => service.pushesTo(target.subscription.id).length > 0, 'the marker wake');
  }

  it('messages stored at once on both nodes for one offline device give one wake', async () => {
    const offline = await subscribed(n2);
    const alice = await cluster.connect(n1, await cluster.register(n1.url));
    const carol = await cluster.connect(n2, await cluster.register(n2.url));
    await Promise.all([send(alice, offline.account), send(carol, offline.account), send(alice, offline.account), send(carol, offline.account)]);
    await service.until(() => service.pushesTo(offline.subscription.id).length > 0, 'the wake');
    await marker(alice);
    await marker(carol);
    const wakes = service.pushesTo(offline.subscription.id);
    assert.equal(wakes.length, 1, `4 messages stored on 2 nodes gave ${wakes.length} wakes`);
    assert.ok(wakes[0]!.payload.unread >= 1);
    assert.deepEqual(service.rejected, []);
  });

  it('a device online on the other node gets no push', async () => {
    const bob = await subscribed(n1);
    const bobClient = await cluster.connect(n2, bob.account);
    const alice = await cluster.connect(n1, await cluster.register(n1.url));
    await send(alice, bob.account, 'while online elsewhere');
    await bobClient.next((f) => f.type === 'message' && f.body === 'while online elsewhere');
    await marker(alice);
    assert.deepEqual(service.pushesTo(bob.subscription.id), []);
  });
});

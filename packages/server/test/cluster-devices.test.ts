/**
 * Linked devices on two real nodes (`courier serve` processes) sharing PostgreSQL and Redis: the
 * devices of one account sit on different nodes, and every rule must hold across them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, type ClusterNode } from './support/cluster.js';
import { approveLink, linkDevice, listDevices, pollLink, removeDevice, requestLink } from './support/devices.js';
import type { Frame } from './support/ws-client.js';

describe('linked devices on a cluster of two nodes', () => {
  let cluster: Cluster;
  let n1: ClusterNode;
  let n2: ClusterNode;

  before(async () => {
    cluster = await Cluster.start({ nodes: 2 });
    [n1, n2] = cluster.nodes as [ClusterNode, ClusterNode];
  });

  after(async () => {
    await cluster?.close();
  });

  it('links a device on node 1 while the primary approves on node 2, and fans out across both', async () => {
    const alice = await cluster.register(n2.url);
    const primary = await cluster.connect(n2, alice);

    const requested = await requestLink(n1.url, 'Tablet');
    const waiting = pollLink(n1.url, requested.body.pollToken, 20);
    const approved = await approveLink(n2.url, alice.token, requested.body.linkCode);
    assert.deepEqual(approved.body, { deviceId: 2, name: 'Tablet' });
    const collected = await waiting;
    assert.equal(collected.status, 200, 'the long poll on node 1 learns of the approval on node 2');
    const tablet = await cluster.connect(n1, collected.body);
    assert.equal((await cluster.holderOf(alice.userId, 2))?.name, 'node1');
    assert.equal((await cluster.holderOf(alice.userId, 1))?.name, 'node2');

    const bob = await cluster.register(n1.url);
    const b = await cluster.connect(n1, bob);
    b.send({ type: 'send', id: 'x-1', to: alice.userId, body: 'to both of alice' });
    const sent = await b.next((f) => f.type === 'sent');
    const atPrimary = await primary.next((f) => f.type === 'message');
    const atTablet = await tablet.next((f) => f.type === 'message');
    assert.equal(atPrimary.serverId, sent.serverId);
    assert.equal(atTablet.serverId, sent.serverId);

    tablet.send({ type: 'ack', upTo: atTablet.seq });
    const delivered = await b.next((f) => f.type === 'receipt');
    assert.equal(delivered.status, 'delivered');
    assert.equal(delivered.deviceId, 2);
    primary.send({ type: 'read', serverIds: [sent.serverId] });
    assert.equal((await b.next((f) => f.type === 'receipt')).status, 'read', 'no second delivered receipt came first');
    const elsewhere = await tablet.next((f) => f.type === 'receipt');
    assert.deepEqual([elsewhere.status, elsewhere.by], ['read', alice.userId]);

    tablet.send({ type: 'send', id: 'from-tablet', to: bob.userId, body: 'sent from the tablet' });
    await tablet.next((f) => f.type === 'sent');
    const copy = await primary.next((f) => f.type === 'message');
    assert.deepEqual([copy.id, copy.from, copy.to], ['from-tablet', alice.userId, bob.userId]);
  });

  it('removal on node 2 closes the removed device\'s socket on node 1 with 4001', async () => {
    const alice = await cluster.register(n2.url);
    const linked = await linkDevice(n1.url, alice, 'Laptop', n2.url);
    const laptop = await cluster.connect(n1, linked);
    const removed = await removeDevice(n2.url, alice.token, linked.deviceId);
    assert.equal(removed.status, 204);
    assert.equal((await laptop.closed).code, 4001);
    assert.equal((await listDevices(n1.url, linked.token)).status, 401);
  });

  it('registering the phone again on node 1 closes every device\'s socket, on both nodes', async () => {
    const alice = await cluster.register(n1.url);
    const primary = await cluster.connect(n1, alice);
    const linked = await cluster.connect(n2, await linkDevice(n2.url, alice, 'Phone two', n1.url));
    const again = await cluster.register(n1.url, alice.userId);
    assert.equal((await primary.closed).code, 4001);
    assert.equal((await linked.closed).code, 4001);
    assert.deepEqual((await listDevices(n2.url, again.token)).body.devices.map((d: Frame) => d.deviceId), [1]);
  });

  it('presence: online while a device is connected on either node, offline after the last', async () => {
    const watcher = await cluster.connect(n1, await cluster.register(n1.url));
    const alice = await cluster.register(n1.url);
    const linked = await linkDevice(n2.url, alice, 'Second', n1.url);
    const primary = await cluster.connect(n1, alice);
    watcher.send({ type: 'presence.subscribe', users: [alice.userId] });
    assert.equal((await watcher.next((f) => f.type === 'presence')).online, true);

    const second = await cluster.connect(n2, linked);
    await primary.close();
    await second.close();
    const offline = await watcher.next((f) => f.type === 'presence');
    assert.equal(offline.online, false);
    await cluster.connect(n2, alice);
    assert.equal((await watcher.next((f) => f.type === 'presence')).online, true, 'one offline, not one per device, came before');
  });
});

/**
 * Three real nodes (`courier serve` processes) on one PostgreSQL database and one Redis, behind a
 * real HAProxy running deploy/haproxy.cfg, sharing no directory. Clients connect straight to a chosen node, so each test
 * knows that the two ends of a conversation sit on different nodes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Cluster, type ClusterNode } from './support/cluster.js';
import { newPhone, postJson } from './support/registration.js';
import { WsClient, type Frame } from './support/ws-client.js';

describe('a cluster of three nodes behind HAProxy', () => {
  let cluster: Cluster;
  let n1: ClusterNode;
  let n2: ClusterNode;
  let n3: ClusterNode;

  before(async () => {
    cluster = await Cluster.start({ nodes: 3 });
    [n1, n2, n3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  });

  after(async () => {
    await cluster?.close();
  });

  /** Waits for receipts of `status` until they cover every one of `serverIds`. */
  async function receiptsCovering(client: WsClient, status: string, serverIds: string[]): Promise<Frame[]> {
    const missing = new Set(serverIds);
    const receipts: Frame[] = [];
    while (missing.size > 0) {
      const receipt = await client.next((f) => f.type === 'receipt' && f.status === status);
      receipts.push(receipt);
      for (const id of receipt.serverIds as string[]) missing.delete(id);
    }
    return receipts;
  }

  it('carries a message from node 1 to node 2, with sent, delivered and read', async () => {
    const alice = await cluster.register(n1.url);
    const bob = await cluster.register(n2.url);
    const a = await cluster.connect(n1, alice);
    const b = await cluster.connect(n2, bob);
    assert.equal((await cluster.holderOf(alice.userId))?.name, 'node1');
    assert.equal((await cluster.holderOf(bob.userId))?.name, 'node2');

    a.send({ type: 'send', id: 'x-1', to: bob.userId, body: 'hello across nodes' });
    const sent = await a.next((f) => f.type === 'sent' && f.id === 'x-1');
    const message = await b.next((f) => f.type === 'message');
    assert.equal(message.serverId, sent.serverId);
    assert.equal(message.from, alice.userId);
    assert.equal(message.to, bob.userId);
    assert.equal(message.id, 'x-1');
    assert.equal(message.body, 'hello across nodes');

    b.send({ type: 'ack', upTo: message.seq });
    const delivered = await a.next((f) => f.type === 'receipt' && f.status === 'delivered');
    assert.deepEqual(delivered.serverIds, [sent.serverId]);
    assert.equal(delivered.by, bob.userId);
    a.send({ type: 'ack', upTo: delivered.seq });

    b.send({ type: 'read', serverIds: [sent.serverId] });
    const read = await a.next((f) => f.type === 'receipt' && f.status === 'read');
    assert.deepEqual(read.serverIds, [sent.serverId]);
    assert.equal(read.by, bob.userId);

    // And back the other way.
    b.send({ type: 'send', id: 'y-1', to: alice.userId, body: 'hello back' });
    await b.next((f) => f.type === 'sent' && f.id === 'y-1');
    const reply = await a.next((f) => f.type === 'message');
    assert.equal(reply.body, 'hello back');
  });

  it('stores messages for a device that is offline and delivers them on whichever node it connects to', async () => {
    const alice = await cluster.register(n1.url);
    const bob = await cluster.register(n2.url);
    const a = await cluster.connect(n1, alice);
    const serverIds: string[] = [];
    for (let i = 0; i < 5; i++) a.send({ type: 'send', id: `off-${i}`, to: bob.userId, body: `offline ${i}` });
    for (const sent of await a.take('sent', 5)) serverIds.push(sent.serverId);

    const b = await cluster.connect(n3, bob);
    const messages = await b.take('message', 5);
    assert.deepEqual(messages.map((m) => m.body).sort(), [0, 1, 2, 3, 4].map((i) => `offline ${i}`));
    assert.deepEqual(new Set(messages.map((m) => m.serverId)), new Set(serverIds));
    b.send({ type: 'ack', upTo: Math.max(...messages.map((m) => m.seq as number)) });
    await receiptsCovering(a, 'delivered', serverIds);

    // Delivered means deleted: a new connection, on yet another node, gets nothing again. The
    // marker sent afterwards takes a higher seq, so a redelivery would arrive before it.
    await b.close();
    const again = await cluster.connect(n1, bob);
    a.send({ type: 'send', id: 'off-marker', to: bob.userId, body: 'marker' });
    const first = await again.next((f) => f.type === 'message');
    assert.equal(first.body, 'marker');
  });

  it('revokes across nodes: registering again on node 2 closes the socket held on node 1 with 4001', async () => {
    const phone = newPhone();
    const first = await cluster.register(n1.url, phone);
    const old = await cluster.connect(n1, first);
    const second = await cluster.register(n2.url, phone);
    assert.equal((await old.closed).code, 4001);

    // The old token is refused everywhere, the new one works everywhere.
    const stale = await WsClient.open(n3.wsUrl);
    cluster.track(stale);
    stale.send({ type: 'auth', token: first.token });
    assert.equal((await stale.closed).code, 4001);
    const refused = await fetch(`${n3.url}/v1/groups/nope`, { headers: { authorization: `Bearer ${first.token}` } });
    assert.equal(refused.status, 401);
    const fresh = await cluster.connect(n3, second);
    fresh.send({ type: 'ping' });
    await fresh.next((f) => f.type === 'pong');
  });

  it('replaces across nodes: the same device connecting to node 2 closes its socket on node 1 with 4002', async () => {
    const dave = await cluster.register(n1.url);
    const alice = await cluster.register(n3.url);
    const onNode1 = await cluster.connect(n1, dave);
    const onNode2 = await cluster.connect(n2, dave);
    assert.equal((await onNode1.closed).code, 4002);
    assert.equal((await cluster.holderOf(dave.userId))?.name, 'node2');

    // Messages now reach the new connection.
    const a = await cluster.connect(n3, alice);
    a.send({ type: 'send', id: 'r-1', to: dave.userId, body: 'to the new socket' });
    const message = await onNode2.next((f) => f.type === 'message');
    assert.equal(message.body, 'to the new socket');
  });

  it('a connection closed while authenticating on node 1 does not evict the live one on node 2', async () => {
    // The race of a rolling restart: a node closes a socket whose auth is still running, the
    // client reconnects elsewhere at once, and the stale auth must not take the device back.
    for (let attempt = 0; attempt < 10; attempt++) {
      const device = await cluster.register(n1.url);
      const stale = await WsClient.open(n1.wsUrl);
      const live = await WsClient.open(n2.wsUrl);
      cluster.track(stale, live);
      stale.send({ type: 'auth', token: device.token });
      stale.socket.close();
      // Whichever node's claim lands first, the socket opened last (live) keeps the device.
      live.send({ type: 'auth', token: device.token });
      await live.next((f) => f.type === 'ready');
      const evicted = await Promise.race([live.closed, new Promise<undefined>((resolve) => setTimeout(resolve, 300))]);
      assert.equal(evicted, undefined, `attempt ${attempt}: the live connection was closed with ${evicted?.code}`);
      assert.equal((await cluster.holderOf(device.userId))?.name, 'node2', `attempt ${attempt}: the directory names the live connection`);
      live.socket.terminate();
    }
  });

  it('keeps the socket opened last when an older one on another node authenticates after it', { timeout: 15_000 }, async () => {
    const device = await cluster.register(n1.url);
    const older = await WsClient.open(n1.wsUrl);
    const newer = await WsClient.open(n2.wsUrl);
    cluster.track(older, newer);
    newer.send({ type: 'auth', token: device.token });
    await newer.next((f) => f.type === 'ready');
    older.send({ type: 'auth', token: device.token });
    assert.equal((await older.closed).code, 4002);
    const evicted = await Promise.race([newer.closed, new Promise<undefined>((resolve) => setTimeout(resolve, 300))]);
    assert.equal(evicted, undefined, `the newer socket was closed with ${evicted?.code}`);
    assert.equal((await cluster.holderOf(device.userId))?.name, 'node2');
  });

  it('of two sockets of a device authenticating at once on two nodes, keeps the one opened last', { timeout: 60_000 }, async () => {
    // A claim may land while the other node's auth is still finishing; its `replaced` must close
    // that socket then, not only at the directory's next refresh (5 s later).
    const device = await cluster.register(n1.url);
    for (let attempt = 0; attempt < 10; attempt++) {
      const older = await WsClient.open((attempt % 2 === 0 ? n1 : n2).wsUrl);
      const newer = await WsClient.open((attempt % 2 === 0 ? n2 : n1).wsUrl);
      cluster.track(older, newer);
      const auth = { type: 'auth', token: device.token };
      older.send(auth);
      newer.send(auth);
      const closed = await Promise.race([older.closed, new Promise<undefined>((resolve) => setTimeout(resolve, 3000))]);
      assert.equal(closed?.code, 4002, `attempt ${attempt}: the older socket is closed with 4002 within 3 s`);
      await newer.next((f) => f.type === 'ready');
      newer.send({ type: 'ping' });
      assert.equal((await newer.next()).type, 'pong', `attempt ${attempt}: the newer socket is still the device's`);
      await newer.close();
    }
  });

  it('carries presence and typing across nodes', async () => {
    const eve = await cluster.register(n1.url);
    const frank = await cluster.register(n2.url);
    const gus = await cluster.register(n3.url);
    const e = await cluster.connect(n1, eve);
    e.send({ type: 'presence.subscribe', users: [frank.userId] });
    const initially = await e.next((f) => f.type === 'presence' && f.user === frank.userId);
    assert.equal(initially.online, false);

    const f = await cluster.connect(n2, frank);
    const online = await e.next((fr) => fr.type === 'presence' && fr.user === frank.userId);
    assert.equal(online.online, true);

    // A subscriber on a third node gets the state from the shared directory.
    const g = await cluster.connect(n3, gus);
    g.send({ type: 'presence.subscribe', users: [frank.userId] });
    const snapshot = await g.next((fr) => fr.type === 'presence' && fr.user === frank.userId);
    assert.equal(snapshot.online, true);

    f.send({ type: 'typing', to: eve.userId, active: true });
    const typing = await e.next((fr) => fr.type === 'typing');
    assert.deepEqual({ from: typing.from, to: typing.to, active: typing.active }, { from: frank.userId, to: eve.userId, active: true });

    const leftAt = Date.now();
    await f.close();
    for (const watcher of [e, g]) {
      const offline = await watcher.next((fr) => fr.type === 'presence' && fr.user === frank.userId);
      assert.equal(offline.online, false);
      assert.ok(offline.lastSeen >= leftAt - 1000, `lastSeen ${offline.lastSeen} is recent`);
    }
  });

  it('fans a group message out to members on every node', async () => {
    const [owner, m2, m3] = await Promise.all([cluster.register(n1.url), cluster.register(n2.url), cluster.register(n3.url)]);
    const created = await postJson(`${n1.url}/v1/groups`, { name: 'spread', members: [m2!.userId, m3!.userId] }, { authorization: `Bearer ${owner!.token}` });
    assert.equal(created.status, 201);
    const groupId = created.body.groupId as string;
    const o = await cluster.connect(n1, owner!);
    const c2 = await cluster.connect(n2, m2!);
    const c3 = await cluster.connect(n3, m3!);
    o.send({ type: 'send', id: 'g-1', to: groupId, body: 'to everyone' });
    const sent = await o.next((f) => f.type === 'sent' && f.id === 'g-1');
    for (const member of [c2, c3]) {
      const message = await member.next((f) => f.type === 'message');
      assert.equal(message.group, groupId);
      assert.equal(message.serverId, sent.serverId);
      member.send({ type: 'ack', upTo: message.seq });
    }
    const byWhom = new Set<string>();
    while (byWhom.size < 2) byWhom.add((await o.next((f) => f.type === 'receipt' && f.status === 'delivered')).by);
    assert.deepEqual(byWhom, new Set([m2!.userId, m3!.userId]));
  });

  it('serves clients through HAProxy: registration, sockets, readiness, and media with no shared disk', async () => {
    const ready = await fetch(`${cluster.url}/readyz`);
    assert.equal(ready.status, 200);
    const alice = await cluster.register();
    const bob = await cluster.register();
    const a = await cluster.connect(cluster, alice);
    const b = await cluster.connect(cluster, bob);

    // Several chunks of the PostgreSQL media store, and not a multiple of one.
    const bytes = randomBytes(600_000);
    const uploaded = await fetch(`${n1.url}/v1/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'image/png' },
      body: bytes,
    });
    assert.equal(uploaded.status, 201);
    const media = (await uploaded.json()) as { hash: string; size: number; mime: string };
    // Sent through whichever node HAProxy chose, fetched from another one.
    a.send({ type: 'send', id: 'm-1', to: bob.userId, media: { hash: media.hash, mime: media.mime, size: media.size } });
    await a.next((f) => f.type === 'sent' && f.id === 'm-1');
    const message = await b.next((f) => f.type === 'message');
    assert.equal(message.media.hash, media.hash);
    const auth = { authorization: `Bearer ${bob.token}` };
    for (const base of [n2.url, n3.url, cluster.url]) {
      const download = await fetch(`${base}/v1/media/${message.media.hash}`, { headers: auth });
      assert.equal(download.status, 200, `download from ${base}`);
      assert.equal(download.headers.get('etag'), `"${media.hash}"`);
      assert.deepEqual(Buffer.from(await download.arrayBuffer()), bytes);
    }
    // A ranged download on node 2 across a chunk boundary, then resumed to the end.
    const ranged = await fetch(`${n2.url}/v1/media/${media.hash}`, { headers: { ...auth, range: 'bytes=262000-300000', 'if-range': `"${media.hash}"` } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), `bytes 262000-300000/${bytes.length}`);
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), bytes.subarray(262_000, 300_001));
    const rest = await fetch(`${n2.url}/v1/media/${media.hash}`, { headers: { ...auth, range: 'bytes=300001-' } });
    assert.equal(rest.status, 206);
    assert.deepEqual(Buffer.from(await rest.arrayBuffer()), bytes.subarray(300_001));
    const cached = await fetch(`${n3.url}/v1/media/${media.hash}`, { headers: { ...auth, 'if-none-match': `"${media.hash}"` } });
    assert.equal(cached.status, 304);
    // No node wrote media to its own disk.
    for (const node of cluster.nodes) assert.equal(existsSync(join(cluster.dataDirOf(node), 'media')), false, node.name);
  });

  it('shares rate limits between the nodes', async () => {
    const phone = newPhone();
    const nodes = [n1, n2, n3];
    // Five code requests per phone by default, wherever they land.
    for (let i = 0; i < 5; i++) {
      const answer = await postJson(`${nodes[i % 3]!.url}/v1/register/request`, { phone });
      assert.equal(answer.status, 202, `request ${i + 1}`);
    }
    const refused = await postJson(`${n3.url}/v1/register/request`, { phone });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, 'rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
  });

  it('counts the address HAProxy saw, not one the client wrote in X-Forwarded-For', async () => {
    const answer = await postJson(`${cluster.url}/v1/register/request`, { phone: newPhone() }, { 'x-forwarded-for': '203.0.113.9' });
    assert.equal(answer.status, 202);
    const key = (address: string) => `${cluster.redisPrefix}rate:reg:addr:${address}`;
    assert.equal(await cluster.redis.exists(key('203.0.113.9')), 0, 'the forged address was not counted');
    assert.equal(await cluster.redis.exists(key('127.0.0.1')), 1, 'the real address was counted');
  });

  it('stops a node gracefully: 1012 to its sockets, answered sends kept, directory entries removed, exit 0, out of rotation', async () => {
    const alice = await cluster.register(n1.url);
    const bob = await cluster.register(n1.url);
    const a = await cluster.connect(n3, alice);
    const b = await cluster.connect(n3, bob);
    assert.ok((await cluster.directoryEntriesOf(n3)).length >= 2);

    // Sends still arriving while the node drains: the ones answered must all be kept.
    const total = 200;
    for (let i = 0; i < total; i++) a.send({ type: 'send', id: `d-${i}`, to: bob.userId, body: String(i) });
    const firstSent = await a.next((f) => f.type === 'sent');
    const stopping = cluster.stopNode(n3);
    const [closedA, closedB] = await Promise.all([a.closed, b.closed]);
    assert.equal(closedA.code, 1012);
    assert.equal(closedB.code, 1012);
    assert.equal(await stopping, 0, `exit code\n${cluster.output()}`);
    assert.deepEqual(await cluster.directoryEntriesOf(n3), []);
    await cluster.waitForBalancer(n3, 'DOWN');

    const answered = new Set(a.frames.filter((f) => f.type === 'sent').map((f) => f.id as string));
    answered.add(firstSent.id as string);
    const again = await cluster.connect(cluster, bob);
    assert.notEqual((await cluster.holderOf(bob.userId))?.name, 'node3', 'HAProxy sends no one to the stopped node');
    const received = new Set<string>();
    for (;;) {
      const message = await again.next((f) => f.type === 'message', 2000).catch(() => undefined);
      if (message === undefined) break;
      received.add(message.id);
    }
    for (const id of answered) assert.ok(received.has(id), `${id} was answered by sent and then lost`);
  });
});

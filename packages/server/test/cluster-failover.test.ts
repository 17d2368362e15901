/**
 * Nodes of a real cluster die and restart under load, behind a real HAProxy: `kill -9` of the node
 * holding a client with unacked messages, and a rolling restart of every node while SDK clients
 * keep talking. Nothing answered by `sent` may be lost, and no app may see a message twice.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CourierClient, type DisconnectInfo, type SentAnswer } from 'courier-chat-client/node';
import { Cluster, type ClusterNode } from './support/cluster.js';
import type { Account } from './support/registration.js';
import { WsClient, type Frame } from './support/ws-client.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Connects through a balancer that may still be finding out which nodes are gone. */
async function connectWithRetry(wsUrl: string, token: string, timeoutMs = 15_000): Promise<WsClient> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await WsClient.connect(wsUrl, token);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

/** Every `message` frame until none has come for `quietMs`. */
async function drainMessages(client: WsClient, quietMs = 2000): Promise<Frame[]> {
  const messages: Frame[] = [];
  for (;;) {
    const message = await client.next((f) => f.type === 'message', quietMs).catch(() => undefined);
    if (message === undefined) return messages;
    messages.push(message);
  }
}

describe('a cluster losing and restarting nodes behind HAProxy', () => {
  let cluster: Cluster;
  const sockets: WsClient[] = [];

  before(async () => {
    cluster = await Cluster.start({ nodes: 3 });
  });

  after(async () => {
    for (const socket of sockets) socket.socket.terminate();
    await cluster?.close();
  });

  it('kill -9 of the node holding a client: it reconnects through HAProxy to a survivor and gets every unacked message', { timeout: 60_000 }, async () => {
    try {
      await killAndRecover();
    } finally {
      for (const node of cluster.nodes) await ensureRunning(node);
    }
  });

  async function killAndRecover(): Promise<void> {
    const alice = await cluster.register();
    const bob = await cluster.register();
    const b = await WsClient.connect(cluster.wsUrl, bob.token);
    sockets.push(b);
    const doomed = await cluster.holderOf(bob.userId);
    assert.ok(doomed !== undefined, 'the directory names the node holding bob');
    // The sender sits on the same node, so it dies mid-stream too.
    const a = await WsClient.connect(doomed.wsUrl, alice.token);
    sockets.push(a);

    // A steady stream, so that the node dies with sends on the wire and others not yet written.
    const total = 300;
    let written = 0;
    const stream = setInterval(() => {
      for (let j = 0; j < 3 && written < total && a.socket.readyState === a.socket.OPEN; j++, written++) {
        a.send({ type: 'send', id: `k-${written}`, to: bob.userId, body: `kill ${written}` });
      }
    }, 10);
    const count = (client: WsClient, type: string) => client.frames.filter((f) => f.type === type).length;
    // Bob holds pushed messages he never acks; some sends are answered, others not yet.
    await until('50 messages pushed to bob and 50 sends answered', () => count(b, 'message') >= 50 && count(a, 'sent') >= 50, 20_000);
    await cluster.killNode(doomed);
    await Promise.all([a.closed, b.closed]);
    clearInterval(stream);
    const answered = a.frames.filter((f) => f.type === 'sent');
    const pushedBefore = b.frames.filter((f) => f.type === 'message');

    const again = await connectWithRetry(cluster.wsUrl, bob.token);
    sockets.push(again);
    const survivor = await cluster.holderOf(bob.userId);
    assert.ok(survivor !== undefined && survivor !== doomed, `bob reconnected to ${survivor?.name}, not the dead ${doomed.name}`);
    const received = await drainMessages(again);
    const byId = new Map(received.map((m) => [m.id as string, m]));
    assert.equal(byId.size, received.length, 'no message pushed twice on one connection');
    for (const sent of answered) assert.equal(byId.get(sent.id)?.serverId, sent.serverId, `${sent.id} answered by sent, then lost`);
    for (const pushed of pushedBefore) assert.equal(byId.get(pushed.id)?.seq, pushed.seq, `unacked ${pushed.id} pushed again with its seq`);
    // Rule 6: the order of the sent answers is the order of the inbox.
    const inboxOrder = received.map((m) => m.id as string).filter((id) => answered.some((s) => s.id === id));
    assert.deepEqual(inboxOrder, answered.map((s) => s.id as string));

    // The sender comes back through HAProxy and sends everything again with the same ids:
    // what was stored answers with its serverId, the rest is stored now, nothing is stored twice.
    const a2 = await connectWithRetry(cluster.wsUrl, alice.token);
    sockets.push(a2);
    for (let i = 0; i < total; i++) a2.send({ type: 'send', id: `k-${i}`, to: bob.userId, body: `kill ${i}` });
    const resent = new Map((await a2.take('sent', total, 20_000)).map((s) => [s.id as string, s.serverId as string]));
    for (const sent of answered) assert.equal(resent.get(sent.id), sent.serverId, `${sent.id} kept its serverId`);
    const rest = await drainMessages(again);
    const all = [...received, ...rest];
    assert.equal(all.length, total, 'every message exactly once');
    assert.deepEqual(new Set(all.map((m) => m.serverId)), new Set(resent.values()));

    again.send({ type: 'ack', upTo: Math.max(...all.map((m) => m.seq as number)) });
    const delivered = new Set<string>();
    while (delivered.size < total) {
      const receipt = await a2.next((f) => f.type === 'receipt' && f.status === 'delivered', 10_000);
      for (const id of receipt.serverIds as string[]) delivered.add(id);
    }
  }

  it('kill -9 of a node: watchers on the other nodes learn that its users went offline', { timeout: 60_000 }, async () => {
    const [doomed, watching] = cluster.nodes as [ClusterNode, ClusterNode];
    try {
      const carol = await cluster.register();
      const dave = await cluster.register();
      const c = await WsClient.connect(doomed.wsUrl, carol.token);
      const d = await WsClient.connect(watching.wsUrl, dave.token);
      sockets.push(c, d);
      d.send({ type: 'presence.subscribe', users: [carol.userId] });
      assert.equal((await d.next((f) => f.type === 'presence')).online, true);

      const killedAt = Date.now();
      await cluster.killNode(doomed);
      // No node says goodbye for carol: her directory entry expires (15 s), then a survivor notices.
      const offline = await d.next((f) => f.type === 'presence', 40_000);
      assert.equal(offline.user, carol.userId);
      assert.equal(offline.online, false);
      assert.ok(offline.lastSeen >= killedAt, 'lastSeen is when the loss was noticed, not older');
      assert.deepEqual(await d.quietFor(300, 'presence'), [], 'told once');
    } finally {
      await ensureRunning(doomed);
    }
  });

  async function ensureRunning(node: ClusterNode): Promise<void> {
    if (node.running) return;
    await cluster.startNode(node);
    await cluster.waitForBalancer(node, 'UP');
  }

  it('rolling restart of 3 nodes while 20 SDK clients exchange 2,000 messages: each shown once, in order per sender, every send resolved', { timeout: 120_000 }, async () => {
    for (const node of cluster.nodes) await ensureRunning(node);
    const users = 20;
    const perUser = 100;
    const accounts: Account[] = [];
    for (let i = 0; i < users; i++) accounts.push(await cluster.register());
    const indexOf = new Map(accounts.map((account, i) => [account.userId, i]));

    const shown = new Map<string, number>();
    /** recipient → sender → the last message number shown. */
    const lastShown = accounts.map(() => new Map<number, number>());
    const outOfOrder: string[] = [];
    const errors: Error[] = [];
    const disconnects: DisconnectInfo[][] = accounts.map(() => []);
    const clients = accounts.map((account, me) => {
      const client = new CourierClient({ url: cluster.url, token: account.token, backoff: { initialDelayMs: 100, maxDelayMs: 1000 } });
      client.on('message', (message) => {
        const from = indexOf.get(message.from)!;
        const n = Number(message.body!.split(':')[1]);
        shown.set(message.body!, (shown.get(message.body!) ?? 0) + 1);
        const previous = lastShown[me]!.get(from) ?? -1;
        if (n <= previous) outOfOrder.push(`user ${me} was shown ${message.body} after ${from}:${previous}`);
        lastShown[me]!.set(from, n);
      });
      client.on('error', (err) => void errors.push(err));
      client.on('disconnected', (info) => void disconnects[me]!.push(info));
      return client;
    });

    try {
      await Promise.all(clients.map((client) => client.connect()));
      let restarting = true;
      const answers: Promise<{ id: string; body: string; peer: number; answer: SentAnswer }>[] = [];
      const senders = clients.map(async (client, me) => {
        // One lane per recipient: a message to a peer goes once the previous one to that peer is
        // answered, so "in order" means the order of the send() calls. Lanes run side by side.
        const lanes = new Map<number, Promise<unknown>>();
        for (let n = 0; n < perUser; n++) {
          const peer = (me + 1 + (n % (users - 1))) % users;
          const id = randomUUID();
          const body = `${me}:${n}`;
          const answer = (lanes.get(peer) ?? Promise.resolve()).then(() => client.send({ id, to: accounts[peer]!.userId, body }));
          lanes.set(peer, answer.catch(() => undefined));
          answers.push(answer.then((sent) => ({ id, body, peer, answer: sent })));
          // Spread the traffic over the whole restart; once it is over, the rest goes at once.
          if (restarting) await sleep(250);
        }
      });

      await sleep(1000);
      for (const node of cluster.nodes) await rollOver(node);
      restarting = false;

      await senders;
      const sent = await Promise.all(answers);
      assert.deepEqual(sent.filter((s) => s.answer.id !== s.id), [], 'every send answered for its own id');
      const bodiesOf = new Map<string, string[]>();
      for (const { body, answer } of sent) bodiesOf.set(answer.serverId, [...(bodiesOf.get(answer.serverId) ?? []), body]);
      assert.deepEqual([...bodiesOf.values()].filter((bodies) => bodies.length > 1), [], 'each message has its own serverId');
      await until(`all ${users * perUser} messages shown`, () => shown.size === users * perUser, 60_000).catch(async (err: Error) => {
        const missing = accounts.map((_, me) => sent.filter((s) => s.peer === me && !shown.has(s.body)).map((s) => s.body));
        const report = missing.map((bodies, me) => `user ${me} (${accounts[me]!.userId}, ${clients[me]!.state}): ${bodies.length} missing ${bodies.slice(0, 5).join(' ')}`);
        throw new Error(`${err.message}\n${report.join('\n')}\ninboxes: ${JSON.stringify(await cluster.inboxes())}\n${cluster.output()}`);
      });
      // Anything shown twice would come with the stragglers: give them a moment.
      await sleep(500);
      const twice = [...shown].filter(([, times]) => times > 1);
      assert.deepEqual(twice, [], 'no message shown twice');
      assert.deepEqual(outOfOrder, [], 'messages of one sender shown in order');
      disconnects.forEach((list, me) => {
        assert.ok(list.some((d) => d.code === 1012), `user ${me} was moved by a restart (closes: ${list.map((d) => d.code).join(', ')})`);
        assert.ok(list.every((d) => d.willReconnect), `user ${me} kept reconnecting`);
      });
      assert.deepEqual(errors.map((e) => e.message), [], 'no client errors');
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  /** One step of a rolling restart: SIGTERM, exit, out of rotation, start again, back in rotation. */
  async function rollOver(node: ClusterNode): Promise<void> {
    assert.equal(await cluster.stopNode(node), 0, `${node.name} exits 0 on SIGTERM\n${cluster.output()}`);
    await cluster.waitForBalancer(node, 'DOWN');
    await cluster.startNode(node);
    await cluster.waitForBalancer(node, 'UP');
  }
});

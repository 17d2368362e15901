import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestNodeOn, type TestNode } from './support/test-node.js';

for (const backend of ['sqlite', 'postgres'] as const) describe(`delivery on ${backend}: one tick, two ticks, blue ticks`, () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNodeOn(backend);
  });
  after(() => t.stop());

  it('stores, answers sent, pushes, and turns ack and read into durable receipts', async () => {
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    alice.client.send({ type: 'send', id: 'c-1', to: bob.account.userId, body: 'hello bob', extra: 'ignored' });
    const sent = await alice.client.next((f) => f.type === 'sent');
    assert.equal(sent.id, 'c-1');
    assert.equal(typeof sent.serverId, 'string');
    assert.equal(typeof sent.ts, 'number');

    const message = await bob.client.next((f) => f.type === 'message');
    assert.equal(message.serverId, sent.serverId);
    assert.equal(message.id, 'c-1');
    assert.equal(message.from, alice.account.userId);
    assert.equal(message.to, bob.account.userId);
    assert.equal(message.body, 'hello bob');
    assert.equal(message.ts, sent.ts);
    assert.ok(Number.isInteger(message.seq) && message.seq > 0);
    assert.equal(message.group, undefined);

    bob.client.send({ type: 'ack', upTo: message.seq });
    const delivered = await alice.client.next((f) => f.type === 'receipt');
    assert.equal(delivered.status, 'delivered');
    assert.deepEqual(delivered.serverIds, [sent.serverId]);
    assert.equal(delivered.by, bob.account.userId);
    assert.ok(Number.isInteger(delivered.seq));

    bob.client.send({ type: 'read', serverIds: [sent.serverId] });
    const read = await alice.client.next((f) => f.type === 'receipt');
    assert.equal(read.status, 'read');
    assert.deepEqual(read.serverIds, [sent.serverId]);
    assert.equal(read.by, bob.account.userId);
    assert.ok(read.seq > delivered.seq);
  });

  it('delivers 50 messages to an offline user in order when it connects', async () => {
    const alice = await t.connectNew();
    const bob = await t.register();
    for (let i = 0; i < 50; i++) alice.client.send({ type: 'send', id: `o-${i}`, to: bob.userId, body: `#${i}` });
    const sent = await alice.client.take('sent', 50);
    assert.deepEqual(sent.map((f) => f.id), Array.from({ length: 50 }, (_, i) => `o-${i}`));

    const device = await t.connect(bob);
    const messages = await device.take('message', 50);
    assert.deepEqual(messages.map((m) => m.body), Array.from({ length: 50 }, (_, i) => `#${i}`));
    const seqs = messages.map((m) => m.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, 50);
  });

  it('delivers a backlog of several store pages in order, each message once', { timeout: 60_000 }, async () => {
    const alice = await t.connectNew();
    const bob = await t.register();
    // More than two pages of the inbox pump (256 each): the pages after the first are read ahead.
    const count = 700;
    for (let i = 0; i < count; i++) alice.client.send({ type: 'send', id: `p-${i}`, to: bob.userId, body: `#${i}` });
    await alice.client.take('sent', count, 30_000);

    const device = await t.connect(bob);
    const messages = await device.take('message', count, 30_000);
    assert.deepEqual(messages.map((m) => m.body), Array.from({ length: count }, (_, i) => `#${i}`));
    device.send({ type: 'ack', upTo: messages[count - 1]!.seq });
    alice.client.send({ type: 'send', id: 'p-marker', to: bob.userId, body: 'marker' });
    const next = await device.take('message', 1);
    assert.equal(next[0]!.body, 'marker', 'nothing was pushed twice before the marker');
  });

  it('pushes unacked events again after a reconnect, and acked ones never', async () => {
    const alice = await t.connectNew();
    const bob = await t.register();
    for (let i = 0; i < 4; i++) alice.client.send({ type: 'send', id: `r-${i}`, to: bob.userId, body: `#${i}` });
    await alice.client.take('sent', 4);

    let device = await t.connect(bob);
    const firstTime = await device.take('message', 4);
    device.send({ type: 'ack', upTo: firstTime[1]!.seq });
    await alice.client.next((f) => f.type === 'receipt' && f.status === 'delivered');
    await device.close();

    device = await t.connect(bob);
    const again = await device.take('message', 2);
    assert.deepEqual(again.map((m) => m.body), ['#2', '#3']);
    assert.deepEqual(again.map((m) => m.seq), firstTime.slice(2).map((m) => m.seq));
    assert.deepEqual(await device.quietFor(200, 'message'), [], 'nothing acked comes back');
  });

  it('gives one delivery for the same client id sent twice', async () => {
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    alice.client.send({ type: 'send', id: 'same', to: bob.account.userId, body: 'once' });
    const first = await alice.client.next((f) => f.type === 'sent');
    alice.client.send({ type: 'send', id: 'same', to: bob.account.userId, body: 'once' });
    const second = await alice.client.next((f) => f.type === 'sent');
    assert.equal(second.serverId, first.serverId);
    assert.equal(second.ts, first.ts);
    await bob.client.next((f) => f.type === 'message');
    assert.deepEqual(await bob.client.quietFor(300, 'message'), []);
  });

  it('keeps the order of one sender\'s messages in seq order', async () => {
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    for (let i = 0; i < 200; i++) alice.client.send({ type: 'send', id: `s-${i}`, to: bob.account.userId, body: String(i) });
    const sent = await alice.client.take('sent', 200);
    assert.deepEqual(sent.map((s) => s.id), Array.from({ length: 200 }, (_, i) => `s-${i}`), 'sent answers come in frame order');
    const messages = await bob.client.take('message', 200);
    assert.deepEqual(messages.map((m) => m.serverId), sent.map((s) => s.serverId));
    for (let i = 1; i < messages.length; i++) assert.ok(messages[i]!.seq > messages[i - 1]!.seq);
  });

  it('gives a sender that was offline its receipts when it comes back', async () => {
    const alice = await t.register();
    const bob = await t.connectNew();
    const aliceDevice = await t.connect(alice);
    aliceDevice.send({ type: 'send', id: 'later', to: bob.account.userId, body: 'see you' });
    const sent = await aliceDevice.next((f) => f.type === 'sent');
    await aliceDevice.close();

    const message = await bob.client.next((f) => f.type === 'message');
    bob.client.send({ type: 'ack', upTo: message.seq });
    bob.client.send({ type: 'read', serverIds: [message.serverId] });
    await bob.client.quietFor(200);

    const back = await t.connect(alice);
    const receipts = await back.take('receipt', 2);
    assert.deepEqual(receipts.map((r) => [r.status, r.serverIds]), [
      ['delivered', [sent.serverId]],
      ['read', [sent.serverId]],
    ]);
  });

  it('counts an ack above the last pushed seq as that last seq', async () => {
    const alice = await t.connectNew();
    const bob = await t.register();
    let device = await t.connect(bob);
    device.send({ type: 'ack', upTo: 1_000_000 });
    await device.quietFor(100);
    alice.client.send({ type: 'send', id: 'after-ack', to: bob.userId, body: 'still here' });
    await alice.client.next((f) => f.type === 'sent');
    const message = await device.next((f) => f.type === 'message');
    await device.close();

    device = await t.connect(bob);
    const again = await device.next((f) => f.type === 'message');
    assert.equal(again.serverId, message.serverId, 'the earlier, too-high ack did not delete it');
  });

  it('acks receipts like any durable event', async () => {
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    alice.client.send({ type: 'send', id: 'x', to: bob.account.userId, body: 'x' });
    const message = await bob.client.next((f) => f.type === 'message');
    bob.client.send({ type: 'ack', upTo: message.seq });
    const receipt = await alice.client.next((f) => f.type === 'receipt');
    alice.client.send({ type: 'ack', upTo: receipt.seq });
    await alice.client.quietFor(200);
    await alice.client.close();
    const again = await t.connect(alice.account);
    assert.deepEqual(await again.quietFor(300, 'receipt'), []);
  });

  it('keeps pushing to a client that reads slowly, losing nothing (backpressure)', { timeout: 60_000 }, async () => {
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    const raw = (bob.client.socket as any)._socket;
    raw.pause();
    const body = 'b'.repeat(30_000);
    const count = 200;
    for (let i = 0; i < count; i++) alice.client.send({ type: 'send', id: `bp-${i}`, to: bob.account.userId, body: `${i}:${body}` });
    await alice.client.take('sent', count, 30_000);
    raw.resume();
    const messages = await bob.client.take('message', count, 30_000);
    assert.deepEqual(messages.map((m) => Number(m.body.split(':')[0])), Array.from({ length: count }, (_, i) => i));
  });
});

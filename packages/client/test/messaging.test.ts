/**
 * Send and receive over a real server: the three ticks (sent, delivered, read), typing, presence,
 * groups and the errors that reject a send.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CourierSocketError, type GroupEvent, type MessageEvent, type ReceiptEvent } from '../src/node.js';
import { clientOf } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { waitUntil, within } from './support/wait.js';

const env = sharedServer(['alice', 'bob', 'carol']);

test('a message gets sent, then delivered, then read', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const receipts: ReceiptEvent[] = [];
  const received: MessageEvent[] = [];
  a.on('receipt', (r) => void receipts.push(r));
  b.on('message', (m) => void received.push(m));
  try {
    const readyA = await a.connect();
    assert.equal(readyA.userId, env.alice.userId);
    assert.equal(typeof readyA.serverTime, 'number');
    await b.connect();

    const sent = await a.send({ to: env.bob.userId, body: 'hello bob' });
    assert.equal(typeof sent.serverId, 'string');
    assert.equal(typeof sent.ts, 'number');
    assert.match(sent.id, /^[0-9a-f-]{36}$/);

    await waitUntil('bob receives the message', () => received.length === 1);
    const m = received[0]!;
    assert.equal(m.serverId, sent.serverId);
    assert.equal(m.id, sent.id);
    assert.equal(m.from, env.alice.userId);
    assert.equal(m.to, env.bob.userId);
    assert.equal(m.body, 'hello bob');
    assert.equal(typeof m.seq, 'number');

    await waitUntil('alice gets the delivered receipt', () => receipts.some((r) => r.status === 'delivered'));
    const delivered = receipts.find((r) => r.status === 'delivered')!;
    assert.deepEqual(delivered.serverIds, [sent.serverId]);
    assert.equal(delivered.by, env.bob.userId);

    b.read([m.serverId]);
    await waitUntil('alice gets the read receipt', () => receipts.some((r) => r.status === 'read'));
    const read = receipts.find((r) => r.status === 'read')!;
    assert.deepEqual(read.serverIds, [sent.serverId]);
    assert.equal(read.by, env.bob.userId);
    assert.ok(read.seq > delivered.seq, 'receipts come in seq order');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a read sent from inside the message handler does not overtake the delivered receipt', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const statuses: string[] = [];
  a.on('receipt', (r) => {
    if (r.serverIds.includes(sentId)) statuses.push(r.status);
  });
  b.on('message', (m) => b.read([m.serverId]));
  let sentId = '';
  try {
    await a.connect();
    await b.connect();
    sentId = (await a.send({ to: env.bob.userId, body: 'read at once' })).serverId;
    await waitUntil('both receipts', () => statuses.length === 2);
    assert.deepEqual(statuses, ['delivered', 'read']);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a message to an offline user waits for it, and the receipt waits for the sender', async () => {
  const a = clientOf(env.server, env.alice);
  await a.connect();
  const sent = await a.send({ to: env.carol.userId, body: 'are you there?' });
  await a.close();

  const c = clientOf(env.server, env.carol);
  const received: MessageEvent[] = [];
  c.on('message', (m) => void received.push(m));
  await c.connect();
  await waitUntil('carol gets the stored message', () => received.some((m) => m.serverId === sent.serverId));
  await c.close();

  const a2 = clientOf(env.server, env.alice);
  const receipts: ReceiptEvent[] = [];
  a2.on('receipt', (r) => void receipts.push(r));
  await a2.connect();
  await waitUntil('alice gets the delivered receipt on coming back', () =>
    receipts.some((r) => r.status === 'delivered' && r.serverIds.includes(sent.serverId)),
  );
  await a2.close();
});

test('messages from one sender arrive in the order of their sent answers', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const bodies: string[] = [];
  b.on('message', (m) => {
    if (m.from === env.alice.userId && m.body?.startsWith('order ')) bodies.push(m.body);
  });
  try {
    await a.connect();
    await b.connect();
    const answered: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.send({ to: env.bob.userId, body: `order ${i}` }).then(() => void answered.push(`order ${i}`))),
    );
    await waitUntil('bob receives all 20', () => bodies.length === 20);
    assert.deepEqual(bodies, answered, 'bob sees them in the order alice got their sent answers');
  } finally {
    await a.close();
    await b.close();
  }
});

test('sending the same client id twice gives the same serverId and delivers once', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const got: MessageEvent[] = [];
  b.on('message', (m) => void got.push(m));
  try {
    await a.connect();
    await b.connect();
    const id = crypto.randomUUID();
    const first = await a.send({ id, to: env.bob.userId, body: 'once' });
    const second = await a.send({ id, to: env.bob.userId, body: 'once' });
    assert.equal(second.serverId, first.serverId);
    await waitUntil('bob gets it', () => got.some((m) => m.id === id));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(got.filter((m) => m.id === id).length, 1);
  } finally {
    await a.close();
    await b.close();
  }
});

test('typing and presence reach the other side', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const typing: boolean[] = [];
  const presence: { user: string; online: boolean }[] = [];
  b.on('typing', (t) => {
    if (t.from === env.alice.userId) typing.push(t.active);
  });
  a.on('presence', (p) => void presence.push({ user: p.user, online: p.online }));
  try {
    await a.connect();
    await b.connect();
    a.subscribePresence([env.bob.userId]);
    await waitUntil('alice sees bob online', () => presence.some((p) => p.user === env.bob.userId && p.online));
    assert.equal(a.typing(env.bob.userId, true), true);
    await waitUntil('bob sees alice typing', () => typing.includes(true));
    await b.close();
    await waitUntil('alice sees bob go offline', () => presence.some((p) => p.user === env.bob.userId && !p.online));
    const rtt = await a.ping();
    assert.ok(rtt >= 0);
  } finally {
    await a.close();
    await b.close();
  }
});

test('groups: create, send to all members, change members, non-members are refused', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const c = clientOf(env.server, env.carol);
  const atBob: MessageEvent[] = [];
  const atCarol: MessageEvent[] = [];
  const groupEvents: GroupEvent[] = [];
  b.on('group', (g) => void groupEvents.push(g));
  b.on('message', (m) => void atBob.push(m));
  c.on('message', (m) => void atCarol.push(m));
  try {
    await Promise.all([a.connect(), b.connect(), c.connect()]);
    const group = await a.createGroup('friends', [env.bob.userId]);
    assert.equal(group.name, 'friends');
    assert.deepEqual([...group.members].sort(), [env.alice.userId, env.bob.userId].sort());
    assert.deepEqual(group.admins, [env.alice.userId]);
    assert.deepEqual(await b.getGroup(group.groupId), group);
    // Membership events are a server extension of the contract; the SDK hands them to 'group' in seq order.
    await waitUntil('bob gets the group event', () => groupEvents.some((g) => g.groupId === group.groupId));
    assert.equal(typeof groupEvents[0]!.seq, 'number');

    const sent = await a.send({ to: group.groupId, body: 'hi all' });
    await waitUntil('bob gets the group message', () => atBob.some((m) => m.serverId === sent.serverId));
    const m = atBob.find((x) => x.serverId === sent.serverId)!;
    assert.equal(m.group, group.groupId);
    assert.equal(m.from, env.alice.userId);

    await assert.rejects(c.send({ to: group.groupId, body: 'let me in' }), (err: unknown) => {
      assert.ok(err instanceof CourierSocketError);
      assert.equal(err.code, 'not_member');
      return true;
    });
    await assert.rejects(c.getGroup(group.groupId), { name: 'CourierApiError', status: 404 });
    await assert.rejects(b.changeMembers(group.groupId, { add: [env.carol.userId] }), { name: 'CourierApiError', status: 403 });

    const bigger = await a.changeMembers(group.groupId, { add: [env.carol.userId] });
    assert.ok(bigger.members.includes(env.carol.userId));
    const sent2 = await a.send({ to: group.groupId, body: 'welcome carol' });
    await waitUntil('carol gets the group message', () => atCarol.some((x) => x.serverId === sent2.serverId));
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

test('a send to an unknown user is rejected with the error frame that refers to it', async () => {
  const a = clientOf(env.server, env.alice);
  try {
    await a.connect();
    await assert.rejects(within('the error', a.send({ to: '+15550000000', body: 'nobody' })), (err: unknown) => {
      assert.ok(err instanceof CourierSocketError);
      assert.ok(err.ref !== undefined);
      assert.match(err.code, /^[a-z_]+$/);
      return true;
    });
    assert.equal(a.pendingSends, 0);
    assert.equal(a.state, 'ready', 'the connection stays open after a refused send');
  } finally {
    await a.close();
  }
});

test('HTTP errors carry the contract error body', async () => {
  const { CourierClient, CourierApiError } = await import('../src/node.js');
  await assert.rejects(CourierClient.register.request(env.server.url, 'not-a-phone'), (err: unknown) => {
    assert.ok(err instanceof CourierApiError);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'invalid_phone');
    return true;
  });
  const anonymous = new CourierClient({ url: env.server.url, token: 'not-a-token' });
  await assert.rejects(anonymous.getGroup('whatever'), { name: 'CourierApiError', status: 401, code: 'unauthorized' });
});

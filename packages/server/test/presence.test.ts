import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestNode, type TestNode } from './support/test-node.js';

describe('presence and typing', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode();
  });
  after(() => t.stop());

  it('gives one snapshot per subscribed user, then every change', async () => {
    const watcher = await t.connectNew();
    const online = await t.connectNew();
    const offline = await t.register();
    const registeredAt = Date.now();

    watcher.client.send({ type: 'presence.subscribe', users: [online.account.userId, offline.userId] });
    const snapshot = await watcher.client.take('presence', 2);
    const byUser = new Map(snapshot.map((p) => [p.user, p]));
    assert.deepEqual(byUser.get(online.account.userId), { type: 'presence', user: online.account.userId, online: true });
    const seen = byUser.get(offline.userId)!;
    assert.equal(seen.online, false);
    assert.ok(Math.abs(seen.lastSeen - registeredAt) < 5000, 'a user never connected was last seen when it registered');

    await online.client.close();
    const wentOffline = await watcher.client.next((f) => f.type === 'presence');
    assert.equal(wentOffline.user, online.account.userId);
    assert.equal(wentOffline.online, false);
    assert.equal(typeof wentOffline.lastSeen, 'number');

    await t.connect(offline);
    const cameOnline = await watcher.client.next((f) => f.type === 'presence');
    assert.deepEqual(cameOnline, { type: 'presence', user: offline.userId, online: true });
  });

  it('answers a subscription to unknown users with unknown_user, and still serves the known ones', async () => {
    const watcher = await t.connectNew();
    const known = await t.register();
    watcher.client.send({ type: 'presence.subscribe', users: [known.userId, '+19990000001'] });
    const presence = await watcher.client.next((f) => f.type === 'presence');
    assert.equal(presence.user, known.userId);
    const error = await watcher.client.next((f) => f.type === 'error');
    assert.equal(error.code, 'unknown_user');
    assert.match(error.message, /\+19990000001/);
  });

  it('passes typing to an online recipient, and never stores it', async () => {
    const alice = await t.connectNew();
    const bob = await t.connectNew();
    const carol = await t.register();
    alice.client.send({ type: 'typing', to: bob.account.userId, active: true });
    assert.deepEqual(await bob.client.next((f) => f.type === 'typing'), { type: 'typing', from: alice.account.userId, to: bob.account.userId, active: true });

    alice.client.send({ type: 'typing', to: carol.userId, active: true });
    alice.client.send({ type: 'send', id: 'after-typing', to: carol.userId, body: 'hi' });
    await alice.client.next((f) => f.type === 'sent');
    const later = await t.connect(carol);
    await later.next((f) => f.type === 'message');
    alice.client.send({ type: 'send', id: 'marker', to: carol.userId, body: 'marker' });
    const early = await later.before((f) => f.type === 'message' && f.body === 'marker');
    assert.deepEqual(early.filter((f) => f.type === 'typing'), [], 'typing never reaches a device that connects later');
  });

  it('refuses typing to an unknown user', async () => {
    const alice = await t.connectNew();
    alice.client.send({ type: 'typing', to: '+19990000002', active: true });
    assert.equal((await alice.client.next()).code, 'unknown_user');
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { approveLink, linkDevice, listDevices, pollLink, removeDevice, requestLink } from './support/devices.js';
import { startTestNodeOn, type TestNode } from './support/test-node.js';
import { WsClient, type Frame } from './support/ws-client.js';

for (const backend of ['sqlite', 'postgres'] as const) describe(`linked devices on ${backend}`, () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNodeOn(backend);
  });
  after(() => t.stop());

  /** An account with its primary connected, and `linked` more devices linked and connected. */
  async function accountWith(linked: number) {
    const primary = await t.connectNew();
    const devices = [{ account: { ...primary.account, deviceId: 1 }, client: primary.client }];
    for (let i = 0; i < linked; i++) {
      const account = await linkDevice(t.url, primary.account, `Device ${i + 2}`);
      devices.push({ account, client: await t.connect(account) });
    }
    return { userId: primary.account.userId, token: primary.account.token, devices };
  }

  it('links a device in three steps: code, approval by the primary, token by long poll', async () => {
    const primary = await t.connectNew();
    const requested = await requestLink(t.url, 'Firefox on Linux');
    assert.equal(requested.status, 201);
    assert.match(requested.body.linkCode, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    assert.equal(typeof requested.body.pollToken, 'string');
    assert.ok(requested.body.pollToken.length >= 32, 'the poll token is a long secret');
    assert.equal(requested.body.expiresIn, 300);

    assert.deepEqual(await pollLink(t.url, requested.body.pollToken, 0), { status: 202, body: { status: 'pending' } });
    const waiting = pollLink(t.url, requested.body.pollToken, 20);
    const approved = await approveLink(t.url, primary.account.token, requested.body.linkCode.toLowerCase());
    assert.deepEqual(approved, { status: 200, body: { deviceId: 2, name: 'Firefox on Linux' } });

    const collected = await waiting;
    assert.equal(collected.status, 200);
    assert.equal(collected.body.userId, primary.account.userId);
    assert.equal(collected.body.deviceId, 2);
    assert.equal((await pollLink(t.url, requested.body.pollToken, 0)).status, 404, 'the token is handed out once');

    const linked = await WsClient.open(t.wsUrl);
    linked.send({ type: 'auth', token: collected.body.token });
    const ready = await linked.next((f) => f.type === 'ready');
    assert.equal(ready.userId, primary.account.userId);
    assert.equal(ready.deviceId, 2);
    const list = await listDevices(t.url, collected.body.token);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.devices.map((d: Frame) => [d.deviceId, d.name, d.primary, d.online]),
      [
        [1, 'Primary device', true, true],
        [2, 'Firefox on Linux', false, true],
      ],
    );
    assert.ok(list.body.devices.every((d: Frame) => typeof d.linkedAt === 'number' && typeof d.lastSeen === 'number'));
  });

  it('refuses unknown and used codes, a linked device approving, and an approval without a token', async () => {
    const account = await accountWith(1);
    const [primary, linked] = account.devices;
    const requested = await requestLink(t.url);
    const code = requested.body.linkCode;

    assert.deepEqual(await approveLink(t.url, linked!.account.token, code), {
      status: 403,
      body: { error: { code: 'primary_only', message: 'Only the primary device can approve a link.' } },
    });
    assert.equal((await approveLink(t.url, 'not-a-token', code)).status, 401);
    for (const wrong of ['ZZZZ-ZZZZ-ZZZZ', 'nonsense', 42]) {
      const refused = await approveLink(t.url, primary!.account.token, wrong);
      assert.equal(refused.status, 404);
      assert.equal(refused.body.error.code, 'invalid_link_code');
    }
    assert.deepEqual(await pollLink(t.url, requested.body.pollToken, 0), { status: 202, body: { status: 'pending' } }, 'still waiting');

    assert.equal((await approveLink(t.url, primary!.account.token, code)).status, 200);
    const again = await approveLink(t.url, primary!.account.token, code);
    assert.equal(again.status, 404, 'a code is used once');
    assert.equal(again.body.error.code, 'invalid_link_code');
    assert.equal((await listDevices(t.url, account.token)).body.devices.length, 3);
    assert.equal((await pollLink(t.url, 'no-such-poll-token', 0)).status, 404);
  });

  it('refuses a sixth device with too_many_devices and links it once a place is free', async () => {
    const account = await accountWith(4);
    const sixth = await requestLink(t.url, 'Sixth');
    const refused = await approveLink(t.url, account.token, sixth.body.linkCode);
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error.code, 'too_many_devices');
    assert.equal((await listDevices(t.url, account.token)).body.devices.length, 5, 'nothing changed');
    assert.deepEqual(await pollLink(t.url, sixth.body.pollToken, 0), { status: 202, body: { status: 'pending' } });

    assert.equal((await removeDevice(t.url, account.token, 3)).status, 204);
    const approved = await approveLink(t.url, account.token, sixth.body.linkCode);
    assert.deepEqual(approved.body, { deviceId: 6, name: 'Sixth' }, 'a removed device\'s id is not given again');
  });

  it('a device removed while its socket authenticates is closed with 4001, whichever comes first', async () => {
    // A node of its own without rate limits: every attempt links a new device.
    const node = await startTestNodeOn(backend, ['--no-rate-limits']);
    try {
      const primary = await node.connectNew();
      for (let attempt = 0; attempt < 80; attempt++) {
        const linked = await linkDevice(node.url, primary.account, `Racing ${attempt}`);
        const socket = await WsClient.open(node.wsUrl);
        // The removal and the auth at nearly the same moment, the auth a little later each time:
        // the removal lands before the token check, between the check and taking the device, or
        // after the socket is ready.
        const removal = removeDevice(node.url, primary.account.token, linked.deviceId);
        await spin((attempt % 16) * 0.125);
        socket.send({ type: 'auth', token: linked.token });
        assert.equal((await removal).status, 204);
        const closed = await Promise.race([socket.closed, delay(5000, undefined, { ref: false })]);
        assert.equal(closed?.code, 4001, `attempt ${attempt}: the removed device's socket must close with 4001, not stay open`);
      }
    } finally {
      await node.stop();
    }
  });

  it('removes devices: the primary any linked one, a linked one only itself; the token dies and the socket closes with 4001', async () => {
    const account = await accountWith(2);
    const [primary, second, third] = account.devices;

    const refused = await removeDevice(t.url, second!.account.token, 3);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'primary_only');
    assert.equal((await removeDevice(t.url, second!.account.token, 1)).body.error.code, 'primary_only');
    assert.equal((await removeDevice(t.url, primary!.account.token, 1)).body.error.code, 'primary_not_removable');
    assert.equal((await removeDevice(t.url, primary!.account.token, 9)).status, 404);
    assert.equal((await removeDevice(t.url, primary!.account.token, 'x')).status, 400);
    assert.equal((await listDevices(t.url, account.token)).body.devices.length, 3, 'nothing changed');

    assert.equal((await removeDevice(t.url, primary!.account.token, 3)).status, 204);
    assert.equal((await third!.client.closed).code, 4001);
    assert.equal((await removeDevice(t.url, second!.account.token, 2)).status, 204, 'a linked device removes itself');
    assert.equal((await second!.client.closed).code, 4001);

    for (const gone of [second!, third!]) {
      assert.equal((await listDevices(t.url, gone.account.token)).status, 401, 'its token no longer works over HTTP');
      const socket = await WsClient.open(t.wsUrl);
      socket.send({ type: 'auth', token: gone.account.token });
      assert.equal((await socket.closed).code, 4001, 'nor on the socket');
    }
    assert.deepEqual(
      (await listDevices(t.url, account.token)).body.devices.map((d: Frame) => d.deviceId),
      [1],
    );
  });

  it('fans a message out to every device of the recipient and the sender\'s other devices; one delivered receipt per user', async () => {
    const alice = await accountWith(1);
    const bob = await accountWith(1);
    const [a1, a2] = alice.devices;
    const [b1, b2] = bob.devices;

    a1!.client.send({ type: 'send', id: 'fan-1', to: bob.userId, body: 'to all of bob' });
    const sent = await a1!.client.next((f) => f.type === 'sent');
    const atB1 = await b1!.client.next((f) => f.type === 'message');
    const atB2 = await b2!.client.next((f) => f.type === 'message');
    const copy = await a2!.client.next((f) => f.type === 'message');
    for (const message of [atB1, atB2, copy]) {
      assert.equal(message.serverId, sent.serverId);
      assert.equal(message.from, alice.userId);
      assert.equal(message.to, bob.userId);
      assert.equal(message.body, 'to all of bob');
    }

    b2!.client.send({ type: 'ack', upTo: atB2.seq });
    for (const device of [a1!, a2!]) {
      const receipt = await device.client.next((f) => f.type === 'receipt');
      assert.deepEqual(
        { ...receipt, seq: 0, ts: 0 },
        { type: 'receipt', seq: 0, status: 'delivered', serverIds: [sent.serverId], by: bob.userId, deviceId: 2, ts: 0 },
      );
    }
    // Bob's other device acks too: no second receipt. The marker's own receipt must come first.
    b1!.client.send({ type: 'ack', upTo: atB1.seq });
    a2!.client.send({ type: 'ack', upTo: copy.seq });
    a1!.client.send({ type: 'send', id: 'marker', to: bob.userId, body: 'marker' });
    const marker = await a1!.client.next((f) => f.type === 'sent');
    const markerAtB1 = await b1!.client.next((f) => f.type === 'message' && f.id === 'marker');
    b1!.client.send({ type: 'ack', upTo: markerAtB1.seq });
    const next = await a1!.client.next((f) => f.type === 'receipt');
    assert.deepEqual(next.serverIds, [marker.serverId], 'no second delivered receipt for the first message');
  });

  it('a read from one device: one read receipt per message, and "read elsewhere" to the reader\'s other devices', async () => {
    const alice = await accountWith(1);
    const bob = await accountWith(2);
    const [a1, a2] = alice.devices;
    const [b1, b2, b3] = bob.devices;
    a1!.client.send({ type: 'send', id: 'r-1', to: bob.userId, body: 'read me' });
    const sent = await a1!.client.next((f) => f.type === 'sent');
    for (const device of bob.devices) await device.client.next((f) => f.type === 'message');

    b1!.client.send({ type: 'read', serverIds: [sent.serverId] });
    for (const device of [a1!, a2!]) {
      const read = await device.client.next((f) => f.type === 'receipt' && f.status === 'read');
      assert.equal(read.by, bob.userId);
      assert.deepEqual(read.serverIds, [sent.serverId]);
    }
    for (const device of [b2!, b3!]) {
      const elsewhere = await device.client.next((f) => f.type === 'receipt');
      assert.equal(elsewhere.status, 'read');
      assert.equal(elsewhere.by, bob.userId, 'by = their own user: read on another device');
      assert.deepEqual(elsewhere.serverIds, [sent.serverId]);
    }
    assert.deepEqual(await b1!.client.quietFor(0, 'receipt'), [], 'the reading device is not told');

    // Read again on another device: nothing. A second message read afterwards is the next receipt.
    b2!.client.send({ type: 'read', serverIds: [sent.serverId] });
    a1!.client.send({ type: 'send', id: 'r-2', to: bob.userId, body: 'marker' });
    const marker = await a1!.client.next((f) => f.type === 'sent');
    await b2!.client.next((f) => f.type === 'message' && f.id === 'r-2');
    b2!.client.send({ type: 'read', serverIds: [marker.serverId] });
    const next = await a1!.client.next((f) => f.type === 'receipt' && f.status === 'read');
    assert.deepEqual(next.serverIds, [marker.serverId]);
  });

  it('fans a group message out to every device of every other member and the sender\'s other devices', async () => {
    const alice = await accountWith(1);
    const bob = await accountWith(1);
    const created = await fetch(`${t.url}/v1/groups`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` },
      body: JSON.stringify({ name: 'devices', members: [bob.userId] }),
    }).then((r) => r.json() as Promise<{ groupId: string }>);
    for (const device of [...alice.devices, ...bob.devices]) await device.client.next((f) => f.type === 'group');

    alice.devices[0]!.client.send({ type: 'send', id: 'g-1', to: created.groupId, body: 'hello group' });
    const sent = await alice.devices[0]!.client.next((f) => f.type === 'sent');
    for (const device of [alice.devices[1]!, ...bob.devices]) {
      const message = await device.client.next((f) => f.type === 'message');
      assert.equal(message.serverId, sent.serverId);
      assert.equal(message.group, created.groupId);
    }
  });

  it('an edit reaches every device of the recipient and the editor\'s other devices; a delete removes every undelivered copy', async () => {
    const alice = await accountWith(1);
    const bob = await accountWith(1);
    const [a1, a2] = alice.devices;
    const [b1, b2] = bob.devices;
    a1!.client.send({ type: 'send', id: 'e-1', to: bob.userId, body: 'tpyo' });
    const sent = await a1!.client.next((f) => f.type === 'sent');
    for (const device of [a2!, b1!, b2!]) await device.client.next((f) => f.type === 'message' && f.serverId === sent.serverId);

    a2!.client.send({ type: 'edit', id: 'e-2', to: bob.userId, target: sent.serverId, body: 'typo' });
    await a2!.client.next((f) => f.type === 'sent' && f.id === 'e-2');
    for (const device of [a1!, b1!, b2!]) {
      const edit = await device.client.next((f) => f.type === 'edit');
      assert.deepEqual([edit.target, edit.body, edit.from], [sent.serverId, 'typo', alice.userId]);
    }

    // Bob's second device goes away before the next message arrives; the delete takes its copy back.
    await b2!.client.close();
    a1!.client.send({ type: 'send', id: 'e-3', to: bob.userId, body: 'oops, not for you' });
    const oops = await a1!.client.next((f) => f.type === 'sent' && f.id === 'e-3');
    await b1!.client.next((f) => f.type === 'message' && f.serverId === oops.serverId);
    a1!.client.send({ type: 'delete', id: 'e-4', to: bob.userId, target: oops.serverId });
    await a1!.client.next((f) => f.type === 'sent' && f.id === 'e-4');
    const back = await t.connect(b2!.account);
    const deleted = await back.next((f) => f.type === 'delete');
    assert.equal(deleted.target, oops.serverId);
    assert.ok(!back.frames.some((f) => f.type === 'message' && f.serverId === oops.serverId), 'the deleted text never reached it');
  });

  it('a user is online while any device has a socket; typing reaches every online device', async () => {
    const watcher = await t.connectNew();
    const alice = await t.connectNew();
    watcher.client.send({ type: 'presence.subscribe', users: [alice.account.userId] });
    assert.equal((await watcher.client.next((f) => f.type === 'presence')).online, true);

    const linked = await linkDevice(t.url, alice.account);
    const second = await t.connect(linked);
    await alice.client.close();
    await second.close();
    const offline = await watcher.client.next((f) => f.type === 'presence');
    assert.equal(offline.online, false, 'offline once the last device left, and not before');
    assert.equal(typeof offline.lastSeen, 'number');

    const again = await t.connect(linked);
    assert.equal((await watcher.client.next((f) => f.type === 'presence')).online, true);
    const primaryAgain = await t.connect(alice.account);
    watcher.client.send({ type: 'typing', to: alice.account.userId, active: true });
    for (const device of [again, primaryAgain]) {
      assert.deepEqual(await device.next((f) => f.type === 'typing'), { type: 'typing', from: watcher.account.userId, to: alice.account.userId, active: true });
    }
    assert.deepEqual(await watcher.client.quietFor(0, 'presence'), [], 'a second device coming online is no change');
  });

  it('registering the phone again revokes every device and keeps the primary\'s undelivered events', async () => {
    const sender = await t.connectNew();
    const account = await accountWith(1);
    const [primary, linked] = account.devices;
    await primary!.client.close();
    sender.client.send({ type: 'send', id: 'kept', to: account.userId, body: 'for the new primary' });
    await sender.client.next((f) => f.type === 'sent');
    await linked!.client.next((f) => f.type === 'message');

    const again = await t.register(account.userId);
    assert.equal((again as { deviceId?: number }).deviceId, 1);
    assert.equal((await linked!.client.closed).code, 4001);
    assert.equal((await listDevices(t.url, linked!.account.token)).status, 401);
    const list = await listDevices(t.url, again.token);
    assert.deepEqual(list.body.devices.map((d: Frame) => d.deviceId), [1]);
    const newPrimary = await t.connect(again);
    assert.equal((await newPrimary.next((f) => f.type === 'message')).body, 'for the new primary');
  });
});

describe('link codes that expire', () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNodeOn('sqlite', ['--link-code-ttl', '1']);
  });
  after(() => t.stop());

  it('an expired code approves nothing (404 invalid_link_code) and its poll answers 410 expired', async () => {
    const primary = await t.register();
    const requested = await requestLink(t.url, 'Too slow');
    assert.equal(requested.body.expiresIn, 1);
    // The long poll ends at the expiry, not at its wait: the code is no longer valid.
    const expired = await pollLink(t.url, requested.body.pollToken, 10);
    assert.equal(expired.status, 410);
    assert.equal(expired.body.error.code, 'expired');
    const refused = await approveLink(t.url, primary.token, requested.body.linkCode);
    assert.equal(refused.status, 404);
    assert.equal(refused.body.error.code, 'invalid_link_code');
    assert.equal((await listDevices(t.url, primary.token)).body.devices.length, 1, 'nothing changed');
  });
});

/** Busy-waits `ms` milliseconds: finer than a timer, to place two requests a fraction of a millisecond apart. */
async function spin(ms: number): Promise<void> {
  const until = performance.now() + ms;
  while (performance.now() < until) await Promise.resolve();
}

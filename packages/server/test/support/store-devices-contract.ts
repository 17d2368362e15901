import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { DeviceAddress } from '../../src/domain/device.js';
import type { Appended, MessageEvent } from '../../src/domain/events.js';
import type { PushTarget } from '../../src/domain/push-target.js';
import type { PendingLink, Store } from '../../src/ports/store.js';
import type { OpenedStore } from './store-contract.js';

/**
 * The device rules of the Store port (src/ports/store.ts), run against one adapter: linking,
 * removal, re-registration, and delivery to every device of an account.
 */
export function runStoreDevicesContract(name: string, open: () => Promise<OpenedStore>): void {
  const test = (title: string, body: (store: Store) => Promise<void>) =>
    it(title, async () => {
      const opened = await open();
      try {
        await body(opened.store);
      } finally {
        await opened.store.close();
        await opened.cleanup();
      }
    });

  describe(`Store contract, devices: ${name}`, () => {
    test('a link is approved once, becomes the next device, and its token is collected once', async (store) => {
      await register(store, A);
      const link = pendingLink('one');
      await store.createLink(link);
      assert.deepEqual(await store.getLinkByPollHash(link.pollHash), link);
      assert.deepEqual(await store.collectLink(link.pollHash), undefined, 'not approved yet');

      assert.deepEqual(await store.approveLink(link.codeHash, A, T0 + 1, 4), { outcome: 'approved', deviceId: 2, name: 'Laptop one' });
      assert.deepEqual(await store.approveLink(link.codeHash, A, T0 + 2, 4), { outcome: 'unknown_code' }, 'used');
      assert.deepEqual((await store.getLinkByPollHash(link.pollHash))?.device, d(A, 2));
      assert.deepEqual(await store.deviceByTokenHash(link.tokenHash), d(A, 2));

      assert.deepEqual(await store.collectLink(link.pollHash), d(A, 2));
      assert.equal(await store.collectLink(link.pollHash), undefined, 'only once');
      assert.equal(await store.getLinkByPollHash(link.pollHash), undefined);
      assert.deepEqual(
        (await store.devicesOf([A, B])).map((device) => [device.userId, device.deviceId, device.name, device.linkedAt]),
        [
          [A, 1, 'Primary device', T0],
          [A, 2, 'Laptop one', T0 + 1],
        ],
      );
    });

    test('an unknown or expired code approves nothing; a full account refuses', async (store) => {
      await register(store, A);
      assert.deepEqual(await store.approveLink('no-such-code', A, T0, 4), { outcome: 'unknown_code' });
      const late = pendingLink('late', T0 + 10);
      await store.createLink(late);
      assert.deepEqual(await store.approveLink(late.codeHash, A, T0 + 10, 4), { outcome: 'unknown_code' }, 'expired');

      await linkDevice(store, A, 'first');
      const third = pendingLink('third');
      await store.createLink(third);
      assert.deepEqual(await store.approveLink(third.codeHash, A, T0, 1), { outcome: 'too_many_devices' });
      assert.equal((await store.devicesOf([A])).length, 2, 'nothing changed');
      assert.deepEqual(await store.approveLink(third.codeHash, A, T0, 2), { outcome: 'approved', deviceId: 3, name: 'Laptop third' });
    });

    test('concurrent approvals never pass the limit', async (store) => {
      await register(store, A);
      const links = Array.from({ length: 6 }, (_, i) => pendingLink(`race-${i}`));
      for (const link of links) await store.createLink(link);
      const results = await Promise.all(links.map((link) => store.approveLink(link.codeHash, A, T0, 4)));
      assert.equal(results.filter((r) => r.outcome === 'approved').length, 4);
      assert.equal((await store.devicesOf([A])).length, 5);
    });

    test('a send reaches every device of the recipient and the sender\'s other devices, not the sending one', async (store) => {
      await register(store, A, B);
      const a2 = await linkDevice(store, A, 'a2');
      const b2 = await linkDevice(store, B, 'b2');
      const msg = message(A, B);
      const result = await store.sendMessage(msg, [B], 1);
      assert.deepEqual(
        result.appended.map((a) => [a.userId, a.deviceId, a.event.seq]),
        [
          [B, 1, 1],
          [B, 2, 1],
          [A, 2, 1],
        ],
      );
      for (const device of [d(B), b2, a2]) assert.deepEqual(await store.readInbox(device, 0, 10), [{ type: 'message', seq: 1, ...msg }]);
      assert.deepEqual(await store.readInbox(d(A), 0, 10), []);

      const fromLinked = await store.sendMessage(message(A, B), [B], a2.deviceId);
      assert.deepEqual(
        fromLinked.appended.map((a) => [a.userId, a.deviceId]),
        [
          [B, 1],
          [B, 2],
          [A, 1],
        ],
      );
    });

    test('the first ack by any device of a user gives one delivered receipt, to every device of the sender', async (store) => {
      await register(store, A, B);
      const a2 = await linkDevice(store, A, 'a2');
      const b2 = await linkDevice(store, B, 'b2');
      const sent = await store.sendMessage(message(A, B), [B], 1);

      const first = await store.ackUpTo(b2, 1, T0 + 5);
      const receipt = { type: 'receipt', status: 'delivered', serverIds: [sent.serverId], by: B, deviceId: 2, ts: T0 + 5 };
      assert.deepEqual(inboxes(first), [
        [A, 1, { ...receipt, seq: 1 }],
        [A, 2, { ...receipt, seq: 2 }],
      ]);
      assert.deepEqual(await store.ackUpTo(d(B), 1, T0 + 6), [], 'the user\'s other device adds none');
      assert.deepEqual(await store.readInbox(d(B), 0, 10), [], 'but its copy is gone');
      assert.deepEqual(await store.ackUpTo(a2, 1, T0 + 7), [], 'the sender\'s own copy gives no receipt');
    });

    test('two devices of a user acking the same message at the same moment give one delivered receipt', async (store) => {
      await register(store, A, B);
      const b2 = await linkDevice(store, B, 'b2');
      const sent = await store.sendMessage(message(A, B), [B], 1);

      // Both acks are in flight together, so they reach the store in one batch.
      const [fromB1, fromB2] = await Promise.all([store.ackUpTo(d(B), 1, T0 + 5), store.ackUpTo(b2, 1, T0 + 5)]);
      const receipts = [...fromB1, ...fromB2];
      assert.equal(receipts.length, 1, 'one receipt in all, from whichever device the store took first');
      assert.deepEqual(receipts[0]!.event.type === 'receipt' && receipts[0]!.event.serverIds, [sent.serverId]);
      assert.deepEqual(await store.readInbox(d(B), 0, 10), [], 'both copies are gone');
      assert.deepEqual(await store.readInbox(b2, 0, 10), []);
      assert.equal((await store.readInbox(d(A), 0, 10)).length, 1, 'the sender has the one receipt');
    });

    test('a read from one device: one read receipt per sender device, and the news to the reader\'s other devices', async (store) => {
      await register(store, A, B);
      const b2 = await linkDevice(store, B, 'b2');
      const b3 = await linkDevice(store, B, 'b3');
      const sent = await store.sendMessage(message(A, B), [B], 1);
      await store.ackUpTo(d(B), 1, T0 + 1);

      const read = await store.markRead(b2, [sent.serverId, 'unknown'], T0 + 2);
      const receipt = { type: 'receipt', status: 'read', serverIds: [sent.serverId], by: B, deviceId: 2, ts: T0 + 2 };
      assert.deepEqual(inboxes(read), [
        [A, 1, { ...receipt, seq: 2 }],
        [B, 1, { ...receipt, seq: 2 }],
        [B, 3, { ...receipt, seq: 2 }],
      ]);
      assert.deepEqual(await store.markRead(b3, [sent.serverId], T0 + 3), [], 'another device of the user reads it again: nothing');
      assert.deepEqual(await store.markRead(d(B), [sent.serverId], T0 + 4), []);
      assert.deepEqual(await store.markRead(d(A), [sent.serverId], T0 + 5), [], 'a sender does not read its own message');
    });

    test('read before any device acked: the delivered receipt still comes once, the read one never again', async (store) => {
      await register(store, A, B);
      const b2 = await linkDevice(store, B, 'b2');
      const sent = await store.sendMessage(message(A, B), [B], 1);
      assert.equal(inboxes(await store.markRead(b2, [sent.serverId], T0 + 1)).length, 2, 'to A, and to B\'s other device');
      const delivered = await store.ackUpTo(b2, 1, T0 + 2);
      assert.deepEqual(delivered.map((a) => [a.userId, a.event.type === 'receipt' && a.event.status]), [[A, 'delivered']]);
      assert.deepEqual(await store.markRead(d(B), [sent.serverId], T0 + 3), []);
    });

    test('removing a device drops its token and inbox; its id is never given again', async (store) => {
      await register(store, A, B);
      const a2 = await linkDevice(store, A, 'a2');
      await store.sendMessage(message(B, A), [A], 1);
      assert.equal((await store.devicesOf([A])).length, 2);
      await store.savePushTarget(A, 1, GATEWAY);
      await store.savePushTarget(A, 2, GATEWAY);

      const removed = await store.removeDevice(a2);
      assert.equal(await store.pushTarget(A, 2), undefined, 'its push target goes with it');
      assert.deepEqual(await store.pushTarget(A, 1), GATEWAY);
      assert.deepEqual(removed, { tokenHash: tokenOfLink('a2') });
      assert.equal(await store.deviceByTokenHash(tokenOfLink('a2')), undefined);
      assert.deepEqual(await store.readInbox(a2, 0, 10), []);
      assert.equal(await store.removeDevice(a2), undefined, 'already gone');
      assert.equal(await store.removeDevice(d(A, 9)), undefined, 'never there');
      assert.equal((await store.backlog()).events, 1, 'only the primary\'s copy is left');

      const next = await linkDevice(store, A, 'a3');
      assert.equal(next.deviceId, 3);
      const sent = await store.sendMessage(message(B, A), [A], 1);
      assert.deepEqual(sent.appended.map((a) => [a.deviceId, a.event.seq]), [[1, 2], [3, 1]]);
    });

    test('registering the phone again revokes every device and keeps only the primary\'s inbox', async (store) => {
      await register(store, A, B);
      const a2 = await linkDevice(store, A, 'a2');
      const a3 = await linkDevice(store, A, 'a3');
      const pending = pendingLink('approved-not-collected');
      await store.createLink(pending);
      await store.approveLink(pending.codeHash, A, T0, 4);
      await store.sendMessage(message(B, A), [A], 1);
      const primaryInbox = await store.readInbox(d(A), 0, 10);
      await store.savePushTarget(A, 1, GATEWAY);
      await store.savePushTarget(A, 2, GATEWAY);

      const { revoked } = await store.registerPrimary(A, 'new-primary-token', T0 + 100);
      assert.deepEqual(
        revoked.sort((x, y) => x.deviceId - y.deviceId),
        [
          { deviceId: 1, tokenHash: tokenOf(A) },
          { deviceId: 2, tokenHash: tokenOfLink('a2') },
          { deviceId: 3, tokenHash: tokenOfLink('a3') },
          { deviceId: 4, tokenHash: pending.tokenHash },
        ],
      );
      assert.deepEqual((await store.devicesOf([A])).map((device) => device.deviceId), [1]);
      for (const token of [tokenOf(A), tokenOfLink('a2'), tokenOfLink('a3')]) assert.equal(await store.deviceByTokenHash(token), undefined);
      assert.deepEqual(await store.deviceByTokenHash('new-primary-token'), d(A));
      assert.deepEqual(await store.readInbox(d(A), 0, 10), primaryInbox);
      assert.deepEqual(await store.readInbox(a2, 0, 10), []);
      assert.deepEqual(await store.readInbox(a3, 0, 10), []);
      assert.equal(await store.collectLink(pending.pollHash), undefined, 'an approved link of a revoked device is no way in');
      assert.equal((await store.backlog()).events, 1);
      assert.equal(await store.pushTarget(A, 1), undefined, 'the old phone is not woken for the new one');
      assert.equal(await store.pushTarget(A, 2), undefined);
    });

    test('registering the phone again with the unchanged token revokes nothing, and new devices never reuse a revoked id', async (store) => {
      await register(store, A, B);
      const a2 = await linkDevice(store, A, 'a2');
      assert.deepEqual((await store.registerPrimary(A, 'new-primary-token', T0 + 100)).revoked.map((r) => r.deviceId).sort(), [1, a2.deviceId]);
      // A repeated call (the same token hash again) must not name the live token as revoked: the
      // bus would close the sockets that just authenticated with it.
      assert.deepEqual((await store.registerPrimary(A, 'new-primary-token', T0 + 200)).revoked, []);
      assert.deepEqual(await store.deviceByTokenHash('new-primary-token'), d(A));

      const again = await linkDevice(store, A, 'after');
      assert.equal(again.deviceId, a2.deviceId + 1, 'device ids keep counting: a revoked id names no new device');
      const sent = await store.sendMessage(message(B, A), [A], 1);
      assert.deepEqual(sent.appended.map((a) => [a.deviceId, a.event.seq]), [[1, 1], [again.deviceId, 1]]);
    });

    test('last seen: per device and per account', async (store) => {
      await register(store, A);
      const a2 = await linkDevice(store, A, 'a2');
      await store.setLastSeen(A, T0 + 50, a2.deviceId);
      await store.setLastSeen(A, T0 + 60);
      const [primary, linked] = await store.devicesOf([A]);
      assert.equal(primary?.lastSeen, T0);
      assert.equal(linked?.lastSeen, T0 + 50);
      assert.deepEqual(await store.lastSeen([A]), new Map([[A, T0 + 60]]));
    });

    test('the sweep forgets links long expired, and keeps the others', async (store) => {
      const old = pendingLink('old', T0 + 10);
      const live = pendingLink('live', T0 + 1_000_000);
      await store.createLink(old);
      await store.createLink(live);
      await store.sweep(T0 + 10 + 5_000, { idempotencyMs: 10_000, readTrackingMs: 10_000, messageFactsMs: 10_000, expiredLinksMs: 10_000 });
      assert.ok(await store.getLinkByPollHash(old.pollHash), 'expired, but not for long');
      await store.sweep(T0 + 10 + 20_000, { idempotencyMs: 10_000, readTrackingMs: 10_000, messageFactsMs: 10_000, expiredLinksMs: 10_000 });
      assert.equal(await store.getLinkByPollHash(old.pollHash), undefined);
      assert.ok(await store.getLinkByPollHash(live.pollHash));
    });
  });
}

// Fixtures -------------------------------------------------------------------

const T0 = 1_700_000_000_000;
const GATEWAY: PushTarget = { kind: 'gateway', url: 'https://gateway.example/notify', pushkey: 'k' };
const A = '+15559000001';
const B = '+15559000002';

function d(userId: string, deviceId = 1): DeviceAddress {
  return { userId, deviceId };
}

function tokenOf(userId: string): string {
  return `token-of-${userId}`;
}

function tokenOfLink(label: string): string {
  return `link-token-${label}`;
}

async function register(store: Store, ...userIds: string[]): Promise<void> {
  for (const userId of userIds) await store.registerPrimary(userId, tokenOf(userId), T0);
}

function pendingLink(label: string, expiresAt = T0 + 300_000): PendingLink {
  return { codeHash: `code-${label}`, pollHash: `poll-${label}`, tokenHash: tokenOfLink(label), name: `Laptop ${label}`, expiresAt };
}

/** Links a device named after `label` to the account and answers its address. */
async function linkDevice(store: Store, userId: string, label: string): Promise<DeviceAddress> {
  const link = pendingLink(label);
  await store.createLink(link);
  const approval = await store.approveLink(link.codeHash, userId, T0, 4);
  assert.equal(approval.outcome, 'approved');
  return d(userId, approval.outcome === 'approved' ? approval.deviceId : 0);
}

function message(from: string, to: string): Omit<MessageEvent, 'seq' | 'type'> {
  return { serverId: randomUUID(), id: randomUUID(), from, to, ts: T0, body: 'hi' };
}

/** [user, device, event] per appended event, in inbox order. */
function inboxes(appended: Appended[]): [string, number, unknown][] {
  return appended
    .map((a): [string, number, unknown] => [a.userId, a.deviceId, a.event])
    .sort((x, y) => (x[0] === y[0] ? x[1] - y[1] : x[0] < y[0] ? -1 : 1));
}

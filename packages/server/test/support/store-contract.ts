import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { CourierError } from '../../src/domain/errors.js';
import type { Appended, DurableEvent, GroupEvent, InboxEntry, MessageEvent, NewActionEvent } from '../../src/domain/events.js';
import type { Group } from '../../src/domain/group.js';
import type { DeviceAddress } from '../../src/domain/device.js';
import type { PushTarget } from '../../src/domain/push-target.js';
import type { MediaRecord, RetentionTimes, SendResult, Store } from '../../src/ports/store.js';

/** What an adapter's `open` gives the suite. */
export interface OpenedStore {
  /** A store on empty data, `init()` already done. */
  store: Store;
  /**
   * Opens a new store on the same data, `init()` done, as a restarted process would. The suite
   * closes the previous store first, and closes the returned one itself.
   */
  reopen: () => Promise<Store>;
  /** Removes the data. Called once at the end of each test, after the suite closed its store. */
  cleanup: () => Promise<void>;
}

/**
 * The behaviour every Store adapter must have, as its port (src/ports/store.ts) states it.
 * `open` is called once per test and must give an empty store each time.
 * Only documented behaviour is asserted: where the port leaves an order open (senders within an
 * ack, serverIds within a receipt), the suite compares without order.
 */
export function runStoreContract(name: string, open: () => Promise<OpenedStore>): void {
  interface Context {
    store: Store;
    /** Closes the store and opens it again on the same data; `store` is the new one after this. */
    restart: () => Promise<Store>;
  }

  const test = (title: string, body: (ctx: Context) => Promise<void>) =>
    it(title, async () => {
      const opened = await open();
      const ctx: Context = {
        store: opened.store,
        restart: async () => {
          await ctx.store.close();
          ctx.store = await opened.reopen();
          return ctx.store;
        },
      };
      try {
        await body(ctx);
      } finally {
        await ctx.store.close();
        await opened.cleanup();
      }
    });

  describe(`Store contract: ${name}`, () => {
    describe('basics', () => {
      test('ping answers and a second init keeps the data', async ({ store }) => {
        await store.ping();
        await register(store, A);
        await store.init();
        assert.deepEqual(await store.deviceByTokenHash(tokenOf(A)), d(A));
      });
    });

    describe('registration codes', () => {
      test('saveCode, getCode, takeCodeTry and consumeCode', async ({ store }) => {
        const phone = '+15551230000';
        assert.equal(await store.getCode(phone), undefined);
        assert.equal(await store.takeCodeTry(phone, T0, 5), undefined, 'no code, no try');

        await store.saveCode({ phone, codeHash: 'h1', expiresAt: T0 + 300_000, tries: 0 });
        assert.deepEqual(await store.getCode(phone), { phone, codeHash: 'h1', expiresAt: T0 + 300_000, tries: 0 });
        assert.deepEqual(await store.takeCodeTry(phone, T0, 2), { codeHash: 'h1', tries: 1 });
        assert.deepEqual(await store.takeCodeTry(phone, T0, 2), { codeHash: 'h1', tries: 2 });
        assert.equal(await store.takeCodeTry(phone, T0, 2), undefined, 'no try past the most');
        assert.equal((await store.getCode(phone))?.tries, 2, 'a refused try counts nothing');
        assert.equal(await store.getCode('+15559990000'), undefined, 'codes are per phone');

        await store.saveCode({ phone, codeHash: 'h2', expiresAt: T0 + 600_000, tries: 0 });
        assert.deepEqual(
          await store.getCode(phone),
          { phone, codeHash: 'h2', expiresAt: T0 + 600_000, tries: 0 },
          'a new code replaces the old one and resets the tries',
        );
        assert.equal(await store.takeCodeTry(phone, T0 + 600_000, 5), undefined, 'no try on an expired code');

        assert.equal(await store.consumeCode(phone, 'h1'), false, 'an older hash consumes nothing');
        assert.equal(await store.consumeCode(phone, 'h2'), true);
        assert.equal(await store.consumeCode(phone, 'h2'), false, 'only once');
        assert.equal(await store.getCode(phone), undefined);
      });

      test('takeCodeTry counts tries made at once exactly', async ({ store }) => {
        const phone = '+15551230001';
        await store.saveCode({ phone, codeHash: 'h', expiresAt: T0 + 300_000, tries: 0 });
        const tries = await Promise.all(Array.from({ length: 20 }, () => store.takeCodeTry(phone, T0, 5)));
        assert.deepEqual(
          tries.filter((t) => t !== undefined).map((t) => t.tries).sort(),
          [1, 2, 3, 4, 5],
        );
      });

      test('serverSecret keeps the first candidate, also after a restart', async (ctx) => {
        assert.equal(await ctx.store.serverSecret('k', 'first'), 'first');
        const both = await Promise.all([ctx.store.serverSecret('k2', 'a'), ctx.store.serverSecret('k2', 'b')]);
        assert.equal(both[0], both[1]);
        const reopened = await ctx.restart();
        assert.equal(await reopened.serverSecret('k', 'second'), 'first');
      });
    });

    describe('accounts', () => {
      test('registerPrimary creates the account, and a new registration revokes the old token', async ({
        store,
      }) => {
        const first = await store.registerPrimary(A, 'token-1', T0);
        assert.deepEqual(first.revoked, []);
        assert.deepEqual(await store.deviceByTokenHash('token-1'), d(A));

        const second = await store.registerPrimary(A, 'token-2', T0 + 1);
        assert.deepEqual(second.revoked, [{ deviceId: 1, tokenHash: 'token-1' }]);
        assert.equal(await store.deviceByTokenHash('token-1'), undefined, 'the old token stops resolving');
        assert.deepEqual(await store.deviceByTokenHash('token-2'), d(A));
        assert.equal(await store.deviceByTokenHash('never-issued'), undefined);
        assert.deepEqual(await store.existingUsers([A]), new Set([A]));
      });

      test('the inbox is kept across re-registration', async ({ store }) => {
        await register(store, A, B);
        const sent = [await send(store, message(B, A)), await send(store, message(B, A))];
        const before = await store.readInbox(d(A), 0, 10);
        assert.equal(before.length, 2);

        await store.registerPrimary(A, 'a-new-device', T0 + 10);
        assert.deepEqual(await store.readInbox(d(A), 0, 10), before);
        assert.equal(await store.lastSeq(d(A)), 2);
        const next = await send(store, message(B, A));
        assert.equal(only(next.appended).event.seq, 3);
        assert.deepEqual(
          before.map((e) => serverIdOf(e)),
          sent.map((s) => s.serverId),
        );
      });

      test('existingUsers gives the registered subset', async ({ store }) => {
        await register(store, A, B);
        assert.deepEqual(await store.existingUsers([A, C, B, A]), new Set([A, B]));
        assert.deepEqual(await store.existingUsers([]), new Set());
        const many = Array.from({ length: 5000 }, (_, i) => user(100_000 + i));
        assert.deepEqual(await store.existingUsers([...many, B]), new Set([B]));
      });

      test('lastSeen: registration counts, setLastSeen updates, unknown users are absent', async ({ store }) => {
        await store.registerPrimary(A, tokenOf(A), T0);
        await store.registerPrimary(B, tokenOf(B), T0 + 5);
        assert.deepEqual(
          await store.lastSeen([A, B, C]),
          new Map([
            [A, T0],
            [B, T0 + 5],
          ]),
        );
        await store.setLastSeen(A, T0 + 100);
        assert.deepEqual(await store.lastSeen([A]), new Map([[A, T0 + 100]]));
        assert.deepEqual(await store.lastSeen([]), new Map());
      });
    });

    describe('inboxes and seq', () => {
      test('seq starts at 1 and grows by exactly 1 per event, per inbox', async ({ store }) => {
        await register(store, A, B, C);
        assert.equal(await store.lastSeq(d(B)), 0);
        assert.equal(await store.lastSeq(d(user(999))), 0, 'an unknown inbox has given no seq');
        const seqs: number[] = [];
        for (let i = 0; i < 3; i++) seqs.push(only((await send(store, message(A, B))).appended).event.seq);
        const toC = await send(store, message(A, C));
        assert.deepEqual(seqs, [1, 2, 3]);
        assert.equal(only(toC.appended).event.seq, 1, 'each inbox counts on its own');
        assert.equal(only(toC.appended).userId, C);
        assert.equal(await store.lastSeq(d(B)), 3);
        assert.equal(await store.lastSeq(d(C)), 1);
      });

      test('sendMessage stores the message as given and answers what it appended', async ({ store }) => {
        await register(store, A, B);
        const media = { hash: 'a'.repeat(64), mime: 'image/png', size: 1234, thumbnail: 'AAAA', caption: 'look' };
        const msg = message(A, 'group-1', { body: 'hello', media, group: 'group-1' });
        const result = await store.sendMessage(msg, [B], 1);
        const expected: MessageEvent = { type: 'message', seq: 1, ...msg };
        assert.deepEqual(result, {
          serverId: msg.serverId,
          ts: msg.ts,
          duplicate: false,
          appended: [{ userId: B, deviceId: 1, event: expected }],
        });
        assert.deepEqual(await store.readInbox(d(B), 0, 10), [expected]);
        assert.deepEqual(await store.readInbox(d(A), 0, 10), [], 'the sender gets no copy');
      });

      test('readInbox pages with afterSeq and limit, oldest first', async ({ store }) => {
        await register(store, A, B);
        const sent: SendResult[] = [];
        for (let i = 0; i < 5; i++) sent.push(await send(store, message(A, B, { body: `m${i}` })));
        assert.deepEqual(
          (await store.readInbox(d(B), 2, 2)).map((e) => e.seq),
          [3, 4],
        );
        assert.deepEqual(
          (await store.readInbox(d(B), 0, 100)).map((e) => serverIdOf(e)),
          sent.map((s) => s.serverId),
        );
        assert.deepEqual(await store.readInbox(d(B), 5, 10), []);
        assert.deepEqual(await store.readInbox(d(user(999)), 0, 10), []);
      });

      test('a seq is never reused, even after acks', async ({ store }) => {
        await register(store, A, B);
        for (let i = 0; i < 3; i++) await send(store, message(A, B));
        await store.ackUpTo(d(B), 3, T0 + 1);
        assert.deepEqual(await store.readInbox(d(B), 0, 10), []);
        assert.equal(await store.lastSeq(d(B)), 3);
        const next = await send(store, message(A, B));
        assert.equal(only(next.appended).event.seq, 4);
        await store.ackUpTo(d(B), 4, T0 + 2);
        assert.equal(await store.lastSeq(d(B)), 4);
      });

      test('appendEvents appends each entry to its inbox, in order', async ({ store }) => {
        await register(store, A, B);
        const created = groupEvent('g1', [A, B], A, T0);
        const entries: InboxEntry[] = [
          { userId: A, event: created },
          { userId: B, event: created },
          { userId: A, event: { ...created, change: 'admins_added', users: [B], admins: [A, B], ts: T0 + 1 } },
        ];
        const appended = await store.appendEvents(entries);
        assert.deepEqual(
          appended.map((a) => [a.userId, a.event.seq, a.event.type]),
          [
            [A, 1, 'group'],
            [B, 1, 'group'],
            [A, 2, 'group'],
          ],
        );
        assert.deepEqual(await store.readInbox(d(A), 0, 10), [at(appended, 0).event, at(appended, 2).event]);
        assert.deepEqual(await store.readInbox(d(B), 0, 10), [at(appended, 1).event]);
        assert.deepEqual(at(appended, 2).event, { ...at(entries, 2).event, seq: 2 });
        assert.deepEqual(await store.appendEvents([]), []);
      });

      test('one call fans a message out to 1,000 recipients', async ({ store }) => {
        const recipients = Array.from({ length: 1000 }, (_, i) => user(1000 + i));
        await register(store, A, ...recipients);
        const msg = message(A, 'big-group', { group: 'big-group' });
        const result = await store.sendMessage(msg, recipients, 1);
        assert.equal(result.duplicate, false);
        assert.deepEqual(
          result.appended.map((a) => a.userId),
          recipients,
        );
        assert.ok(result.appended.every((a) => a.event.seq === 1 && serverIdOf(a.event) === msg.serverId));
        for (const userId of [at(recipients, 0), at(recipients, 999)]) {
          assert.deepEqual(await store.readInbox(d(userId), 0, 10), [{ type: 'message', seq: 1, ...msg }]);
        }
        assert.equal((await store.backlog()).events, 1000);
      });

      test('concurrent sends get distinct, contiguous seqs in the order they were submitted', async ({ store }) => {
        await register(store, A, B, C);
        const messages = Array.from({ length: 200 }, (_, i) => message(i % 2 === 0 ? A : C, B, { body: `m${i}` }));
        const results = await Promise.all(messages.map((m) => store.sendMessage(m, [B], 1)));
        assert.deepEqual(
          results.map((r) => only(r.appended).event.seq),
          messages.map((_, i) => i + 1),
        );
        const inbox = await store.readInbox(d(B), 0, 1000);
        assert.deepEqual(
          inbox.map((e) => e.seq),
          messages.map((_, i) => i + 1),
        );
        assert.deepEqual(
          inbox.map((e) => serverIdOf(e)),
          messages.map((m) => m.serverId),
        );
        assert.equal(await store.lastSeq(d(B)), 200);
      });

      test('a send that fails (unknown recipient) fails alone and writes nothing', async ({ store }) => {
        await register(store, A, B);
        const bad = message(A, B);
        const [first, failed, third] = await Promise.allSettled([
          store.sendMessage(message(A, B), [B], 1),
          store.sendMessage(bad, [B, user(999)], 1),
          store.sendMessage(message(A, B), [B], 1),
        ]);
        assert.equal(first?.status, 'fulfilled');
        assert.equal(failed?.status, 'rejected');
        assert.equal(third?.status, 'fulfilled');
        const inbox = await store.readInbox(d(B), 0, 10);
        assert.deepEqual(
          inbox.map((e) => e.seq),
          [1, 2],
        );
        assert.ok(!inbox.some((e) => serverIdOf(e) === bad.serverId), 'no part of the failed send is kept');
        assert.equal(await store.lastSeq(d(B)), 2);
        const retried = await store.sendMessage(bad, [B], 1);
        assert.equal(retried.duplicate, false, 'the failed send left no idempotency key');
        assert.equal(only(retried.appended).event.seq, 3);
      });
    });

    describe('idempotency', () => {
      test('a repeated (from, id) appends nothing and answers the first serverId and ts', async ({ store }) => {
        await register(store, A, B, C);
        const first = message(A, B);
        const sent = await store.sendMessage(first, [B], 1);
        const repeat = await store.sendMessage(
          { ...first, serverId: randomUUID(), ts: T0 + 50, body: 'changed' },
          [B],
          1,
        );
        assert.deepEqual(repeat, { serverId: first.serverId, ts: first.ts, duplicate: true, appended: [] });
        const toOther = await store.sendMessage({ ...first, serverId: randomUUID(), to: C }, [C], 1);
        assert.equal(toOther.duplicate, true, 'the key is (sender, client id), whatever the recipient');
        assert.deepEqual(await store.readInbox(d(B), 0, 10), [only(sent.appended).event]);
        assert.deepEqual(await store.readInbox(d(C), 0, 10), []);

        const otherSender = await store.sendMessage({ ...first, from: C, serverId: randomUUID() }, [B], 1);
        assert.equal(otherSender.duplicate, false, 'another sender may use the same client id');
        assert.equal(await store.lastSeq(d(B)), 2);
      });

      test('concurrent repeats of one (from, id) store it once', async ({ store }) => {
        await register(store, A, B);
        const base = message(A, B);
        const results = await Promise.all(
          Array.from({ length: 10 }, () => store.sendMessage({ ...base, serverId: randomUUID() }, [B], 1)),
        );
        const firsts = results.filter((r) => !r.duplicate);
        assert.equal(firsts.length, 1);
        const winner = only(firsts);
        assert.ok(results.every((r) => r.serverId === winner.serverId && r.ts === winner.ts));
        assert.equal((await store.readInbox(d(B), 0, 100)).length, 1);
      });
    });

    describe('ackUpTo', () => {
      test('deletes events up to upTo and appends one delivered receipt per sender', async ({ store }) => {
        await register(store, A, B, C);
        const s1 = await send(store, message(A, C)); // C seq 1
        const s2 = await send(store, message(B, C)); // C seq 2
        const s3 = await send(store, message(A, C)); // C seq 3
        await store.appendEvents([{ userId: C, event: groupEvent('g1', [A, C], A, T0) }]); // C seq 4
        await send(store, message(A, C)); // C seq 5

        const appended = await store.ackUpTo(d(C), 4, T0 + 50);
        assert.deepEqual(normalize(appended), [
          receiptFor(A, 1, 'delivered', [s1.serverId, s3.serverId], C, T0 + 50),
          receiptFor(B, 1, 'delivered', [s2.serverId], C, T0 + 50),
        ]);
        assert.deepEqual(
          (await store.readInbox(d(C), 0, 10)).map((e) => e.seq),
          [5],
        );
        assert.deepEqual(await store.readInbox(d(A), 0, 10), [appendedTo(appended, A).event]);
        assert.deepEqual(await store.readInbox(d(B), 0, 10), [appendedTo(appended, B).event]);

        assert.deepEqual(await store.ackUpTo(d(C), 4, T0 + 60), [], 'nothing left to deliver');
        assert.deepEqual(await store.ackUpTo(d(C), 3, T0 + 60), []);
        assert.equal(await store.lastSeq(d(A)), 1);
      });

      test('acking receipts and group events appends nothing', async ({ store }) => {
        await register(store, A, B);
        await send(store, message(A, B));
        await store.ackUpTo(d(B), 1, T0 + 1); // A gets a delivered receipt: A seq 1
        await store.appendEvents([{ userId: A, event: groupEvent('g1', [A, B], B, T0 + 2) }]); // A seq 2
        assert.deepEqual(await store.ackUpTo(d(A), 2, T0 + 3), []);
        assert.deepEqual(await store.readInbox(d(A), 0, 10), []);
        assert.equal(await store.lastSeq(d(A)), 2);
        assert.equal(await store.lastSeq(d(B)), 1);
      });

      test('an ack above the last seq delivers everything; another inbox is untouched', async ({ store }) => {
        await register(store, A, B, C);
        const toB = await send(store, message(A, B));
        await send(store, message(A, C));
        const appended = await store.ackUpTo(d(B), 1000, T0 + 5);
        assert.deepEqual(normalize(appended), [receiptFor(A, 1, 'delivered', [toB.serverId], B, T0 + 5)]);
        assert.deepEqual(await store.readInbox(d(B), 0, 10), []);
        assert.equal((await store.readInbox(d(C), 0, 10)).length, 1);
      });

      test('a group message is delivered by each member for itself', async ({ store }) => {
        await register(store, A, B, C);
        const sent = await store.sendMessage(message(A, 'g1', { group: 'g1' }), [B, C], 1);
        assert.deepEqual(normalize(await store.ackUpTo(d(B), 1, T0 + 1)), [
          receiptFor(A, 1, 'delivered', [sent.serverId], B, T0 + 1),
        ]);
        assert.deepEqual(normalize(await store.ackUpTo(d(C), 1, T0 + 2)), [
          receiptFor(A, 2, 'delivered', [sent.serverId], C, T0 + 2),
        ]);
      });
    });

    test('members acking a group message at the same moment each answer their own receipt, in seq order at the sender', async ({ store }) => {
      const members = Array.from({ length: 30 }, (_, i) => user(100 + i));
      await register(store, A, ...members);
      const sent = await store.sendMessage(message(A, 'g1', { group: 'g1' }), members, 1);

      const answers = await Promise.all(members.map((member, i) => store.ackUpTo(d(member), 1, T0 + i)));
      answers.forEach((appended, i) => {
        assert.equal(appended.length, 1, `member ${i} answers one receipt`);
        const event = only(appended).event;
        assert.ok(event.type === 'receipt' && event.by === members[i] && event.ts === T0 + i);
        assert.deepEqual(event.serverIds, [sent.serverId]);
      });
      const atSender = await store.readInbox(d(A), 0, 100);
      assert.deepEqual(atSender.map((event) => event.seq), members.map((_, i) => i + 1));
      assert.deepEqual(
        atSender.map((event) => (event.type === 'receipt' ? event.by : undefined)).sort(),
        [...members].sort(),
      );
      const answered = answers.flat().map((entry) => entry.event).sort((x, y) => x.seq - y.seq);
      assert.deepEqual(answered, atSender, 'each ack answered exactly the receipt the sender holds');
      for (const member of members) assert.deepEqual(await store.readInbox(d(member), 0, 10), []);
    });

    describe('markRead', () => {
      test('after delivery: one read receipt per sender; unknown ids ignored; never twice', async ({ store }) => {
        await register(store, A, B, C);
        const s1 = await send(store, message(A, C));
        const s2 = await send(store, message(A, C));
        const s3 = await send(store, message(B, C));
        await store.ackUpTo(d(C), 3, T0 + 10); // A seq 1, B seq 1: delivered receipts

        const appended = await store.markRead(d(C), [s1.serverId, s3.serverId, 'no-such-id', s2.serverId], T0 + 20);
        assert.deepEqual(normalize(appended), [
          receiptFor(A, 2, 'read', [s1.serverId, s2.serverId], C, T0 + 20),
          receiptFor(B, 2, 'read', [s3.serverId], C, T0 + 20),
        ]);
        assert.deepEqual((await store.readInbox(d(A), 1, 10)).map(normalizeEvent), [
          normalizeEvent(appendedTo(appended, A).event),
        ]);
        assert.deepEqual(await store.markRead(d(C), [s1.serverId, s2.serverId, s3.serverId], T0 + 30), []);
        assert.deepEqual(await store.markRead(d(C), ['no-such-id'], T0 + 30), []);
      });

      test('before delivery: the read receipt comes once, and delivery is still told', async ({ store }) => {
        await register(store, A, C);
        const s1 = await send(store, message(A, C));
        assert.deepEqual(normalize(await store.markRead(d(C), [s1.serverId], T0 + 10)), [
          receiptFor(A, 1, 'read', [s1.serverId], C, T0 + 10),
        ]);
        assert.deepEqual(await store.markRead(d(C), [s1.serverId, s1.serverId], T0 + 11), []);
        assert.deepEqual(normalize(await store.ackUpTo(d(C), 1, T0 + 12)), [
          receiptFor(A, 2, 'delivered', [s1.serverId], C, T0 + 12),
        ]);
        assert.deepEqual(await store.markRead(d(C), [s1.serverId], T0 + 13), [], 'still at most one read receipt');
      });

      test('only a recipient of the message can mark it read', async ({ store }) => {
        await register(store, A, B, C);
        const s1 = await send(store, message(A, C));
        assert.deepEqual(await store.markRead(d(B), [s1.serverId], T0 + 1), []);
        assert.deepEqual(await store.markRead(d(A), [s1.serverId], T0 + 1), [], 'not even its sender');
        await store.ackUpTo(d(C), 1, T0 + 2);
        assert.deepEqual(await store.markRead(d(B), [s1.serverId], T0 + 3), []);
        assert.equal((await store.markRead(d(C), [s1.serverId], T0 + 4)).length, 1);
      });

      test('each member of a group reads a group message for itself', async ({ store }) => {
        await register(store, A, B, C);
        const sent = await store.sendMessage(message(A, 'g1', { group: 'g1' }), [B, C], 1);
        await store.ackUpTo(d(B), 1, T0 + 1); // A seq 1
        assert.deepEqual(normalize(await store.markRead(d(B), [sent.serverId], T0 + 2)), [
          receiptFor(A, 2, 'read', [sent.serverId], B, T0 + 2),
        ]);
        assert.deepEqual(normalize(await store.markRead(d(C), [sent.serverId], T0 + 3)), [
          receiptFor(A, 3, 'read', [sent.serverId], C, T0 + 3),
        ]);
        assert.deepEqual(await store.markRead(d(B), [sent.serverId], T0 + 4), []);
      });
    });

    describe('groups', () => {
      test('createGroup stores the group and appends its events', async ({ store }) => {
        await register(store, A, B, C);
        const group: Group = { groupId: 'g1', name: 'Friends', members: [A, B, C], admins: [A], createdAt: T0 };
        const created = groupEvent('g1', group.members, A, T0);
        const appended = await store.createGroup(
          group,
          group.members.map((userId) => ({ userId, event: created })),
        );
        assert.deepEqual(
          appended.map((a) => [a.userId, a.event.seq]),
          [
            [A, 1],
            [B, 1],
            [C, 1],
          ],
        );
        assert.deepEqual(await store.getGroup('g1'), group);
        assert.deepEqual(await store.readInbox(d(B), 0, 10), [{ ...created, seq: 1 }]);
        assert.equal(await store.getGroup('no-such-group'), undefined);
      });

      test('changeGroup writes the new group and its events together', async ({ store }) => {
        await register(store, A, B, C);
        const group: Group = { groupId: 'g1', name: 'Friends', members: [A, B], admins: [A], createdAt: T0 };
        await store.createGroup(group, []);
        const result = await store.changeGroup('g1', (current) => {
          assert.deepEqual(current, group, 'change sees the stored group');
          const next = { ...current, members: [...current.members, C] };
          const event = { ...groupEvent('g1', next.members, A, T0 + 1), change: 'members_added' as const, users: [C] };
          return { group: next, events: next.members.map((userId) => ({ userId, event })) };
        });
        const expected: Group = { ...group, members: [A, B, C] };
        assert.deepEqual(result.group, expected);
        assert.deepEqual(
          result.appended.map((a) => [a.userId, a.event.seq]),
          [
            [A, 1],
            [B, 1],
            [C, 1],
          ],
        );
        assert.deepEqual(await store.getGroup('g1'), expected);
        assert.deepEqual(await store.readInbox(d(C), 0, 10), [appendedTo(result.appended, C).event]);
      });

      test('groupsOf lists the groups of a member, oldest first, and no others', async ({ store }) => {
        await register(store, A, B, C);
        const first: Group = { groupId: 'g1', name: 'First', members: [A, B], admins: [A], createdAt: T0 };
        const second: Group = { groupId: 'g2', name: 'Second', members: [B, C], admins: [C], createdAt: T0 + 1 };
        await store.createGroup(second, []);
        await store.createGroup(first, []);
        assert.deepEqual(await store.groupsOf(B), [first, second]);
        assert.deepEqual(await store.groupsOf(A), [first]);
        await store.changeGroup('g1', (current) => ({ group: { ...current, members: [B] }, events: [] }));
        assert.deepEqual(await store.groupsOf(A), [], 'a removed member no longer lists the group');
        assert.deepEqual(await store.groupsOf(user(999)), []);
      });

      test('a change that throws comes out unchanged and writes nothing', async ({ store }) => {
        await register(store, A, B);
        const group: Group = { groupId: 'g1', name: 'Friends', members: [A, B], admins: [A], createdAt: T0 };
        await store.createGroup(group, []);
        const refusal = new CourierError('forbidden', 'admins only', 403);
        await assert.rejects(
          store.changeGroup('g1', () => {
            throw refusal;
          }),
          (error: unknown) => error === refusal,
        );
        class PlainRefusal extends Error {}
        const plain = new PlainRefusal('not a CourierError');
        await assert.rejects(
          store.changeGroup('g1', () => {
            throw plain;
          }),
          (error: unknown) => error === plain,
        );
        assert.deepEqual(await store.getGroup('g1'), group);
        assert.equal(await store.lastSeq(d(A)), 0);
        assert.equal(await store.lastSeq(d(B)), 0);
      });

      test('concurrent changes of one group do not interleave', async ({ store }) => {
        const joiners = Array.from({ length: 20 }, (_, i) => user(500 + i));
        await register(store, A, ...joiners);
        await store.createGroup({ groupId: 'g1', name: 'Busy', members: [A], admins: [A], createdAt: T0 }, []);
        const seen: number[] = [];
        await Promise.all(
          joiners.map((joiner) =>
            store.changeGroup('g1', (current) => {
              seen.push(current.members.length);
              return { group: { ...current, members: [...current.members, joiner] }, events: [] };
            }),
          ),
        );
        const final = await store.getGroup('g1');
        assert.deepEqual(new Set(final?.members), new Set([A, ...joiners]));
        assert.equal(final?.members.length, 21);
        // Retries may call `change` again, but every committed change saw the one before it.
        assert.ok(seen.length >= joiners.length);
      });
    });

    describe('media', () => {
      test('saveMedia keeps the first record of a hash', async ({ store }) => {
        const first: MediaRecord = { hash: hash('x'), size: 10, mime: 'image/png', createdAt: T0 };
        await store.saveMedia(first);
        await store.saveMedia({ hash: first.hash, size: 99, mime: 'image/jpeg', createdAt: T0 + 5 });
        assert.deepEqual(await store.getMedia(first.hash), first);
        assert.equal(await store.getMedia(hash('unknown')), undefined);
      });

      test('unreferencedMedia skips blobs of undelivered messages, until every recipient acked', async ({
        store,
      }) => {
        await register(store, A, B, C);
        const referenced = hash('referenced');
        const free = hash('free');
        const recent = hash('recent');
        await store.saveMedia({ hash: referenced, size: 1, mime: 'image/png', createdAt: T0 });
        await store.saveMedia({ hash: free, size: 1, mime: 'image/png', createdAt: T0 + 1 });
        await store.saveMedia({ hash: recent, size: 1, mime: 'image/png', createdAt: T0 + 10_000 });
        await store.sendMessage(
          message(A, 'g1', { group: 'g1', media: { hash: referenced, mime: 'image/png', size: 1 } }),
          [B, C],
          1,
        );

        assert.deepEqual(await store.unreferencedMedia(T0 + 5000, 100), [free]);
        await store.ackUpTo(d(B), 1, T0 + 2);
        assert.deepEqual(await store.unreferencedMedia(T0 + 5000, 100), [free], 'C has not acked yet');
        await store.ackUpTo(d(C), 1, T0 + 3);
        assert.deepEqual(new Set(await store.unreferencedMedia(T0 + 5000, 100)), new Set([referenced, free]));
        assert.equal((await store.unreferencedMedia(T0 + 5000, 1)).length, 1, 'limit');
        assert.equal((await store.unreferencedMedia(T0 + 20_000, 100)).length, 3);

        await store.deleteMedia(free);
        assert.equal(await store.getMedia(free), undefined);
        assert.deepEqual(await store.unreferencedMedia(T0 + 5000, 100), [referenced]);
      });
    });

    describe('blocking, presence visibility and account deletion', () => {
      test('setBlocked, blockedBy and blockedEitherWay', async ({ store }) => {
        await register(store, A, B, C);
        await store.setBlocked(A, B, true, T0);
        await store.setBlocked(A, C, true, T0 + 1);
        await store.setBlocked(A, B, true, T0 + 2);
        assert.deepEqual(await store.blockedBy(A), [B, C], 'in the order blocked, each once');
        assert.equal(await store.blockedEitherWay(A, B), true);
        assert.equal(await store.blockedEitherWay(B, A), true);
        assert.equal(await store.blockedEitherWay(B, C), false);
        await store.setBlocked(A, B, false, T0 + 3);
        await store.setBlocked(A, B, false, T0 + 4);
        assert.deepEqual(await store.blockedBy(A), [C]);
        assert.deepEqual(await store.blockedBy(B), []);
      });

      test('sendMessage stores a 1:1 message to a blocker for nobody, and a group message as usual', async ({ store }) => {
        await register(store, A, B, C);
        await store.setBlocked(B, A, true, T0);
        const blocked = message(A, B);
        const result = await send(store, blocked);
        assert.deepEqual(result, { serverId: blocked.serverId, ts: blocked.ts, duplicate: false, appended: [] });
        assert.equal((await send(store, { ...blocked, serverId: randomUUID() })).duplicate, true, 'remembered for idempotency');
        assert.deepEqual(await store.readInbox(d(B), 0, 10), []);
        const toGroup = await store.sendMessage(message(A, 'g1', { group: 'g1' }), [B, C], 1);
        assert.deepEqual(toGroup.appended.map((entry) => entry.userId).sort(), [B, C]);
      });

      test('presenceAllowed follows blocks both ways, visibility, contacts and shared groups', async ({ store }) => {
        const D = user(4);
        await register(store, A, B, C, D);
        const pairs = [B, C, D, A].map((watcher) => ({ user: A, watcher }));
        const watchersAllowed = async () => (await store.presenceAllowed(pairs)).map((pair) => pair.watcher).sort();
        assert.deepEqual(await watchersAllowed(), [A, B, C, D].sort(), 'everyone by default');
        await store.setBlocked(D, A, true, T0);
        assert.deepEqual(await watchersAllowed(), [A, B, C].sort(), 'a user who blocked A does not see A');
        await store.setPresenceVisibility(A, 'nobody');
        assert.deepEqual(await watchersAllowed(), [A], 'only itself');
        await store.setPresenceVisibility(A, 'contacts');
        assert.deepEqual(await watchersAllowed(), [A]);
        await send(store, message(B, A));
        await store.createGroup({ groupId: 'g1', name: 'g', members: [A, C], admins: [A], createdAt: T0 }, []);
        assert.deepEqual(await watchersAllowed(), [A, B, C].sort(), 'a 1:1 message or a shared group makes a contact');
        assert.deepEqual(await store.presenceAllowed([{ user: user(9), watcher: A }]), [], 'no account, no presence');
      });

      test('deleteAccount removes everything of the account and leaves its groups', async (ctx) => {
        const { store } = ctx;
        await register(store, A, B, C);
        await store.setBlocked(A, B, true, T0);
        await store.setBlocked(C, A, true, T0);
        await send(store, message(B, A));
        await send(store, message(A, C));
        await store.saveCode({ phone: A, codeHash: 'h', expiresAt: T0 + 60_000, tries: 0 });
        await store.saveMedia({ hash: hash('a'), size: 1, mime: 'image/png', createdAt: T0 });
        await store.grantMedia(hash('a'), A, 1, T0);
        const group: Group = { groupId: 'g1', name: 'g', members: [A, B], admins: [A], createdAt: T0 };
        await store.createGroup(group, []);
        await store.savePushTarget(A, 1, { kind: 'gateway', url: 'https://push.example/notify', pushkey: 'k' });
        const before = await store.lastSeq(d(B));

        const deleted = await store.deleteAccount(A);
        assert.deepEqual(deleted.revoked.map((device) => device.tokenHash), [tokenOf(A)]);
        assert.equal(await store.lastSeq(d(B)), before, 'no events: the groups were left without a word');
        assert.deepEqual(await store.getGroup('g1'), { ...group, members: [B], admins: [] });
        assert.equal(await store.deviceByTokenHash(tokenOf(A)), undefined);
        assert.deepEqual(await store.existingUsers([A, B]), new Set([B]));
        assert.equal(await store.getCode(A), undefined);
        assert.deepEqual(await store.blockedBy(A), []);
        assert.deepEqual(await store.blockedBy(C), []);
        assert.equal(await store.mayFetchMedia(hash('a'), A), false);
        assert.equal(await store.uploadedBytesSince(A, 0), 0);
        assert.deepEqual(await store.groupsOf(A), []);
        assert.equal(await store.pushTarget(A, 1), undefined);
        await assert.rejects(send(store, message(B, A)), (err: unknown) => err instanceof CourierError && err.code === 'unknown_user');

        await register(store, A);
        assert.deepEqual(await store.readInbox(d(A), 0, 10), [], 'registered again: an empty inbox');
        assert.equal(await store.lastSeq(d(A)), 0);
        assert.equal((await send(store, message(A, C, { id: 'reused-client-id' }))).duplicate, false);
        assert.deepEqual(await store.deleteAccount(user(9)), { revoked: [] }, 'no account: nothing to do');
      });
    });

    describe('media access', () => {
      test('grantMedia, mayFetchMedia and uploadedBytesSince; recipients of a message carrying it', async ({ store }) => {
        await register(store, A, B, C);
        const h = hash('media-access');
        await store.saveMedia({ hash: h, size: 10, mime: 'image/png', createdAt: T0 });
        assert.equal(await store.mayFetchMedia(h, A), false);
        await store.grantMedia(h, A, 10, T0);
        await store.grantMedia(h, A, 10, T0 + 5);
        assert.equal(await store.mayFetchMedia(h, A), true);
        assert.equal(await store.uploadedBytesSince(A, T0), 10, 'a second grant keeps the first');
        assert.equal(await store.uploadedBytesSince(A, T0 + 1), 0);
        await store.grantMedia(hash('other'), A, 7, T0 + 10);
        assert.equal(await store.uploadedBytesSince(A, T0), 17);

        await send(store, message(A, B, { media: { hash: h, mime: 'image/png', size: 10 } }));
        assert.equal(await store.mayFetchMedia(h, B), true, 'the recipient');
        assert.equal(await store.uploadedBytesSince(B, 0), 0, 'receiving counts against no quota');
        assert.equal(await store.mayFetchMedia(h, C), false);
        await store.sendMessage(message(A, 'g1', { group: 'g1', media: { hash: h, mime: 'image/png', size: 10 } }), [C], 1);
        assert.equal(await store.mayFetchMedia(h, C), true, 'a group member it was sent to');
      });
    });

    describe('sweep', () => {
      test('removes expired codes and keeps live ones', async ({ store }) => {
        await store.saveCode({ phone: '+15550000001', codeHash: 'h', expiresAt: T0 + 10, tries: 0 });
        await store.saveCode({ phone: '+15550000002', codeHash: 'h', expiresAt: T0 + 1_000_000, tries: 0 });
        await store.sweep(T0 + 1000, RETENTION);
        assert.equal(await store.getCode('+15550000001'), undefined);
        assert.equal((await store.getCode('+15550000002'))?.codeHash, 'h');
      });

      test('a code is swept from the moment it expires, when takeCodeTry refuses it', async ({ store }) => {
        const phone = '+15550000003';
        await store.saveCode({ phone, codeHash: 'h', expiresAt: T0 + 1000, tries: 0 });
        await store.saveCode({ phone: '+15550000004', codeHash: 'h', expiresAt: T0 + 1001, tries: 0 });
        assert.equal(await store.takeCodeTry(phone, T0 + 1000, 5), undefined, 'expired at its expiry time');
        await store.sweep(T0 + 1000, RETENTION);
        assert.equal(await store.getCode(phone), undefined);
        assert.equal((await store.getCode('+15550000004'))?.expiresAt, T0 + 1001, 'a code of the next millisecond stays');
      });

      test('forgets idempotency keys after their time: a resend then appends again', async ({ store }) => {
        await register(store, A, B);
        const first = message(A, B);
        await store.sendMessage(first, [B], 1);
        await store.sweep(T0 + RETENTION.idempotencyMs / 2, RETENTION);
        assert.equal((await store.sendMessage({ ...first, serverId: randomUUID() }, [B], 1)).duplicate, true);

        await store.sweep(T0 + RETENTION.idempotencyMs * 10, RETENTION);
        const later = { ...first, serverId: randomUUID(), ts: T0 + RETENTION.idempotencyMs * 10 };
        const resent = await store.sendMessage(later, [B], 1);
        assert.equal(resent.duplicate, false);
        assert.equal(resent.serverId, later.serverId);
        assert.equal(only(resent.appended).event.seq, 2);
        assert.equal((await store.readInbox(d(B), 0, 10)).length, 2);
      });

      test('forgets delivered messages after the read tracking time', async ({ store }) => {
        await register(store, A, B);
        const s1 = await send(store, message(A, B));
        const s2 = await send(store, message(A, B));
        await store.ackUpTo(d(B), 2, T0 + 1000);
        await store.sweep(T0 + 2000, RETENTION);
        assert.equal((await store.markRead(d(B), [s1.serverId], T0 + 2001)).length, 1, 'still tracked');
        await store.sweep(T0 + RETENTION.readTrackingMs * 10, RETENTION);
        assert.deepEqual(await store.markRead(d(B), [s2.serverId], T0 + RETENTION.readTrackingMs * 10), []);
      });
    });

    describe('backlog', () => {
      test('counts undelivered events in all inboxes and the oldest ts', async ({ store }) => {
        const empty = await store.backlog();
        assert.equal(empty.events, 0);
        assert.equal(empty.oldestTs, undefined);

        await register(store, A, B, C);
        await store.sendMessage(message(A, B, { ts: T0 + 10 }), [B], 1);
        await store.sendMessage(message(A, C, { ts: T0 + 5 }), [C], 1);
        await store.appendEvents([{ userId: B, event: groupEvent('g1', [A, B], A, T0 + 20) }]);
        assert.deepEqual(await store.backlog(), { events: 3, oldestTs: T0 + 5 });

        await store.ackUpTo(d(C), 1, T0 + 100); // removes C's message, appends a receipt (ts T0 + 100) to A
        assert.deepEqual(await store.backlog(), { events: 3, oldestTs: T0 + 10 });
        await store.ackUpTo(d(A), 1, T0 + 101);
        await store.ackUpTo(d(B), 1, T0 + 102); // appends another receipt to A
        assert.deepEqual(await store.backlog(), { events: 2, oldestTs: T0 + 20 });
      });
    });

    describe('message actions', () => {
      test('sendMessage keeps the facts of a message (never its text) for actions on it', async ({ store }) => {
        await register(store, A, B, C);
        const direct = message(A, B, { body: 'secret' });
        await send(store, direct);
        assert.deepEqual(await store.messageFacts(direct.serverId), { serverId: direct.serverId, author: A, to: B, recipients: [B], ts: T0 });
        const inGroup = message(A, 'g1', { group: 'g1', ts: T0 + 5 });
        await store.sendMessage(inGroup, [B, C, B], 1);
        const facts = await store.messageFacts(inGroup.serverId);
        assert.deepEqual({ ...facts, recipients: [...(facts?.recipients ?? [])].sort() }, {
          serverId: inGroup.serverId,
          author: A,
          to: 'g1',
          recipients: [B, C].sort(),
          ts: T0 + 5,
        });
        assert.equal(await store.messageFacts('no-such-message'), undefined);
        await store.sendMessage({ ...direct, serverId: randomUUID(), to: C }, [C], 1);
        assert.equal((await store.messageFacts(direct.serverId))?.to, B, 'a repeated client id records nothing');
      });

      test('storeAction appends to every recipient and answers like a send', async ({ store }) => {
        await register(store, A, B, C);
        const target = await send(store, message(A, B));
        const edit = action('edit', A, B, target.serverId, { body: 'fixed' });
        const result = await store.storeAction(edit, [B, B], 1);
        assert.deepEqual(result, { serverId: edit.serverId, ts: edit.ts, duplicate: false, appended: [{ userId: B, deviceId: 1, event: { ...edit, seq: 2 } }] });
        assert.deepEqual(await store.readInbox(d(B), 1, 10), [{ ...edit, seq: 2 }]);
        const reaction = action('reaction', B, 'g1', target.serverId, { emoji: '👍', group: 'g1' });
        const reacted = await store.storeAction(reaction, [A, C], 1);
        assert.deepEqual(normalize(reacted.appended), normalize([
          { userId: A, deviceId: 1, event: { ...reaction, seq: 1 } },
          { userId: C, deviceId: 1, event: { ...reaction, seq: 1 } },
        ]));
      });

      test('storeAction is idempotent per (sender, client id), shared with sendMessage', async ({ store }) => {
        await register(store, A, B);
        const sent = await send(store, message(A, B, { id: 'shared-id' }));
        assert.deepEqual(await store.earlierAnswer(A, 'shared-id'), { serverId: sent.serverId, ts: T0 });
        assert.equal(await store.earlierAnswer(B, 'shared-id'), undefined);
        const reused = await store.storeAction(action('edit', A, B, sent.serverId, { id: 'shared-id', body: 'x' }), [B], 1);
        assert.deepEqual(reused, { serverId: sent.serverId, ts: T0, duplicate: true, appended: [] });

        const react = action('reaction', A, B, sent.serverId, { emoji: '🎉' });
        const first = await store.storeAction(react, [B], 1);
        const again = await store.storeAction({ ...react, serverId: randomUUID(), ts: T0 + 9 }, [B], 1);
        assert.deepEqual(again, { serverId: first.serverId, ts: first.ts, duplicate: true, appended: [] });
        assert.deepEqual(await store.earlierAnswer(A, react.id), { serverId: react.serverId, ts: react.ts });
        assert.equal((await store.readInbox(d(B), 0, 10)).length, 2, 'the message and one reaction');
      });

      test('a delete removes every undelivered copy of its target and forgets it', async ({ store }) => {
        await register(store, A, B, C);
        const before = await store.sendMessage(message(A, 'g1', { group: 'g1' }), [B, C], 1);
        const target = await store.sendMessage(message(A, 'g1', { group: 'g1', body: 'oops' }), [B, C], 1);
        const after = await store.sendMessage(message(A, 'g1', { group: 'g1' }), [B, C], 1);
        await store.ackUpTo(d(C), 3, T0 + 1); // C has all three already
        const del = action('delete', A, 'g1', target.serverId, { group: 'g1' });
        const stored = await store.storeAction(del, [B, C], 1);
        assert.deepEqual(normalize(stored.appended), normalize([
          { userId: B, deviceId: 1, event: { ...del, seq: 4 } },
          { userId: C, deviceId: 1, event: { ...del, seq: 4 } },
        ]));
        assert.deepEqual(
          (await store.readInbox(d(B), 0, 10)).map((e) => [e.seq, e.type === 'message' ? e.serverId : e.type]),
          [[1, before.serverId], [3, after.serverId], [4, 'delete']],
          'the target is gone from the inbox, the rest keeps its seqs',
        );
        assert.equal(await store.messageFacts(target.serverId), undefined);
        assert.ok(await store.messageFacts(before.serverId), 'other messages keep their facts');
        assert.deepEqual(await store.readInbox(d(C), 3, 10), [{ ...del, seq: 4 }]);
        // Acking past the gap delivers what was there; the deleted message gives no receipt.
        const receipts = await store.ackUpTo(d(B), 4, T0 + 2);
        assert.deepEqual(receipts.flatMap((r) => (r.event.type === 'receipt' ? r.event.serverIds : [])).sort(), [before.serverId, after.serverId].sort());
      });

      test('expireMessages deletes the copies of messages past their expiry, once, within its limit', async ({ store }) => {
        await register(store, A, B, C);
        const lasting = await send(store, message(A, B));
        const soon = await store.sendMessage(message(A, 'g1', { group: 'g1', expiresIn: 60 }), [B, C], 1);
        const later = await send(store, message(A, B, { expiresIn: 120, ts: T0 + 1 }));
        assert.equal(await store.expireMessages(T0 + 59_999, 10), 0);
        assert.equal((await store.readInbox(d(B), 0, 10)).length, 3);

        assert.equal(await store.expireMessages(T0 + 60_000, 10), 1);
        assert.deepEqual((await store.readInbox(d(B), 0, 10)).map(serverIdOf), [lasting.serverId, later.serverId]);
        assert.deepEqual(await store.readInbox(d(C), 0, 10), []);
        assert.equal(await store.expireMessages(T0 + 60_000, 10), 0, 'handled once');
        assert.ok(await store.messageFacts(soon.serverId), 'its facts stay for the action windows');

        await send(store, message(A, C, { expiresIn: 60, ts: T0 + 2 }));
        assert.equal(await store.expireMessages(T0 + 1_000_000, 1), 1, 'limit');
        assert.equal(await store.expireMessages(T0 + 1_000_000, 1), 1);
        assert.equal(await store.expireMessages(T0 + 1_000_000, 1), 0);
        assert.deepEqual((await store.readInbox(d(B), 0, 10)).map(serverIdOf), [lasting.serverId]);
        assert.deepEqual(await store.readInbox(d(C), 0, 10), []);
      });

      test('sweep forgets facts after their time, but not before the message expired', async ({ store }) => {
        await register(store, A, B);
        const old = await send(store, message(A, B));
        const expiring = await send(store, message(A, B, { expiresIn: 90 * 24 * 3600 }));
        await store.sweep(T0 + RETENTION.messageFactsMs / 2, RETENTION);
        assert.ok(await store.messageFacts(old.serverId));
        await store.sweep(T0 + RETENTION.messageFactsMs * 10, RETENTION);
        assert.equal(await store.messageFacts(old.serverId), undefined);
        assert.ok(await store.messageFacts(expiring.serverId), 'kept until its expiry is handled');
        const expiry = T0 + 90 * 24 * 3600 * 1000;
        assert.equal(await store.expireMessages(expiry, 10), 1);
        await store.sweep(expiry, RETENTION);
        assert.equal(await store.messageFacts(expiring.serverId), undefined);
      });
    });

    describe('push targets', () => {
      const webpush: PushTarget = {
        kind: 'webpush',
        endpoint: 'https://push.example/sub/1',
        keys: { p256dh: 'BPublicKeyOfTheBrowser', auth: 'authSecret16byte' },
      };
      const gateway: PushTarget = { kind: 'gateway', url: 'https://gateway.example/_matrix/push/v1/notify', pushkey: 'fcm-token-1' };

      test('a device has at most one target; saving replaces it; targets are per device', async ({ store }) => {
        await register(store, A, B);
        assert.equal(await store.pushTarget(A, 1), undefined);
        await store.savePushTarget(A, 1, webpush);
        assert.deepEqual(await store.pushTarget(A, 1), webpush);
        await store.savePushTarget(A, 1, gateway);
        assert.deepEqual(await store.pushTarget(A, 1), gateway, 'replaced');
        assert.equal(await store.pushTarget(A, 2), undefined, 'another device of A');
        assert.equal(await store.pushTarget(B, 1), undefined, 'another user');
      });

      test('delete removes the target; with `only` it removes only that same target', async ({ store }) => {
        await register(store, A);
        assert.equal(await store.deletePushTarget(A, 1), false, 'nothing to remove');
        await store.savePushTarget(A, 1, gateway);
        assert.equal(await store.deletePushTarget(A, 1, webpush), false, 'a refused old target never removes the newer one');
        assert.deepEqual(await store.pushTarget(A, 1), gateway);
        assert.equal(await store.deletePushTarget(A, 1, { ...gateway }), true);
        assert.equal(await store.pushTarget(A, 1), undefined);
        await store.savePushTarget(A, 1, webpush);
        assert.equal(await store.deletePushTarget(A, 1), true);
        assert.equal(await store.pushTarget(A, 1), undefined);
      });

      test('pendingCounts counts undelivered events and the messages among them', async ({ store }) => {
        await register(store, A, B);
        assert.deepEqual(await store.pendingCounts(d(B)), { events: 0, messages: 0 });
        await send(store, message(A, B));
        await send(store, message(A, B));
        await store.appendEvents([{ userId: B, event: groupEvent('g1', [A, B], A, T0) }]);
        assert.deepEqual(await store.pendingCounts(d(B)), { events: 3, messages: 2 });
        await store.ackUpTo(d(B), 1, T0 + 1);
        assert.deepEqual(await store.pendingCounts(d(B)), { events: 2, messages: 1 });
        assert.deepEqual(await store.pendingCounts(d(A)), { events: 1, messages: 0 }, "A's delivered receipt");
      });
    });

    describe('restart', () => {
      test('a store closed and opened again on the same data keeps everything', async (ctx) => {
        const { store } = ctx;
        await register(store, A, B, C);
        await store.registerPrimary(A, 'a-second-device', T0 + 1);
        await store.setLastSeen(B, T0 + 7);
        await store.saveCode({ phone: '+15550000009', codeHash: 'hc', expiresAt: T0 + 60_000, tries: 0 });
        await store.takeCodeTry('+15550000009', T0, 5);
        const group: Group = { groupId: 'g1', name: 'Kept', members: [A, B], admins: [A], createdAt: T0 };
        await store.createGroup(group, []);
        const media: MediaRecord = { hash: hash('kept'), size: 3, mime: 'audio/ogg', createdAt: T0 };
        await store.saveMedia(media);
        const m1 = message(A, B, { media: { hash: media.hash, mime: media.mime, size: media.size } });
        await store.sendMessage(m1, [B], 1);
        await send(store, message(A, B));
        const s3 = await send(store, message(A, C));
        await store.savePushTarget(B, 1, { kind: 'gateway', url: 'https://gateway.example/notify', pushkey: 'kept' });
        await store.ackUpTo(d(C), 1, T0 + 30);
        const inboxB = await store.readInbox(d(B), 0, 10);
        const inboxA = await store.readInbox(d(A), 0, 10);

        const reopened = await ctx.restart();
        assert.deepEqual(await reopened.deviceByTokenHash('a-second-device'), d(A));
        assert.equal(await reopened.deviceByTokenHash(tokenOf(A)), undefined);
        assert.deepEqual(await reopened.deviceByTokenHash(tokenOf(B)), d(B));
        assert.deepEqual(await reopened.lastSeen([B]), new Map([[B, T0 + 7]]));
        assert.deepEqual(await reopened.getCode('+15550000009'), {
          phone: '+15550000009',
          codeHash: 'hc',
          expiresAt: T0 + 60_000,
          tries: 1,
        });
        assert.deepEqual(await reopened.getGroup('g1'), group);
        assert.deepEqual(await reopened.getMedia(media.hash), media);
        assert.deepEqual(await reopened.unreferencedMedia(T0 + 1, 10), [], 'still referenced by B');
        assert.deepEqual(await reopened.readInbox(d(B), 0, 10), inboxB);
        assert.deepEqual(await reopened.readInbox(d(A), 0, 10), inboxA);
        assert.equal(inboxA.length, 1);
        assert.deepEqual(await reopened.backlog(), { events: 3, oldestTs: T0 });
        assert.deepEqual(await reopened.pushTarget(B, 1), { kind: 'gateway', url: 'https://gateway.example/notify', pushkey: 'kept' });

        const repeat = await reopened.sendMessage({ ...m1, serverId: randomUUID() }, [B], 1);
        assert.deepEqual(repeat, { serverId: m1.serverId, ts: m1.ts, duplicate: true, appended: [] });
        assert.equal((await reopened.markRead(d(C), [s3.serverId], T0 + 40)).length, 1, 'read tracking kept');
        const next = await send(reopened, message(A, B));
        assert.equal(only(next.appended).event.seq, 3);
        assert.equal(await reopened.lastSeq(d(C)), 1);
      });
    });
  });
}

// Fixtures -------------------------------------------------------------------

const T0 = 1_700_000_000_000;
const RETENTION: RetentionTimes = { idempotencyMs: 10_000, readTrackingMs: 10_000, messageFactsMs: 10_000, expiredLinksMs: 10_000 };

function user(n: number): string {
  return `+1555${String(n).padStart(7, '0')}`;
}
/** A user's device: the primary unless told otherwise. */
function d(userId: string, deviceId = 1): DeviceAddress {
  return { userId, deviceId };
}
const A = user(1);
const B = user(2);
const C = user(3);

function tokenOf(userId: string): string {
  return `token-of-${userId}`;
}

async function register(store: Store, ...userIds: string[]): Promise<void> {
  await Promise.all(userIds.map((userId) => store.registerPrimary(userId, tokenOf(userId), T0)));
}

type NewMessage = Omit<MessageEvent, 'seq' | 'type'>;

function message(from: string, to: string, extra: Partial<NewMessage> = {}): NewMessage {
  return { serverId: randomUUID(), id: randomUUID(), from, to, ts: T0, body: 'hi', ...extra };
}

/** An action on `target`, before its seq. */
function action<T extends NewActionEvent['type']>(
  type: T,
  from: string,
  to: string,
  target: string,
  extra: Partial<Extract<NewActionEvent, { type: T }>> = {},
): Extract<NewActionEvent, { type: T }> {
  return { type, serverId: randomUUID(), id: randomUUID(), from, to, ts: T0 + 100, target, ...extra } as Extract<NewActionEvent, { type: T }>;
}

/** Sends a direct message to its `to`. */
function send(store: Store, msg: NewMessage): Promise<SendResult> {
  return store.sendMessage(msg, [msg.to], 1);
}

function groupEvent(groupId: string, members: string[], by: string, ts: number): Omit<GroupEvent, 'seq'> {
  return { type: 'group', groupId, change: 'created', users: members, by, name: 'g', members, admins: [by], ts };
}

function hash(seed: string): string {
  return Buffer.from(seed.padEnd(32, '.')).toString('hex').slice(0, 64);
}

/** A receipt in the inbox of `to` (a user's primary unless a device is given), by `by`'s primary unless told. */
function receiptFor(
  to: string | DeviceAddress,
  seq: number,
  status: 'delivered' | 'read',
  serverIds: string[],
  by: string | DeviceAddress,
  ts: number,
): Appended {
  const inbox = typeof to === 'string' ? d(to) : to;
  const reader = typeof by === 'string' ? d(by) : by;
  return {
    ...inbox,
    event: { type: 'receipt', seq, status, serverIds: [...serverIds].sort(), by: reader.userId, deviceId: reader.deviceId, ts },
  };
}

/** Appended events sorted by inbox, with receipt serverIds sorted: the port fixes neither order. */
function normalize(appended: Appended[]): Appended[] {
  const order = (a: Appended) => `${a.userId}/${String(a.deviceId).padStart(6, '0')}`;
  return [...appended]
    .sort((x, y) => (order(x) < order(y) ? -1 : order(x) > order(y) ? 1 : 0))
    .map((a) => ({ userId: a.userId, deviceId: a.deviceId, event: normalizeEvent(a.event) }));
}

function normalizeEvent(event: DurableEvent): DurableEvent {
  return event.type === 'receipt' ? { ...event, serverIds: [...event.serverIds].sort() } : event;
}

function appendedTo(appended: Appended[], userId: string): Appended {
  const found = appended.filter((a) => a.userId === userId);
  assert.equal(found.length, 1, `one event appended to ${userId}`);
  return found[0] as Appended;
}

function serverIdOf(event: DurableEvent): string | undefined {
  return event.type === 'message' ? event.serverId : undefined;
}

function only<T>(items: T[]): T {
  assert.equal(items.length, 1);
  return items[0] as T;
}

function at<T>(items: T[], index: number): T {
  assert.ok(index < items.length, `item ${index} exists`);
  return items[index] as T;
}

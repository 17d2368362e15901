/**
 * The parts a Session is made of, without sockets: what their races and limits must give. The
 * socket tests (socket, delivery, presence, abuse-limits) show the same rules as a client sees them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Connection } from '../src/session/connection.js';
import { ReceiptOrder } from '../src/session/receipt-order.js';
import { SendBuffer } from '../src/session/send-buffer.js';
import { SendOrder } from '../src/session/send-order.js';
import { WatchedUsers } from '../src/session/watched-users.js';

/** A promise and its resolve/reject, to decide from the test when a step finishes. */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: Error) => void } {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued promise reaction run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SendOrder', () => {
  it('hands writes to the store in frame order, also when a later check finishes first', async () => {
    const order = new SendOrder(10);
    const firstCheck = deferred();
    const stores: number[] = [];
    const first = order.run(async () => {
      await firstCheck.promise;
      return async () => {
        stores.push(1);
        return 'one';
      };
    });
    const second = order.run(async () => async () => {
      stores.push(2);
      return 'two';
    });
    await settle();
    assert.deepEqual(stores, [], 'the second waits for the first check');
    firstCheck.resolve();
    assert.deepEqual(await Promise.all([first, second]), ['one', 'two']);
    assert.deepEqual(stores, [1, 2]);
  });

  it('hands a write over as soon as its check is done, without waiting for the previous write', async () => {
    const order = new SendOrder(10);
    const firstWrite = deferred<string>();
    const stores: number[] = [];
    const first = order.run(async () => () => {
      stores.push(1);
      return firstWrite.promise;
    });
    const second = order.run(async () => async () => {
      stores.push(2);
      return 'two';
    });
    assert.equal(await second, 'two', 'answered while the first write is still open: their commits may share a transaction');
    assert.deepEqual(stores, [1, 2]);
    firstWrite.resolve('one');
    assert.equal(await first, 'one');
  });

  it('answers a failed check to its own frame; the frames after it go on', async () => {
    const order = new SendOrder(10);
    const failed = order.run<string>(async () => {
      throw new Error('not a member');
    });
    const next = order.run(async () => async () => 'next');
    await assert.rejects(failed, /not a member/);
    assert.equal(await next, 'next');
  });

  it('takes at most max places until one is answered', () => {
    const order = new SendOrder(2);
    assert.equal(order.tryTake(), true);
    assert.equal(order.tryTake(), true);
    assert.equal(order.tryTake(), false);
    order.answered();
    assert.equal(order.tryTake(), true);
    assert.equal(order.tryTake(), false);
  });
});

describe('ReceiptOrder', () => {
  function recording(blockFirstAck: Promise<void>) {
    const log: string[] = [];
    const failures: unknown[] = [];
    let acks = 0;
    const receipts = new ReceiptOrder({
      writeAck: async (upTo) => {
        log.push(`ack ${upTo}`);
        if (++acks === 1) await blockFirstAck;
      },
      runRequest: (work) => work().catch((err: unknown) => void failures.push(err)),
    });
    return { receipts, log, failures };
  }

  it('writes the acks that wait for their turn as one, the highest', async () => {
    const gate = deferred();
    const { receipts, log } = recording(gate.promise);
    const first = receipts.ack(1);
    await settle();
    assert.deepEqual(log, ['ack 1'], 'the first write is under way');
    const waiting = [receipts.ack(2), receipts.ack(3), receipts.ack(4)];
    gate.resolve();
    await Promise.all([first, ...waiting]);
    assert.deepEqual(log, ['ack 1', 'ack 4']);
  });

  it('applies a read only after the acks before it were written', async () => {
    const gate = deferred();
    const { receipts, log } = recording(gate.promise);
    const acked = receipts.ack(5);
    const read = receipts.queue(async () => void log.push('read'));
    await settle();
    assert.deepEqual(log, ['ack 5'], 'the read waits: no blue ticks before two ticks');
    gate.resolve();
    await Promise.all([acked, read]);
    assert.deepEqual(log, ['ack 5', 'read']);
  });

  it('goes on after a failed write, which its runner answers', async () => {
    const { receipts, log, failures } = recording(Promise.reject(new Error('store down')));
    await receipts.ack(1);
    await receipts.queue(async () => void log.push('read'));
    await receipts.ack(2);
    assert.deepEqual(log, ['ack 1', 'read', 'ack 2']);
    assert.equal(failures.length, 1);
  });
});

describe('SendBuffer', () => {
  /** A socket whose writes finish when the test says. */
  function socket() {
    const written: Array<() => void> = [];
    const sent: string[] = [];
    const connection: Connection = {
      id: 'c1',
      remoteAddress: '127.0.0.1',
      isOpen: true,
      send: (text, done) => {
        sent.push(text);
        written.push(() => done());
      },
      close: () => undefined,
    };
    return { connection, written, sent };
  }

  it('has no room past its limit and says once when the writes bring it back under', () => {
    const { connection, written } = socket();
    let drained = 0;
    const buffer = new SendBuffer(connection, 10, { kick: () => drained++ });
    buffer.send('aaaaaa');
    assert.equal(buffer.hasRoom, true);
    buffer.send('bbbbbb');
    assert.equal(buffer.hasRoom, false);
    written[0]!();
    assert.equal(buffer.hasRoom, true);
    assert.equal(drained, 1);
    written[1]!();
    assert.equal(drained, 1, 'it was not full any more');
  });

  it('counts bytes, not characters', () => {
    const { connection } = socket();
    const buffer = new SendBuffer(connection, 10, { kick: () => undefined });
    buffer.send('ééééé');
    assert.equal(buffer.hasRoom, false, 'five characters, ten bytes');
  });

  it('drops what comes after the socket closed, and counts none of it', () => {
    const { connection, sent } = socket();
    const closed = { ...connection, isOpen: false };
    const buffer = new SendBuffer(closed, 10, { kick: () => undefined });
    buffer.send('a frame that is far longer than the limit');
    assert.deepEqual(sent, []);
    assert.equal(buffer.hasRoom, true);
  });
});

describe('WatchedUsers', () => {
  it('watches users once each, and refuses (changing nothing) past its limit', () => {
    const watched = new WatchedUsers(3);
    assert.deepEqual(watched.add(['a', 'b', 'a']), ['a', 'b']);
    assert.equal(watched.add(['c', 'd']), undefined);
    assert.deepEqual([...watched.users], ['a', 'b']);
    assert.deepEqual(watched.add(['c']), ['c']);
  });

  it('tells a change once: the same state announced twice is no news', () => {
    const watched = new WatchedUsers(3);
    assert.equal(watched.tell('a', true), true);
    assert.equal(watched.tell('a', true), false);
    assert.equal(watched.tell('a', false), true);
    assert.equal(watched.tell('b', false), true, 'another user');
  });
});

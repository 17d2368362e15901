/**
 * Durable events are acked only after the app's handlers ran: until then the sender gets no
 * `delivered`, and an event whose handler failed or never finished is pushed again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CourierHandlerError, type MessageEvent, type ReceiptEvent } from '../src/node.js';
import { clientOf } from './support/register.js';
import { sharedServer } from './support/shared-server.js';
import { sleep, waitUntil } from './support/wait.js';

const env = sharedServer(['alice', 'bob']);

test('the ack (hence the delivered receipt) waits for an async handler to finish', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const receipts: ReceiptEvent[] = [];
  a.on('receipt', (r) => void receipts.push(r));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let started = false;
  let finished = false;
  b.on('message', async () => {
    started = true;
    await gate;
    finished = true;
  });
  try {
    await a.connect();
    await b.connect();
    const sent = await a.send({ to: env.bob.userId, body: 'slow handler' });
    await waitUntil('the handler starts', () => started);
    await sleep(700);
    assert.equal(
      receipts.some((r) => r.status === 'delivered' && r.serverIds.includes(sent.serverId)),
      false,
      'no delivered receipt while the handler runs',
    );
    release();
    await waitUntil('the delivered receipt once the handler finished', () =>
      receipts.some((r) => r.status === 'delivered' && r.serverIds.includes(sent.serverId)),
    );
    assert.equal(finished, true);
  } finally {
    await a.close();
    await b.close();
  }
});

test('a message whose handler throws is pushed again after a reconnection, and handled then', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const errors: Error[] = [];
  const handled: MessageEvent[] = [];
  let attempts = 0;
  b.on('error', (e) => void errors.push(e));
  b.on('message', (m) => {
    if (m.body !== 'fails once') return;
    attempts += 1;
    if (attempts === 1) throw new Error('the app could not store it');
    handled.push(m);
  });
  let readies = 0;
  b.on('ready', () => void (readies += 1));
  try {
    await a.connect();
    await b.connect();
    const sent = await a.send({ to: env.bob.userId, body: 'fails once' });
    await waitUntil('the second attempt succeeds', () => handled.length === 1, 15_000);
    assert.equal(handled[0]!.serverId, sent.serverId);
    assert.equal(attempts, 2);
    assert.ok(readies >= 2, 'the client reconnected to get the event again');
    const failure = errors.find((e) => e instanceof CourierHandlerError);
    assert.ok(failure instanceof CourierHandlerError);
    assert.equal(failure.seq, handled[0]!.seq);
    await sleep(300);
    assert.equal(attempts, 2, 'once handled, it does not come back');
  } finally {
    await a.close();
    await b.close();
  }
});

test('a message whose handler never finishes is not acked: the next client of the device gets it', async () => {
  const a = clientOf(env.server, env.alice);
  const stuck = clientOf(env.server, env.bob);
  let stuckStarted = false;
  stuck.on('message', (m) => {
    if (m.body !== 'never finished') return undefined;
    stuckStarted = true;
    return new Promise<void>(() => {});
  });
  await a.connect();
  await stuck.connect();
  const sent = await a.send({ to: env.bob.userId, body: 'never finished' });
  await waitUntil('the stuck handler starts', () => stuckStarted);
  await sleep(300);
  await stuck.close();

  const b = clientOf(env.server, env.bob);
  const got: MessageEvent[] = [];
  b.on('message', (m) => void got.push(m));
  const receipts: ReceiptEvent[] = [];
  a.on('receipt', (r) => void receipts.push(r));
  try {
    await b.connect();
    await waitUntil('the message is pushed again', () => got.some((m) => m.serverId === sent.serverId));
    await waitUntil('now it is delivered', () =>
      receipts.some((r) => r.status === 'delivered' && r.serverIds.includes(sent.serverId)),
    );
  } finally {
    await a.close();
    await b.close();
  }
});

test('events reach the handlers one at a time, in seq order', async () => {
  const a = clientOf(env.server, env.alice);
  const b = clientOf(env.server, env.bob);
  const seqs: number[] = [];
  let running = 0;
  let overlap = false;
  b.on('message', async (m) => {
    if (!m.body?.startsWith('serial ')) return;
    running += 1;
    if (running > 1) overlap = true;
    await sleep(Math.random() * 10);
    seqs.push(m.seq);
    running -= 1;
  });
  try {
    await a.connect();
    await Promise.all(Array.from({ length: 30 }, (_, i) => a.send({ to: env.bob.userId, body: `serial ${i}` })));
    await b.connect();
    await waitUntil('all 30 handled', () => seqs.length === 30);
    assert.equal(overlap, false);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y));
  } finally {
    await a.close();
    await b.close();
  }
});

/** The probe's bookkeeping of each promise, driven by hand with a fake clock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PromiseChecker, type Anomaly } from '../src/probe/promise-checker.js';

function checker(): { c: PromiseChecker; anomalies: Anomaly[]; clock: { now: number } } {
  const anomalies: Anomaly[] = [];
  const clock = { now: 0 };
  const c = new PromiseChecker(1000, (a) => anomalies.push(a), undefined, () => clock.now);
  return { c, anomalies, clock };
}

/** Sends message n of A→B and has the server answer it. */
function send(c: PromiseChecker, n: number): void {
  c.sending(`id${n}`, '+A', '+B', n);
  c.sent(`id${n}`, `s${n}`);
}

test('a message that arrives, is delivered and read breaks nothing and is forgotten', () => {
  const { c, anomalies, clock } = checker();
  send(c, 1);
  c.received('+A', '+B', 1, 's1');
  c.receipt('delivered', ['s1']);
  c.receipt('read', ['s1']);
  clock.now = 5000;
  c.sweep();
  assert.deepEqual(anomalies, []);
  assert.equal(c.pending, 0);
  assert.deepEqual({ ...c.counts }, { sending: 1, sent: 1, received: 1, delivered: 1, read: 1, anomalies: 0 });
});

test('a later message arriving first: the earlier one is reported lost, and reordered if it comes after all', () => {
  const { c, anomalies } = checker();
  send(c, 1);
  send(c, 2);
  c.received('+A', '+B', 2, 's2');
  assert.deepEqual(anomalies.map((a) => a.kind), ['lost']);
  assert.match(anomalies[0]!.detail, /^message 1 from \+A to \+B \(serverId s1\)/);
  c.received('+A', '+B', 1, 's1');
  assert.deepEqual(anomalies.map((a) => a.kind), ['lost', 'reordered']);
});

test('the same message twice is a duplicate; an unknown one (an earlier run\'s) is ignored', () => {
  const { c, anomalies } = checker();
  send(c, 1);
  c.received('+A', '+B', 1, 's1');
  c.received('+A', '+B', 1, 's1-again');
  c.received('+A', '+B', 99, 'other');
  assert.deepEqual(anomalies.map((a) => a.kind), ['duplicate']);
});

test('deadlines: no sent, not received, no delivered and no read receipt each count once', () => {
  const { c, anomalies, clock } = checker();
  c.sending('never', '+A', '+B', 1);
  send(c, 2);
  send(c, 3);
  c.received('+A', '+B', 2, 's2');
  c.received('+A', '+B', 3, 's3');
  c.receipt('delivered', ['s3']);
  clock.now = 999;
  c.sweep();
  assert.equal(anomalies.length, 0, 'nothing is late before the deadline');
  clock.now = 1001;
  c.sweep();
  c.sweep();
  assert.deepEqual(anomalies.map((a) => a.kind).sort(), ['no_delivered_receipt', 'no_read_receipt', 'unanswered']);
});

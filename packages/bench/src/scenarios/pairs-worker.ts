import { Anomalies } from '../anomalies.js';
import { BenchSocket, type AckPolicy, type DurableFrame, type EphemeralFrame } from '../bench-socket.js';
import { Histogram } from '../histogram.js';
import type { Account } from '../registration.js';
import { openAll } from './open-all.js';

/**
 * Worker side of the 1:1 scenarios: pairs of devices, the first sending to the second. Both
 * sockets of a pair live in this process, so send and receive times come from one clock. With
 * linked devices (the devices scenario), the recipient's other devices must each get every
 * message and the sender's other devices a copy of it; all of them ack.
 */

export interface PairSpec {
  sender: Account;
  recipient: Account;
  /** Linked devices of the sender's and of the recipient's account, connected too. */
  linked?: { sender: Account[]; recipient: Account[] };
}

export interface PairsConnectArgs {
  wsUrl: string;
  pairs: PairSpec[];
  ack: AckPolicy;
  /** Distinguishes the client ids of this worker's senders. */
  workerIndex: number;
}

export interface PairsStepArgs {
  /** `window`: keep `window` messages in flight per pair; `rate`: send `rate` messages/s in total, open loop. */
  mode: 'window' | 'rate';
  window: number;
  /** Messages per second over all pairs of all workers; each worker sends its pairs' share. */
  ratePerSecond: number;
  totalPairs: number;
  /** Open loop only: stop sending to a pair with this many messages in flight (the server is behind). */
  maxInFlightPerPair: number;
  warmupMs: number;
  durationMs: number;
  /** After the measured time, how long to wait for every last receipt before calling a message lost. */
  settleMs: number;
  bodyBytes: number;
}

export interface PairsStepResult {
  /** Messages whose delivered receipt came back inside the measured time. */
  completedInWindow: number;
  sentInWindow: number;
  sentTotal: number;
  completedTotal: number;
  /** Open loop: sends skipped because a pair had too many in flight. */
  skipped: number;
  /** The sender's tick was this late at worst (ms): the generator's own lag. */
  worstTickLagMs: number;
  measuredMs: number;
  /** This generator process's CPU time during the step (user + system). */
  cpuMs: number;
  wallMs: number;
  receive: ReturnType<Histogram['toJSON']>;
  sent: ReturnType<Histogram['toJSON']>;
  delivered: ReturnType<Histogram['toJSON']>;
  anomalies: { count: number; samples: string[] };
}

/** A linked device of one end of a pair: it counts the messages it gets (each message once). */
interface Companion {
  socket: BenchSocket;
  messages: number;
}

interface Pair {
  index: number;
  sender: BenchSocket;
  recipient: BenchSocket;
  companions: Companion[];
  /** `sent` answers so far: what each companion must have received in the end. */
  sentAnswers: number;
  to: string;
  counter: number;
  inFlight: number;
  /** client id → send time, until `sent`. */
  awaitingSent: Map<string, number>;
  /** serverId → send time, until the delivered receipt. */
  awaitingReceipt: Map<string, number>;
  /** Receipts that overtook their `sent` (should not happen; counted, not lost). */
  earlyReceipts: Set<string>;
  /** Client ids in the order of their `sent` answers, and in the order the recipient got them (rule 6). */
  sentOrder: string[];
  receivedOrder: string[];
}

let pairs: Pair[] = [];
let anomalies = new Anomalies();
let idPrefix = 'w0';
let step: StepState | undefined;

interface StepState {
  args: PairsStepArgs;
  padding: string;
  windowStart: number;
  windowEnd: number;
  sending: boolean;
  completedInWindow: number;
  sentInWindow: number;
  sentTotal: number;
  completedTotal: number;
  receive: Histogram;
  sent: Histogram;
  delivered: Histogram;
}

export async function pairsConnect(args: PairsConnectArgs): Promise<{ connected: number }> {
  anomalies = new Anomalies();
  idPrefix = `w${args.workerIndex}`;
  const ends = args.pairs.flatMap((pair) => [pair.sender, pair.recipient]);
  const linked = args.pairs.flatMap((pair) => [...(pair.linked?.sender ?? []), ...(pair.linked?.recipient ?? [])]);
  const sockets = await openAll(args.wsUrl, [...ends, ...linked], args.ack, anomalies, 50);
  let nextLinked = ends.length;
  pairs = args.pairs.map((pair, index) => {
    const count = (pair.linked?.sender.length ?? 0) + (pair.linked?.recipient.length ?? 0);
    const companions = sockets.slice(nextLinked, nextLinked + count).map((socket) => ({ socket, messages: 0 }));
    nextLinked += count;
    const p: Pair = {
      index,
      sender: sockets[2 * index]!,
      recipient: sockets[2 * index + 1]!,
      companions,
      sentAnswers: 0,
      to: pair.recipient.userId,
      counter: 0,
      inFlight: 0,
      awaitingSent: new Map(),
      awaitingReceipt: new Map(),
      earlyReceipts: new Set(),
      sentOrder: [],
      receivedOrder: [],
    };
    p.sender.setHandlers({ onFrame: (frame) => onSenderFrame(p, frame), onEvent: (event) => onSenderEvent(p, event) });
    p.recipient.setHandlers({ onEvent: (event) => onRecipientEvent(p, event) });
    for (const companion of companions) companion.socket.setHandlers({ onEvent: (event) => onCompanionEvent(p, companion, event) });
    return p;
  });
  return { connected: sockets.length };
}

export async function pairsStep(args: PairsStepArgs): Promise<PairsStepResult> {
  if (pairs.length === 0) throw new Error('pairsStep before pairsConnect');
  const before = anomalies.count;
  const samplesBefore = anomalies.samples.length;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const state: StepState = {
    args,
    padding: 'x'.repeat(Math.max(0, args.bodyBytes - 12)),
    windowStart: start + args.warmupMs,
    windowEnd: start + args.warmupMs + args.durationMs,
    sending: true,
    completedInWindow: 0,
    sentInWindow: 0,
    sentTotal: 0,
    completedTotal: 0,
    receive: new Histogram(),
    sent: new Histogram(),
    delivered: new Histogram(),
  };
  for (const pair of pairs) {
    pair.sentOrder = [];
    pair.receivedOrder = [];
  }
  step = state;
  let skipped = 0;
  let worstTickLagMs = 0;
  if (args.mode === 'window') {
    for (const pair of pairs) for (let i = 0; i < args.window; i++) sendOne(pair, state);
    await sleep(state.windowEnd - performance.now());
    state.sending = false;
  } else {
    // Open loop: a 1 ms tick sends whatever the schedule says is due by now, spread over the pairs.
    const perMs = (args.ratePerSecond * pairs.length) / args.totalPairs / 1000;
    let next = 0;
    await new Promise<void>((resolve) => {
      let lastTick = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        worstTickLagMs = Math.max(worstTickLagMs, now - lastTick - 1);
        lastTick = now;
        if (now >= state.windowEnd) {
          clearInterval(timer);
          state.sending = false;
          resolve();
          return;
        }
        const due = Math.floor((now - start) * perMs) - state.sentTotal - skipped;
        for (let i = 0; i < due; i++) {
          const pair = pairs[next]!;
          next = (next + 1) % pairs.length;
          if (pair.inFlight >= args.maxInFlightPerPair) skipped++;
          else sendOne(pair, state);
        }
      }, 1);
    });
  }
  // Every message sent must come back as a delivered receipt; wait for the stragglers, bounded.
  const settleDeadline = performance.now() + args.settleMs;
  while (pairs.some((pair) => pair.inFlight > 0) && performance.now() < settleDeadline) await sleep(20);
  while (pairs.some((pair) => pair.companions.some((c) => c.messages < pair.sentAnswers)) && performance.now() < settleDeadline) await sleep(20);
  for (const pair of pairs) {
    for (const companion of pair.companions) {
      if (companion.messages !== pair.sentAnswers) {
        anomalies.add(`pair ${idPrefix}.${pair.index}: linked device of ${companion.socket.userId} got ${companion.messages} messages for ${pair.sentAnswers} sent answers`);
      }
    }
    if (pair.inFlight > 0) {
      anomalies.add(
        `pair ${idPrefix}.${pair.index} (${pair.sender.userId} → ${pair.to}): ${pair.inFlight} messages still without a delivered receipt ${args.settleMs} ms after sending stopped ` +
          `(${pair.awaitingSent.size} without sent, ${pair.awaitingReceipt.size} sent but not delivered; recipient got seq up to ${pair.recipient.lastSeq})`,
      );
      continue;
    }
    checkOrder(pair);
  }
  step = undefined;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - start,
    completedInWindow: state.completedInWindow,
    sentInWindow: state.sentInWindow,
    sentTotal: state.sentTotal,
    completedTotal: state.completedTotal,
    skipped,
    worstTickLagMs,
    measuredMs: args.durationMs,
    receive: state.receive.toJSON(),
    sent: state.sent.toJSON(),
    delivered: state.delivered.toJSON(),
    anomalies: { count: anomalies.count - before, samples: anomalies.samples.slice(samplesBefore) },
  };
}

export async function pairsClose(): Promise<{ anomalies: { count: number; samples: string[] } }> {
  for (const pair of pairs) {
    pair.sender.flushAck();
    pair.recipient.flushAck();
  }
  for (const companion of pairs.flatMap((pair) => pair.companions)) companion.socket.flushAck();
  await Promise.all(pairs.flatMap((pair) => [pair.sender.close(), pair.recipient.close(), ...pair.companions.map((c) => c.socket.close())]));
  pairs = [];
  return { anomalies: anomalies.toJSON() };
}

function sendOne(pair: Pair, state: StepState): void {
  const now = performance.now();
  const id = `${idPrefix}.${pair.index}.${pair.counter++}`;
  pair.awaitingSent.set(id, now);
  pair.inFlight++;
  state.sentTotal++;
  if (now >= state.windowStart && now < state.windowEnd) state.sentInWindow++;
  // The send time rides in the body, so the recipient needs no shared table.
  pair.sender.sendMessage(id, pair.to, `${now.toFixed(3)}:${state.padding}`);
}

function onSenderFrame(pair: Pair, frame: EphemeralFrame): void {
  if (frame.type !== 'sent') return;
  const sentAt = pair.awaitingSent.get(frame.id!);
  if (sentAt === undefined) {
    anomalies.add(`${pair.sender.userId} got a sent for an id it is not waiting for: ${JSON.stringify(frame)}`);
    return;
  }
  pair.awaitingSent.delete(frame.id!);
  pair.sentOrder.push(frame.id!);
  pair.sentAnswers++;
  const now = performance.now();
  if (step !== undefined && sentAt >= step.windowStart && sentAt < step.windowEnd) step.sent.record((now - sentAt) * 1000);
  if (pair.earlyReceipts.delete(frame.serverId!)) complete(pair, sentAt, now);
  else pair.awaitingReceipt.set(frame.serverId!, sentAt);
}

function onSenderEvent(pair: Pair, event: DurableFrame): void {
  if (event.type === 'message') {
    anomalies.add(`${pair.sender.userId} (a sender only) got a message: ${JSON.stringify(event).slice(0, 300)}`);
    return;
  }
  // The server may add event types of its own (the contract allows it): acked, otherwise ignored.
  if (event.type !== 'receipt') return;
  if (event.status !== 'delivered') return;
  const now = performance.now();
  for (const serverId of event.serverIds ?? []) {
    const sentAt = pair.awaitingReceipt.get(serverId);
    if (sentAt === undefined) {
      pair.earlyReceipts.add(serverId);
      continue;
    }
    pair.awaitingReceipt.delete(serverId);
    complete(pair, sentAt, now);
  }
}

function complete(pair: Pair, sentAt: number, now: number): void {
  pair.inFlight--;
  const state = step;
  if (state === undefined) return;
  state.completedTotal++;
  if (now >= state.windowStart && now < state.windowEnd) state.completedInWindow++;
  if (sentAt >= state.windowStart && sentAt < state.windowEnd) state.delivered.record((now - sentAt) * 1000);
  if (state.sending && state.args.mode === 'window') sendOne(pair, state);
}

function onRecipientEvent(pair: Pair, event: DurableFrame): void {
  const now = performance.now();
  if (event.type !== 'message') return;
  if (event.from !== pair.sender.userId) {
    anomalies.add(`${pair.recipient.userId} got a message from someone else: ${JSON.stringify(event).slice(0, 300)}`);
    return;
  }
  pair.receivedOrder.push(event.id!);
  const sentAt = Number(event.body!.slice(0, event.body!.indexOf(':')));
  const state = step;
  if (state !== undefined && sentAt >= state.windowStart && sentAt < state.windowEnd) state.receive.record((now - sentAt) * 1000);
}

/** A linked device of either end: every message of the pair's sender reaches it once. */
function onCompanionEvent(pair: Pair, companion: Companion, event: DurableFrame): void {
  if (event.type !== 'message') return;
  if (event.from !== pair.sender.userId) {
    anomalies.add(`linked device of ${companion.socket.userId} got a message from someone else: ${JSON.stringify(event).slice(0, 300)}`);
    return;
  }
  companion.messages++;
}

/** Rule 6: the recipient sees one sender's messages in the order of their `sent` answers, each once. */
function checkOrder(pair: Pair): void {
  const { sentOrder, receivedOrder } = pair;
  const length = Math.max(sentOrder.length, receivedOrder.length);
  for (let i = 0; i < length; i++) {
    if (sentOrder[i] === receivedOrder[i]) continue;
    anomalies.add(
      `pair ${idPrefix}.${pair.index} (${pair.sender.userId} → ${pair.to}): message #${i} differs: sent answers in the order ` +
        `${JSON.stringify(sentOrder.slice(Math.max(0, i - 2), i + 3))}, the recipient got ${JSON.stringify(receivedOrder.slice(Math.max(0, i - 2), i + 3))} ` +
        `(${sentOrder.length} sent answers, ${receivedOrder.length} messages received)`,
    );
    return;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

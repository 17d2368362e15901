import { Anomalies } from '../anomalies.js';
import { BenchSocket, type AckPolicy } from '../bench-socket.js';
import type { Account } from '../registration.js';
import { openAll } from './open-all.js';

/** Worker side of the offline-drain scenario: fill one offline device's inbox, then drain it. */

export interface FillArgs {
  wsUrl: string;
  senders: Account[];
  to: string;
  /** Messages per sender. */
  perSender: number;
  /** Sends in flight (awaiting `sent`) per sender. */
  window: number;
  bodyBytes: number;
  ack: AckPolicy;
  workerIndex: number;
  timeoutMs: number;
}

export async function drainFill(args: FillArgs): Promise<{ sent: number; ms: number; anomalies: { count: number; samples: string[] } }> {
  const anomalies = new Anomalies();
  const sockets = await openAll(args.wsUrl, args.senders, args.ack, anomalies, 20);
  const body = 'x'.repeat(args.bodyBytes);
  const started = performance.now();
  let sent = 0;
  await Promise.all(
    sockets.map(
      (socket, s) =>
        new Promise<void>((resolve, reject) => {
          let issued = 0;
          let answered = 0;
          const timer = setTimeout(() => reject(new Error(`sender ${socket.userId}: ${answered} of ${args.perSender} sent answers after ${args.timeoutMs} ms`)), args.timeoutMs);
          const issue = () => socket.sendMessage(`f${args.workerIndex}.${s}.${issued++}`, args.to, body);
          socket.setHandlers({
            onFrame: (frame) => {
              if (frame.type === 'error') {
                clearTimeout(timer);
                reject(new Error(`sender ${socket.userId} got an error frame: ${JSON.stringify(frame)}`));
                return;
              }
              if (frame.type !== 'sent') return;
              answered++;
              sent++;
              if (issued < args.perSender) issue();
              if (answered === args.perSender) {
                clearTimeout(timer);
                resolve();
              }
            },
          });
          for (let i = 0; i < Math.min(args.window, args.perSender); i++) issue();
        }),
    ),
  );
  const ms = performance.now() - started;
  // The senders leave: the receipts of the drain then queue in their inboxes, as for real phones.
  await Promise.all(sockets.map((socket) => socket.close()));
  return { sent, ms, anomalies: anomalies.toJSON() };
}

export interface ReceiveArgs {
  wsUrl: string;
  account: Account;
  expected: number;
  ack: AckPolicy;
  timeoutMs: number;
}

export interface ReceiveResult {
  /** From opening the socket to the last message received. */
  ms: number;
  readyMs: number;
  firstMessageMs: number;
  received: number;
  distinct: number;
  lastSeq: number;
  /** Jumps in seq on the draining connection (from, to). */
  gapCount: number;
  gaps: Array<[number, number]>;
  anomalies: { count: number; samples: string[] };
}

export async function drainReceive(args: ReceiveArgs): Promise<ReceiveResult> {
  const anomalies = new Anomalies();
  const seen = new Set<string>();
  const started = performance.now();
  const socket = await BenchSocket.open(args.wsUrl, args.account, args.ack, anomalies);
  const readyMs = performance.now() - started;
  let firstMessageMs = -1;
  let received = 0;
  const ms = await new Promise<number>((resolve) => {
    const timer = setTimeout(() => resolve(-1), args.timeoutMs);
    socket.setHandlers({
      onEvent: (event) => {
        if (event.type !== 'message') return;
        if (firstMessageMs < 0) firstMessageMs = performance.now() - started;
        received++;
        seen.add(event.serverId!);
        if (seen.size === args.expected) {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      },
    });
  });
  if (ms < 0) anomalies.add(`the draining device got ${seen.size} of ${args.expected} messages within ${args.timeoutMs} ms`);
  socket.flushAck();
  await socket.close();
  return { ms, readyMs, firstMessageMs, received, distinct: seen.size, lastSeq: socket.lastSeq, gapCount: socket.gapCount, gaps: socket.gaps, anomalies: anomalies.toJSON() };
}

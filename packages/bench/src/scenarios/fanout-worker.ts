import { Anomalies } from '../anomalies.js';
import { BenchSocket, type AckPolicy } from '../bench-socket.js';
import { Histogram } from '../histogram.js';
import type { Account } from '../registration.js';
import { openAll } from './open-all.js';

/**
 * Worker side of the group fan-out scenario. Members in several processes compare times through
 * the wall clock at sub-millisecond resolution (performance.timeOrigin + now), one machine's clock.
 */

const wallNow = () => performance.timeOrigin + performance.now();

let members: BenchSocket[] = [];
let anomalies = new Anomalies();
let latency = new Histogram();
let received = 0;
let lastArrival = 0;
let groupId = '';

export async function fanoutMembers(args: { wsUrl: string; accounts: Account[]; groupId: string; ack: AckPolicy }): Promise<{ connected: number }> {
  anomalies = new Anomalies();
  latency = new Histogram();
  received = 0;
  lastArrival = 0;
  groupId = args.groupId;
  members = await openAll(args.wsUrl, args.accounts, args.ack, anomalies, 50);
  for (const member of members) {
    member.setHandlers({
      onEvent: (event) => {
        // Other event types (the server's own, such as a group change) are acked and ignored.
        if (event.type !== 'message') return;
        if (event.group !== groupId) {
          anomalies.add(`member ${member.userId} got a message not sent to the group: ${JSON.stringify(event).slice(0, 300)}`);
          return;
        }
        const now = wallNow();
        received++;
        lastArrival = now;
        latency.record((now - Number(event.body!.slice(0, event.body!.indexOf(':')))) * 1000);
      },
    });
  }
  return { connected: members.length };
}

export async function fanoutMemberStats(): Promise<{ received: number; lastArrival: number; latency: ReturnType<Histogram['toJSON']>; anomalies: { count: number; samples: string[] } }> {
  return { received, lastArrival, latency: latency.toJSON(), anomalies: anomalies.toJSON() };
}

export async function fanoutMembersClose(): Promise<{ closed: number }> {
  for (const member of members) member.flushAck();
  await Promise.all(members.map((member) => member.close()));
  const closed = members.length;
  members = [];
  return { closed };
}

let sender: BenchSocket | undefined;
let deliveredReceipts = 0;
let senderAnomalies = new Anomalies();

export async function fanoutSend(args: {
  wsUrl: string;
  account: Account;
  groupId: string;
  messages: number;
  window: number;
  bodyBytes: number;
  ack: AckPolicy;
  timeoutMs: number;
}): Promise<{ firstSend: number; lastSent: number; sent: number }> {
  senderAnomalies = new Anomalies();
  deliveredReceipts = 0;
  const socket = await BenchSocket.open(args.wsUrl, args.account, args.ack, senderAnomalies);
  sender = socket;
  const padding = 'x'.repeat(Math.max(0, args.bodyBytes - 20));
  let issued = 0;
  let answered = 0;
  const firstSend = wallNow();
  let lastSent = firstSend;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`group sender: ${answered} of ${args.messages} sent answers after ${args.timeoutMs} ms`)), args.timeoutMs);
    const issue = () => socket.sendMessage(`g.${issued++}`, args.groupId, `${wallNow().toFixed(3)}:${padding}`);
    socket.setHandlers({
      onFrame: (frame) => {
        if (frame.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`the group sender got an error frame: ${JSON.stringify(frame)}`));
          return;
        }
        if (frame.type !== 'sent') return;
        answered++;
        lastSent = wallNow();
        if (issued < args.messages) issue();
        if (answered === args.messages) {
          clearTimeout(timer);
          resolve();
        }
      },
      onEvent: (event) => {
        if (event.type === 'receipt' && event.status === 'delivered') deliveredReceipts += event.serverIds?.length ?? 0;
        else if (event.type === 'message') senderAnomalies.add(`the group sender got a message: ${JSON.stringify(event).slice(0, 300)}`);
      },
    });
    for (let i = 0; i < Math.min(args.window, args.messages); i++) issue();
  });
  return { firstSend, lastSent, sent: answered };
}

export async function fanoutSenderStats(): Promise<{ deliveredReceipts: number; anomalies: { count: number; samples: string[] } }> {
  return { deliveredReceipts, anomalies: senderAnomalies.toJSON() };
}

export async function fanoutSenderClose(): Promise<{ closed: number }> {
  sender?.flushAck();
  await sender?.close();
  sender = undefined;
  return { closed: 1 };
}

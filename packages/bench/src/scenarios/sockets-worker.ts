import { Anomalies } from '../anomalies.js';
import type { AckPolicy, BenchSocket } from '../bench-socket.js';
import type { Account } from '../registration.js';
import { openMany } from './open-all.js';

/** Worker side of the idle-sockets scenario: hold as many authenticated, silent sockets as possible. */

let sockets: BenchSocket[] = [];
let anomalies = new Anomalies();

export async function socketsOpen(args: { wsUrl: string; accounts: Account[]; ack: AckPolicy; concurrency: number; timeoutMs: number }): Promise<{
  opened: number;
  failed: number;
  failures: string[];
  ms: number;
  cpuMs: number;
}> {
  anomalies = new Anomalies();
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const result = await openMany(args.wsUrl, args.accounts, args.ack, anomalies, args.concurrency, args.timeoutMs);
  sockets = result.sockets.filter((s): s is BenchSocket => s !== undefined);
  const cpu = process.cpuUsage(cpuBefore);
  return { opened: sockets.length, failed: result.failures.length, failures: result.failures.slice(0, 5), ms: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** How many are still open (the server may drop idle sockets that stop answering pings). */
export async function socketsCheck(): Promise<{ open: number; anomalies: { count: number; samples: string[] } }> {
  return { open: sockets.filter((s) => s.isOpen).length, anomalies: anomalies.toJSON() };
}

export async function socketsClose(): Promise<{ closed: number }> {
  const all = sockets;
  sockets = [];
  // In slices: 10,000 close handshakes at once would only queue up behind each other.
  for (let i = 0; i < all.length; i += 500) await Promise.all(all.slice(i, i + 500).map((s) => s.close()));
  return { closed: all.length };
}

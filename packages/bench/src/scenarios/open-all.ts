import type { Anomalies } from '../anomalies.js';
import { BenchSocket, type AckPolicy } from '../bench-socket.js';
import type { Account } from '../registration.js';

/** Opens and authenticates one socket per account, `concurrency` at a time; any failure throws. */
export async function openAll(wsUrl: string, accounts: Account[], ack: AckPolicy, anomalies: Anomalies, concurrency: number): Promise<BenchSocket[]> {
  const { sockets, failures } = await openMany(wsUrl, accounts, ack, anomalies, concurrency);
  if (failures.length > 0) {
    await Promise.all(sockets.filter((s) => s !== undefined).map((s) => s.close()));
    throw new Error(`${failures.length} of ${accounts.length} sockets failed to open; first: ${failures[0]}`);
  }
  return sockets as BenchSocket[];
}

/** Opens what it can; returns the sockets (undefined where one failed) and the failures. */
export async function openMany(
  wsUrl: string,
  accounts: Account[],
  ack: AckPolicy,
  anomalies: Anomalies,
  concurrency: number,
  timeoutMs = 30_000,
): Promise<{ sockets: Array<BenchSocket | undefined>; failures: string[] }> {
  const sockets = new Array<BenchSocket | undefined>(accounts.length);
  const failures: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < accounts.length) {
      const i = next++;
      try {
        sockets[i] = await BenchSocket.open(wsUrl, accounts[i]!, ack, anomalies, timeoutMs);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, lane));
  return { sockets, failures };
}

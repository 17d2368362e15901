/**
 * The `read`s the app asked for, held back while offline and while events are being handled or
 * acked: a `read` written before the ack of the messages it is about would overtake their
 * `delivered` receipt. Whatever could not be written goes on the next connection.
 */
import { idBatches } from './id-batches.js';
import type { SocketSession } from './socket-session.js';

export class PendingReads {
  #serverIds: string[] = [];

  constructor(
    /** The session a `read` may be written on now: ready, with every event handled and acked. */
    private readonly writableSession: () => SocketSession | undefined,
  ) {}

  add(serverIds: string[]): void {
    this.#serverIds.push(...serverIds);
    this.flush();
  }

  flush(): void {
    if (this.#serverIds.length === 0) return;
    const session = this.writableSession();
    if (session === undefined) return;
    const batches = idBatches(this.#serverIds);
    this.#serverIds = [];
    for (const [i, serverIds] of batches.entries()) {
      if (!session.write({ type: 'read', serverIds })) {
        // The socket is closing: keep the rest for the next connection.
        this.#serverIds = batches.slice(i).flat();
        return;
      }
    }
  }
}

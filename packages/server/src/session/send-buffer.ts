import type { Connection } from './connection.js';

/** Whoever stopped for lack of room, to wake when there is room again (the session's InboxPump). */
export interface Drainable {
  kick(): void;
}

/**
 * The bytes a session handed to its socket that have not been written yet: its backpressure.
 * Past `limit` there is no room (the pump stops); `waiting` is kicked once the writes bring it
 * back under, so the pump resumes. Memory per session stays bounded; the backlog stays in the store.
 */
export class SendBuffer {
  private bytes = 0;

  constructor(
    private readonly connection: Connection,
    private readonly limit: number,
    private readonly waiting: Drainable,
  ) {}

  get hasRoom(): boolean {
    return this.bytes < this.limit;
  }

  /** Hands a text frame to the socket; dropped when the socket is no longer open. */
  send(text: string): void {
    if (!this.connection.isOpen) return;
    const bytes = Buffer.byteLength(text);
    this.bytes += bytes;
    // The one closure per frame: the socket's callback must know how many bytes left.
    this.connection.send(text, () => this.written(bytes));
  }

  private written(bytes: number): void {
    const wasFull = this.bytes >= this.limit;
    this.bytes -= bytes;
    if (wasFull && this.bytes < this.limit) this.waiting.kick();
  }
}

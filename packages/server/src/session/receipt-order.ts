/** What a connection's receipts need (the Session itself: no closures per socket). */
export interface ReceiptIo {
  /** Marks the device's inbox delivered up to `upTo` (the store write of a cumulative ack). */
  writeAck(upTo: number): Promise<void>;
  /** Runs a request and answers its failure to the client; never rejects. */
  runRequest(work: () => Promise<void>): Promise<void>;
}

/** Where every connection's chain starts: one promise for all, not one per socket. */
const started: Promise<void> = Promise.resolve();

/**
 * Acks and reads of one connection, applied one after another, so a sender never sees blue
 * ticks before two ticks.
 *
 * Acks are cumulative: while one waits its turn, a later one only raises the seq it will write,
 * so a fast device's many acks cost one store write instead of one each.
 */
export class ReceiptOrder {
  private chain: Promise<void> = started;
  /** The highest ack waiting for its turn; undefined when none waits. */
  private queuedAck: number | undefined;

  constructor(private readonly io: ReceiptIo) {}

  /** An ack the pump accepted (never above what was pushed); resolves once it is written. */
  ack(upTo: number): Promise<void> {
    const waiting = this.queuedAck !== undefined;
    this.queuedAck = upTo;
    if (waiting) return this.chain;
    this.chain = this.chain.then(() => this.io.runRequest(() => this.writeQueuedAck()));
    return this.chain;
  }

  /** A read receipt (or any other receipt work), after every ack and read before it. */
  queue(work: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(() => this.io.runRequest(work));
    return this.chain;
  }

  private writeQueuedAck(): Promise<void> {
    const upTo = this.queuedAck!;
    this.queuedAck = undefined;
    return this.io.writeAck(upTo);
  }
}

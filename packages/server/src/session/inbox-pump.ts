import type { DurableEvent } from '../domain/events.js';

export interface PumpIo {
  /** Unacked events after `afterSeq`, oldest first. */
  read(afterSeq: number, limit: number): Promise<DurableEvent[]>;
  push(event: DurableEvent): void;
  /** False while the socket's send buffer is over its limit, or the socket is closed. */
  canPush(): boolean;
  /** A read failed; the pump tries again on the next kick. */
  onReadError(err: unknown): void;
}

/**
 * Moves a device's inbox onto its socket in seq order, without holding the inbox in memory.
 *
 * The store is the queue: the pump remembers only the last seq pushed and acked, and keeps a
 * short run of events that signals carried (so a live device needs no read per message). Any
 * gap, overflow or doubt falls back to reading the store after the last seq pushed, which is
 * always right because an inbox's seqs are given in commit order. What the store answers may
 * itself have gaps (a message deleted for everyone, or expired, before it was delivered): a gap
 * among events read from the store is real, one among signalled events only a doubt.
 */
export class InboxPump {
  private lastPushed = 0;
  private lastAcked = 0;
  private latestKnown = 0;
  /** The highest seq a store read covered: up to it, a missing seq is gone from the inbox. */
  private readUpTo = 0;
  private pending: DurableEvent[] = [];
  private mustRead = true;
  private baselineSet = false;
  private running = false;
  private rerun = false;
  /** The page after a full one, read while that one is pushed (a backlog drains without waiting for each read). */
  private prefetch: { afterSeq: number; page: Promise<DurableEvent[]> } | undefined;

  constructor(
    private readonly io: PumpIo,
    private readonly pageSize = 256,
    private readonly maxPending = 1024,
  ) {}

  /** Events waiting for this device: not pushed yet, or pushed and not acked. */
  get queueLength(): number {
    return Math.max(0, this.latestKnown - this.lastAcked);
  }

  /** Starts pushing; `latestSeq` is the inbox's highest seq at connect time. */
  start(latestSeq: number): void {
    this.latestKnown = Math.max(this.latestKnown, latestSeq);
    this.kick();
  }

  /** Events just committed to the inbox, as a signal carried them. */
  offer(events: DurableEvent[]): void {
    for (const event of events) {
      this.latestKnown = Math.max(this.latestKnown, event.seq);
      const expected = (this.pending.at(-1)?.seq ?? this.lastPushed) + 1;
      if (event.seq < expected) continue;
      if (!this.mustRead && event.seq === expected && this.pending.length < this.maxPending) this.pending.push(event);
      else this.mustRead = true;
    }
    this.kick();
  }

  /**
   * Turns a cumulative ack into the seq that may really be deleted: never above what was pushed
   * on this connection; undefined when it acks nothing new.
   */
  acceptAck(upTo: number): number | undefined {
    const effective = Math.min(upTo, this.lastPushed);
    if (effective <= this.lastAcked) return undefined;
    this.lastAcked = effective;
    return effective;
  }

  /** Pushes what it can; call again when the socket drains. */
  kick(): void {
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = true;
    this.resume();
  }

  /**
   * Pushes synchronously while events are at hand, and goes asynchronous only to read the store:
   * a live device's signalled events (nearly every push) cost no promise.
   */
  private resume(): void {
    try {
      do {
        this.rerun = false;
        if (this.pushWhilePossible() === 'read') {
          this.readPage().then(this.resumeAfterRead, this.readFailed);
          return;
        }
      } while (this.rerun && this.io.canPush());
    } catch (err) {
      this.readFailed(err);
      return;
    }
    this.running = false;
  }

  private readonly resumeAfterRead = (): void => this.resume();

  private readonly readFailed = (err: unknown): void => {
    this.mustRead = true;
    this.io.onReadError(err);
    this.running = false;
  };

  /** Pushes the events at hand; 'read' when the store must be read before more can be pushed. */
  private pushWhilePossible(): 'done' | 'read' {
    while (this.io.canPush()) {
      const next = this.pending.shift();
      if (next !== undefined) {
        if (next.seq <= this.lastPushed) continue;
        if (next.seq !== this.lastPushed + 1 && next.seq > this.readUpTo) {
          this.pending = [];
          this.mustRead = true;
          continue;
        }
        this.io.push(next);
        this.lastPushed = next.seq;
        continue;
      }
      if (!this.mustRead && this.latestKnown <= this.lastPushed) return 'done';
      return 'read';
    }
    return 'done';
  }

  private async readPage(): Promise<void> {
    const page = await this.takePage(this.lastPushed);
    if (!this.baselineSet || page.length > 0) {
      // Everything below the first unacked event was acked, on an earlier connection or (while
      // this one reads) by the late acks of one: only acks delete, and seq order is commit order.
      const baseline = page.length > 0 ? page[0]!.seq - 1 : this.latestKnown;
      this.lastPushed = Math.max(this.lastPushed, baseline);
      this.lastAcked = Math.max(this.lastAcked, baseline);
      this.baselineSet = true;
    }
    this.mustRead = page.length === this.pageSize;
    if (page.length === 0) {
      this.latestKnown = Math.max(this.latestKnown, this.lastPushed);
      return;
    }
    const last = page[page.length - 1]!.seq;
    this.latestKnown = Math.max(this.latestKnown, last);
    this.readUpTo = Math.max(this.readUpTo, last);
    this.pending = [...page, ...this.pending.filter((event) => event.seq > last)];
    if (this.mustRead) {
      const next = this.io.read(last, this.pageSize);
      // Its failure is met by whoever takes it (takePage), or by nobody if it is never needed.
      next.catch(() => undefined);
      this.prefetch = { afterSeq: last, page: next };
    }
  }

  /** The page after `afterSeq`: the one prefetched for it, or a fresh read. */
  private takePage(afterSeq: number): Promise<DurableEvent[]> {
    const prefetched = this.prefetch;
    this.prefetch = undefined;
    if (prefetched === undefined) return this.io.read(afterSeq, this.pageSize);
    if (prefetched.afterSeq === afterSeq) return prefetched.page;
    // Read for a place the pump has left (a gap): not needed.
    return this.io.read(afterSeq, this.pageSize);
  }
}

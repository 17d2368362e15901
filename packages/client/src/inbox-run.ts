/**
 * The durable events pushed on one connection, handed to the app one at a time in `seq` order and
 * acked only once the app's handlers have finished. Acks are cumulative and batched: one per burst
 * (after a short quiet delay) or every `ackEvery` events, never one per event. An ack covers only
 * events pushed on this connection, as the contract requires.
 *
 * When a handler fails, the run stops: nothing at or after the failed event is acked, and the
 * client reconnects so the server pushes it again. When the connection ends, the run is abandoned;
 * whatever it had not acked comes again on the next connection.
 */
import type { SeqDedupe } from './dedupe.js';
import { CourierHandlerError } from './errors.js';
import type { DurableEvent, UnknownServerFrame } from './frames.js';

export type Durable = DurableEvent | (UnknownServerFrame & { seq: number });

export interface InboxRunOptions {
  dedupe: SeqDedupe;
  /** Runs the app's handlers of one event. */
  deliver(event: Durable): Promise<void>;
  /** Writes an `ack` frame on this run's connection; absent when the client does not consume its inbox. */
  sendAck?: (upTo: number) => void;
  /** A handler (or the storage) failed: the client reports it and reconnects. */
  onFailure(err: Error): void;
  /** Everything pushed so far is handled and acked (the client then writes held-back `read`s). */
  onSettled(): void;
  ackDelayMs: number;
  ackEvery: number;
}

export class InboxRun {
  readonly #queue: Durable[] = [];
  #draining = false;
  #dead = false;
  /** Set by a graceful close: no more events go to the app, but what it handled can still be acked. */
  #intakeClosed = false;
  /** Highest seq of this connection that the app handled or had already seen. */
  #ackable = 0;
  #acked = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly o: InboxRunOptions) {}

  push(event: Durable): void {
    if (this.#dead || this.#intakeClosed) return;
    this.#queue.push(event);
    void this.#drain();
  }

  /**
   * True when no event of this connection waits for a handler or an ack. A `read` written now
   * cannot overtake the ack (hence the `delivered` receipt) of the messages it is about.
   */
  get settled(): boolean {
    return !this.#draining && this.#queue.length === 0 && (this.o.sendAck === undefined || this.#acked >= this.#ackable);
  }

  /** Hands no further event to the app (a graceful close calls it before its last `flush`). */
  closeIntake(): void {
    this.#intakeClosed = true;
    this.#queue.length = 0;
  }

  /**
   * Writes the last ack again after `delayMs`: the server may have dropped it for its rate limit
   * (its `rate_limited` error does not say which frame), and an ack that never arrives would hold
   * back the delivered receipts until the next reconnection.
   */
  resendAck(delayMs: number): void {
    if (this.#dead || this.#acked === 0) return;
    this.#acked = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#scheduleFlush(delayMs);
  }

  /** Writes the pending ack now (a graceful close calls it before closing the socket). */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const upTo = this.#ackable;
    await this.o.dedupe.persist();
    if (this.#dead || upTo <= this.#acked || this.o.sendAck === undefined) return;
    this.#acked = upTo;
    this.o.sendAck(upTo);
    if (this.settled) this.o.onSettled();
  }

  /**
   * The connection is gone: stop handing events to the app and drop the unacked rest. What the app
   * has handled is still persisted, so that an app restarted now does not show it again.
   */
  abandon(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.o.dedupe.persist().catch((err: unknown) => this.o.onFailure(err instanceof Error ? err : new Error(String(err))));
    this.#queue.length = 0;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      await this.o.dedupe.load();
      for (let event = this.#queue.shift(); event !== undefined && !this.#dead; event = this.#queue.shift()) {
        if (!this.o.dedupe.isDuplicate(event.seq)) {
          try {
            await this.o.deliver(event);
          } catch (err) {
            await this.#fail(event, err);
            return;
          }
          this.o.dedupe.handled(event.seq);
        }
        if (event.seq > this.#ackable) this.#ackable = event.seq;
        if (this.#ackable - this.#acked >= this.o.ackEvery) await this.flush();
        else this.#scheduleFlush(this.o.ackDelayMs);
      }
    } catch (err) {
      // The storage failed (loading or persisting the seq): without it, acking could lose events.
      this.abandon();
      this.o.onFailure(err instanceof Error ? err : new Error(String(err)));
    } finally {
      this.#draining = false;
    }
    if (!this.#dead && this.settled) this.o.onSettled();
  }

  #scheduleFlush(delayMs: number): void {
    if (this.#timer !== undefined || this.#dead) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flush().catch((err: unknown) => {
        this.abandon();
        this.o.onFailure(err instanceof Error ? err : new Error(String(err)));
      });
    }, delayMs);
  }

  async #fail(event: Durable, err: unknown): Promise<void> {
    // What was handled before the failure is acked, so only the failed event and its followers return.
    await this.flush();
    this.abandon();
    this.o.onFailure(new CourierHandlerError(event.seq, event.type, err));
  }
}

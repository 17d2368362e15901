/**
 * The durable events (`message`, `receipt`, `group`, `edit`, `delete`, `reaction`, and unknown frames with a `seq`) across
 * connections: each ready session gets its own `InboxRun` (an ack covers only events pushed on its
 * connection), while the record of what the app has already seen (`SeqDedupe`) outlives sessions,
 * so that the repeats the server pushes after a reconnection are dropped.
 */
import type { ClientEventBus } from './client-event-bus.js';
import { SeqDedupe, dedupeKey } from './dedupe.js';
import { CourierHandlerError, CourierSocketError } from './errors.js';
import type { DeleteEvent, EditEvent, GroupEvent, MessageEvent, ReactionEvent, ReceiptEvent, UnknownServerFrame } from './frames.js';
import { InboxRun, type Durable } from './inbox-run.js';
import type { SocketSession } from './socket-session.js';
import { MemoryStorage, type ClientStorage } from './storage.js';

export interface DurableEventsOptions {
  /** `false`: hand the events to the app but never ack them. */
  ack: boolean;
  storage: ClientStorage | undefined;
  ackDelayMs: number;
  ackEvery: number;
  events: ClientEventBus;
  /** A handler or the storage failed: drop the session, so that the server pushes the event again. */
  giveUp(session: SocketSession, reason: string): void;
  /** Every event pushed so far is handled and acked. */
  settled(): void;
}

export class DurableEvents {
  readonly #runs = new WeakMap<SocketSession, InboxRun>();
  readonly #storage: ClientStorage;
  #dedupe: SeqDedupe | undefined;

  constructor(private readonly o: DurableEventsOptions) {
    // A client that does not ack must not record events as seen in the app's storage: the
    // consuming client of the device would then drop them as repeats.
    this.#storage = o.ack ? (o.storage ?? new MemoryStorage()) : new MemoryStorage();
  }

  /** The session is ready: its events go to a new run, checked against what this device has seen. */
  start(session: SocketSession, userId: string, token: string): void {
    const key = dedupeKey(userId, token);
    if (this.#dedupe === undefined || this.#dedupe.key !== key) this.#dedupe = new SeqDedupe(this.#storage, key);
    this.#runs.set(session, this.#newRun(session, this.#dedupe));
  }

  push(session: SocketSession, event: Durable): void {
    const run = this.#runs.get(session);
    if (run === undefined) {
      this.o.events.report(new CourierSocketError('protocol', `durable ${event.type} seq ${event.seq} before ready; ignored`));
      return;
    }
    run.push(event);
  }

  /** False while an event of the session waits for its handlers or its ack. */
  settledOn(session: SocketSession): boolean {
    return this.#runs.get(session)?.settled !== false;
  }

  /** Writes the session's last ack again after `delayMs` (the server may have dropped it). */
  resendAck(session: SocketSession, delayMs: number): void {
    this.#runs.get(session)?.resendAck(delayMs);
  }

  /** The session is gone: what it had not acked comes again on the next one. */
  abandon(session: SocketSession): void {
    this.#runs.get(session)?.abandon();
  }

  /** A graceful close: no further event goes to the app, and what it has handled is acked now. */
  async finish(session: SocketSession): Promise<void> {
    const run = this.#runs.get(session);
    if (run === undefined) return;
    run.closeIntake();
    try {
      await run.flush();
    } catch (err) {
      this.o.events.report(err);
    }
  }

  /** Writes what the app has seen to the storage, so that a restarted app does not show it again. */
  async persist(): Promise<void> {
    try {
      await this.#dedupe?.persist();
    } catch (err) {
      this.o.events.report(err);
    }
  }

  #newRun(session: SocketSession, dedupe: SeqDedupe): InboxRun {
    return new InboxRun({
      dedupe,
      deliver: (event) => this.#deliver(event),
      ...(this.o.ack ? { sendAck: (upTo: number) => session.write({ type: 'ack', upTo }) } : {}),
      onFailure: (err) => {
        this.o.events.report(err);
        this.o.giveUp(session, err instanceof CourierHandlerError ? 'event handler failed' : 'storage failed');
      },
      onSettled: () => this.o.settled(),
      ackDelayMs: this.o.ackDelayMs,
      ackEvery: this.o.ackEvery,
    });
  }

  #deliver(event: Durable): Promise<void> {
    switch (event.type) {
      case 'message':
        return this.o.events.deliver('message', event as MessageEvent);
      case 'receipt':
        return this.o.events.deliver('receipt', event as ReceiptEvent);
      case 'group':
        return this.o.events.deliver('group', event as GroupEvent);
      case 'edit':
        return this.o.events.deliver('edit', event as EditEvent);
      case 'delete':
        return this.o.events.deliver('delete', event as DeleteEvent);
      case 'reaction':
        return this.o.events.deliver('reaction', event as ReactionEvent);
      default:
        return this.o.events.deliver('unknown', event as UnknownServerFrame);
    }
  }
}

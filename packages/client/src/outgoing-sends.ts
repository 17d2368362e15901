/**
 * The app's sends on their way to the server: checked, kept in the `Outbox` until answered,
 * written on the ready connection within the outbox's window, and written again once a
 * rate-limit pause is over (a timer wakes the pump, since no frame may arrive to do it).
 */
import type { ClientState } from './connection-lifecycle.js';
import { CourierSocketError } from './errors.js';
import type { MediaRef, OutgoingFrame, SendFrame, SentAnswer, SentFrame } from './frames.js';
import { Outbox } from './outbox.js';
import type { SocketSession } from './socket-session.js';
import { randomId } from './uuid.js';

export interface SendOptions {
  /** A userId or a groupId. */
  to: string;
  body?: string;
  media?: MediaRef;
  /** The client id; default a fresh UUID. Reuse one only to repeat the same message. */
  id?: string;
  /** The serverId of the message this one answers. */
  replyTo?: string;
  /** Seconds (60 to 7,776,000) after which the message disappears for everyone. */
  expiresIn?: number;
}

const MAX_EXPIRES_IN = 90 * 24 * 3600;

export interface OutgoingSendsOptions {
  maxInFlight: number;
  /** The largest send frame the server takes, as far as known now. */
  maxFrameBytes(): number;
  /** The session sends can be written on now, if any. */
  readySession(): SocketSession | undefined;
  state(): ClientState;
}

export class OutgoingSends {
  readonly #outbox: Outbox;
  readonly #encoder = new TextEncoder();
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAt = 0;

  constructor(private readonly o: OutgoingSendsOptions) {
    this.#outbox = new Outbox(o.maxInFlight);
  }

  /** Sends not yet answered by `sent`. */
  get size(): number {
    return this.#outbox.size;
  }

  has(id: string): boolean {
    return this.#outbox.has(id);
  }

  send(options: SendOptions): Promise<SentAnswer> {
    if (options.body === undefined && options.media === undefined) {
      return Promise.reject(new TypeError('send needs a body or a media'));
    }
    if (options.body !== undefined && options.body.trim() === '') {
      return Promise.reject(new TypeError('a body must contain some text (leave it out to send media alone)'));
    }
    if (options.expiresIn !== undefined && !(Number.isInteger(options.expiresIn) && options.expiresIn >= 60 && options.expiresIn <= MAX_EXPIRES_IN)) {
      return Promise.reject(new TypeError('expiresIn is whole seconds, from 60 to 7776000 (90 days)'));
    }
    const frame: SendFrame = { type: 'send', id: options.id ?? randomId(), to: options.to };
    if (options.body !== undefined) frame.body = options.body;
    if (options.media !== undefined) frame.media = options.media;
    if (options.replyTo !== undefined) frame.replyTo = options.replyTo;
    if (options.expiresIn !== undefined) frame.expiresIn = options.expiresIn;
    return this.submit(frame);
  }

  /**
   * Writes a frame answered by `sent` (a send or an action on an earlier message), again after
   * each reconnection until it is answered.
   */
  submit(frame: OutgoingFrame): Promise<SentAnswer> {
    if (this.#outbox.has(frame.id)) return Promise.reject(new TypeError(`a ${frame.type} with id ${frame.id} is already pending`));
    const bytes = this.#encoder.encode(JSON.stringify(frame)).length;
    const limit = this.o.maxFrameBytes();
    if (bytes > limit) {
      const hint = 'send large content as media: upload() it, then send({ to, media })';
      return Promise.reject(new CourierSocketError('frame_too_large', `the message is ${bytes} bytes as a frame, over the server's limit of ${limit}; ${hint}`, frame.id));
    }
    const state = this.o.state();
    if (state === 'revoked' || state === 'replaced') {
      return Promise.reject(new CourierSocketError(state, `the client stopped: ${state}`, frame.id));
    }
    const answer = this.#outbox.add(frame);
    this.pump();
    return answer;
  }

  /** The server stored a send. A repeat of an already answered one (written again after a reconnection) finds nothing to settle. */
  answered(sent: SentFrame): void {
    this.#outbox.settle(sent);
    this.pump();
  }

  /** The server refused the pending send `id` for good. */
  refused(id: string, err: CourierSocketError): void {
    this.#outbox.fail(id, err);
    this.pump();
  }

  /** The server dropped a frame for its rate limit: slow down. `id` names the send it dropped, if known. */
  rateLimited(now: number, id: string | undefined): void {
    this.#outbox.congested(now, id);
  }

  /** The server closed the socket for flooding (1008): the backlog goes again more slowly. */
  flooded(): void {
    this.#outbox.congested(Date.now());
  }

  /** How long the current rate-limit pause lasts from `now` (0 when not paused). */
  pauseLeft(now: number): number {
    return this.#outbox.pauseLeft(now);
  }

  /** The connection is gone: every unanswered send goes again on the next one. */
  offWire(): void {
    this.#outbox.offWire();
  }

  /** No connection will come: reject every unanswered send. */
  stop(code: string, message: string): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#outbox.rejectAll(code, message);
  }

  /** Writes what the window allows now, and wakes up again when a held-back send may go. */
  pump(): void {
    const session = this.o.readySession();
    if (session === undefined) return;
    const now = Date.now();
    for (const frame of this.#outbox.take(now)) session.write(frame);
    const at = this.#outbox.nextRetryAt(now);
    if (at === undefined || (this.#retryTimer !== undefined && this.#retryAt <= at)) return;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryAt = at;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.pump();
    }, at - now);
  }
}

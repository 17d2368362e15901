/**
 * Hands each frame of a ready session to the part of the client it concerns. The handshake's
 * `ready` and the pings' `pong` never get here: the `SocketSession` answers those itself.
 */
import type { ClientEventBus } from './client-event-bus.js';
import type { DurableEvents } from './durable-events.js';
import { CourierSocketError } from './errors.js';
import { isDurable, type ErrorFrame, type PresenceEvent, type SentFrame, type ServerFrame, type TypingEvent, type UnknownServerFrame } from './frames.js';
import type { OutgoingSends } from './outgoing-sends.js';
import type { SocketSession } from './socket-session.js';

export class FrameRouter {
  constructor(
    private readonly events: ClientEventBus,
    private readonly durable: DurableEvents,
    private readonly sends: OutgoingSends,
  ) {}

  route(session: SocketSession, frame: ServerFrame): void {
    if (isDurable(frame)) return this.durable.push(session, frame);
    switch (frame.type) {
      case 'sent':
        return this.sends.answered(frame as SentFrame);
      case 'error':
        return this.#onError(session, frame as ErrorFrame);
      case 'typing':
        return this.events.emit('typing', frame as TypingEvent);
      case 'presence':
        return this.events.emit('presence', frame as PresenceEvent);
      default:
        return this.events.emit('unknown', frame as UnknownServerFrame);
    }
  }

  #onError(session: SocketSession, frame: ErrorFrame): void {
    const ref = typeof frame.ref === 'string' ? frame.ref : undefined;
    const pending = ref !== undefined && this.sends.has(ref);
    if (frame.code === 'rate_limited') {
      // The refused frame is dropped by the server: unanswered sends and the last ack go again later.
      const now = Date.now();
      this.sends.rateLimited(now, pending ? ref : undefined);
      this.durable.resendAck(session, Math.max(this.sends.pauseLeft(now), 1_000));
      this.sends.pump();
      if (pending) return;
    } else if (pending) {
      return this.sends.refused(ref, new CourierSocketError(frame.code, frame.message, ref));
    }
    this.events.report(new CourierSocketError(String(frame.code), String(frame.message), ref));
  }
}

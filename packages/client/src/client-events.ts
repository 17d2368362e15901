/** The events a `CourierClient` emits, and the payloads of its connection events. */
import type {
  DeleteEvent,
  EditEvent,
  GroupEvent,
  MessageEvent,
  PresenceEvent,
  ReadyFrame,
  ReactionEvent,
  ReceiptEvent,
  ServerFrame,
  TypingEvent,
  UnknownServerFrame,
} from './frames.js';

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface DisconnectInfo extends CloseInfo {
  willReconnect: boolean;
  /** Delay before the next attempt, when `willReconnect`. */
  delayMs?: number;
  /** What the socket reported, if anything (e.g. the connection was refused). */
  error?: string;
}

export interface ClientEvents {
  message: MessageEvent;
  receipt: ReceiptEvent;
  group: GroupEvent;
  /** v2 message actions; fold them with `Conversation` into what to show. */
  edit: EditEvent;
  delete: DeleteEvent;
  reaction: ReactionEvent;
  typing: TypingEvent;
  presence: PresenceEvent;
  /** Every frame from the server, before the SDK acts on it (for logs and debugging; do not ack from here). */
  frame: ServerFrame;
  /** Server frames this SDK does not know (durable ones are awaited and acked like the others). */
  unknown: UnknownServerFrame;
  /** `error` frames not tied to a pending send, failed handlers, malformed frames. */
  error: Error;
  ready: ReadyFrame;
  disconnected: DisconnectInfo;
  replaced: CloseInfo;
  revoked: CloseInfo;
}

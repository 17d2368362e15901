/**
 * Every frame of the Courier socket, as the wire contract (protocol v1) defines it.
 * The server may add fields and frame types, so the parser keeps unknown fields and
 * lets unknown frame types through as `UnknownServerFrame`.
 */

/** A media attachment, as carried by a `send` and a `message`. */
export interface MediaRef {
  /** sha-256 hex of the bytes, as answered by `POST /v1/media`. */
  hash: string;
  mime: string;
  size: number;
  /** base64, at most 16 KiB decoded. */
  thumbnail?: string;
  caption?: string;
}

// Client -> server ---------------------------------------------------------------

export interface AuthFrame {
  type: 'auth';
  token: string;
}

export interface SendFrame {
  type: 'send';
  /** Chosen by the client (a UUID), unique per sender; the server is idempotent per id. */
  id: string;
  to: string;
  body?: string;
  media?: MediaRef;
  /** v2: the serverId of the message this one answers. */
  replyTo?: string;
  /** v2: seconds (60 to 90 days) after which the message disappears. */
  expiresIn?: number;
}

/** v2: the author replaces the text of its message `target` (a serverId). */
export interface EditFrame {
  type: 'edit';
  id: string;
  /** The conversation: the other user, or the groupId. */
  to: string;
  target: string;
  body: string;
}

/** v2: the author deletes its message `target` for everyone. */
export interface DeleteFrame {
  type: 'delete';
  id: string;
  to: string;
  target: string;
}

/** v2: a reaction (one emoji) to `target`; `""` takes it back. */
export interface ReactFrame {
  type: 'react';
  id: string;
  to: string;
  target: string;
  emoji: string;
}

/** The client frames answered by `sent`. */
export type OutgoingFrame = SendFrame | EditFrame | DeleteFrame | ReactFrame;

export interface AckFrame {
  type: 'ack';
  upTo: number;
}

export interface ReadFrame {
  type: 'read';
  serverIds: string[];
}

export interface TypingOutFrame {
  type: 'typing';
  to: string;
  active: boolean;
}

export interface PresenceSubscribeFrame {
  type: 'presence.subscribe';
  users: string[];
}

export interface PingFrame {
  type: 'ping';
}

export type ClientFrame =
  | AuthFrame
  | OutgoingFrame
  | AckFrame
  | ReadFrame
  | TypingOutFrame
  | PresenceSubscribeFrame
  | PingFrame;

// Server -> client: durable events (carry `seq`, wait in the inbox until acked) ----

export interface MessageEvent {
  type: 'message';
  seq: number;
  serverId: string;
  /** The sender's client id. */
  id: string;
  from: string;
  /** The recipient's userId, or the groupId for a group message. */
  to: string;
  ts: number;
  body?: string;
  media?: MediaRef;
  /** The groupId, when the message was sent to a group. */
  group?: string;
  /** v2: the serverId of the message this one answers. */
  replyTo?: string;
  /** v2: seconds after `ts` at which every copy disappears. */
  expiresIn?: number;
}

/** v2: what every action on an earlier message carries. */
interface ActionEventFields {
  seq: number;
  serverId: string;
  /** The actor's client id. */
  id: string;
  /** Who acted. */
  from: string;
  /** The conversation, as the actor addressed it: a userId (the other side of a 1:1) or a groupId. */
  to: string;
  ts: number;
  /** The serverId of the message acted on. */
  target: string;
  group?: string;
}

/** v2: the author edited `target`; `body` is its new text. */
export interface EditEvent extends ActionEventFields {
  type: 'edit';
  body: string;
}

/** v2: the author deleted `target` for everyone. */
export interface DeleteEvent extends ActionEventFields {
  type: 'delete';
}

/** v2: `from` reacted to `target` with `emoji`, replacing its earlier reaction; `""` takes it back. */
export interface ReactionEvent extends ActionEventFields {
  type: 'reaction';
  emoji: string;
}

export type ActionEvent = EditEvent | DeleteEvent | ReactionEvent;

export type ReceiptStatus = 'delivered' | 'read';

export interface ReceiptEvent {
  type: 'receipt';
  seq: number;
  status: ReceiptStatus;
  serverIds: string[];
  /** The user whose device acked or read; your own userId for a read on another of your devices. */
  by: string;
  /** Which of `by`'s devices it was (v2 servers). */
  deviceId?: number;
  ts: number;
}

/**
 * A change of a group's membership. Not part of the v1 contract's text: a server extension
 * the server may send; every field but `type` and `seq` may be absent.
 */
export interface GroupEvent {
  type: 'group';
  seq: number;
  groupId?: string;
  change?: string;
  users?: string[];
  by?: string;
  name?: string;
  members?: string[];
  admins?: string[];
  ts?: number;
  [extra: string]: unknown;
}

export type DurableEvent = MessageEvent | ReceiptEvent | GroupEvent | ActionEvent;

// Server -> client: ephemeral frames -------------------------------------------------

export interface ReadyFrame {
  type: 'ready';
  userId: string;
  /** This device: 1 for the primary, 2 and up for linked devices (v2 servers). */
  deviceId?: number;
  serverTime: number;
  /** The largest frame the server accepts (this server's addition; absent from others). */
  maxFrameBytes?: number;
}

export interface SentFrame {
  type: 'sent';
  id: string;
  serverId: string;
  ts: number;
}

export interface PongFrame {
  type: 'pong';
}

export interface TypingEvent {
  type: 'typing';
  from: string;
  to: string;
  active: boolean;
}

export interface PresenceEvent {
  type: 'presence';
  user: string;
  online: boolean;
  /** Present when offline. */
  lastSeen?: number;
}

export interface ErrorFrame {
  type: 'error';
  /** The client id the error concerns, if any. */
  ref?: string;
  code: string;
  message: string;
}

/** A frame whose `type` this SDK does not know (the server may add frame types). */
export interface UnknownServerFrame {
  type: string;
  seq?: number;
  [extra: string]: unknown;
}

export type KnownServerFrame =
  | DurableEvent
  | ReadyFrame
  | SentFrame
  | PongFrame
  | TypingEvent
  | PresenceEvent
  | ErrorFrame;

export type ServerFrame = KnownServerFrame | UnknownServerFrame;

/** The answer to a `send`: the message is stored durably for every recipient (first tick). */
export interface SentAnswer {
  id: string;
  serverId: string;
  ts: number;
}

/** Parses one text frame; `undefined` when it is not a JSON object with a string `type`. */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // A malformed frame is reported by the caller (it gets `undefined`); nothing to recover here.
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (typeof (value as { type?: unknown }).type !== 'string') return undefined;
  return value as ServerFrame;
}

/** True for frames the server keeps in the inbox until acked: they carry a numeric `seq`. */
export function isDurable(frame: ServerFrame): frame is DurableEvent | (UnknownServerFrame & { seq: number }) {
  return typeof (frame as { seq?: unknown }).seq === 'number' && Number.isFinite((frame as { seq: number }).seq);
}

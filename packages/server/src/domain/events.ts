/** Durable events: they wait in a device's inbox until the device acks them. Shapes follow the wire contract. */

export interface MediaRef {
  hash: string;
  mime: string;
  size: number;
  thumbnail?: string;
  caption?: string;
}

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
  group?: string;
  /** The serverId of the message this one answers; passed through unchecked. */
  replyTo?: string;
  /** Seconds after `ts` at which the message disappears: undelivered copies are deleted, clients delete theirs. */
  expiresIn?: number;
}

/** What every action on an earlier message carries: it is sent like a message, to the same `to`. */
interface ActionFields {
  seq: number;
  serverId: string;
  /** The sender's client id. */
  id: string;
  from: string;
  /** The userId or groupId of the conversation, as the action was sent. */
  to: string;
  ts: number;
  /** The serverId of the message acted on. */
  target: string;
  /** The groupId, when the conversation is a group. */
  group?: string;
}

/** The author replaced the text of `target` with `body`. */
export interface EditEvent extends ActionFields {
  type: 'edit';
  body: string;
}

/** The author deleted `target` for everyone. */
export interface DeleteEvent extends ActionFields {
  type: 'delete';
}

/** `from` reacted to `target` with `emoji` (one grapheme), or took its reaction back (`""`). */
export interface ReactionEvent extends ActionFields {
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
  by: string;
  /** The device of `by` whose ack or read gave the receipt (v2). */
  deviceId?: number;
  ts: number;
}

export type GroupChange = 'created' | 'members_added' | 'members_removed' | 'admins_added';

/** A change of a group's membership, told to every member it concerns (the removed ones included). */
export interface GroupEvent {
  type: 'group';
  seq: number;
  groupId: string;
  change: GroupChange;
  /** The members the change is about (added, removed or promoted; everyone for `created`). */
  users: string[];
  by: string;
  name: string;
  members: string[];
  admins: string[];
  ts: number;
}

export type DurableEvent = MessageEvent | ReceiptEvent | GroupEvent | ActionEvent;

/** An event before the store gives it its place (`seq`) in one inbox. */
export type NewEvent = DistributiveOmit<DurableEvent, 'seq'>;

/** An action before the store gives it its `seq`. */
export type NewActionEvent = DistributiveOmit<ActionEvent, 'seq'>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * One event for the inboxes of every device of `userId` (as the store finds them when it
 * commits), except `exceptDevice`: the device an action came from never gets its own echo.
 */
export interface InboxEntry {
  userId: string;
  event: NewEvent;
  exceptDevice?: number;
}

/** Where an event landed: the inbox (user and device) and the event with its `seq`. */
export interface Appended {
  userId: string;
  deviceId: number;
  event: DurableEvent;
}

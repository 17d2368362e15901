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
}

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

export type DurableEvent = MessageEvent | ReceiptEvent | GroupEvent;

/** An event before the store gives it its place (`seq`) in one inbox. */
export type NewEvent = DistributiveOmit<DurableEvent, 'seq'>;

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

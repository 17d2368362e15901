import type { InboxEntry, NewEvent, ReceiptStatus } from '../../domain/events.js';

/**
 * What both store adapters agree on when they turn user-addressed entries into device inboxes;
 * how they look the devices up and write the rows is theirs.
 */

/** One event for one device's inbox. */
export interface DeviceEntry {
  userId: string;
  deviceId: number;
  event: NewEvent;
  /** A copy of the inbox owner's own message, sent from another of its devices: gives no receipts. */
  own: boolean;
}

/**
 * The entries of a send (or of an action on a message): the event for every device of each
 * recipient and for the sender's other devices. A note to oneself reaches every device of the
 * sender, the sending one too, as it did before devices (and it is received, not an own copy).
 */
export function audienceEntries(event: NewEvent & { from: string }, recipients: string[], fromDevice: number): InboxEntry[] {
  const users = new Set(recipients);
  const entries: InboxEntry[] = [...users].map((userId) => ({ userId, event }));
  if (!users.has(event.from)) entries.push({ userId: event.from, event, exceptDevice: fromDevice });
  return entries;
}

/**
 * Spreads each entry over the devices of its user, in the order given, devices in id order.
 * `devicesOf` answers a user's device ids (empty for an unknown user, which fails the write).
 */
export function spreadOverDevices(entries: readonly InboxEntry[], devicesOf: (userId: string) => readonly number[]): DeviceEntry[] {
  const out: DeviceEntry[] = [];
  for (const { userId, event, exceptDevice } of entries) {
    const devices = devicesOf(userId);
    if (devices.length === 0) throw new UnknownInboxError(userId);
    const own = event.type === 'message' && event.from === userId && event.to !== userId;
    for (const deviceId of devices) {
      if (deviceId !== exceptDevice) out.push({ userId, deviceId, event, own });
    }
  }
  return out;
}

/** An entry for a user without an account: the adapters turn it into `unknown_user`. */
export class UnknownInboxError extends Error {
  constructor(readonly userId: string) {
    super(`${userId} has no account`);
  }
}

/**
 * The receipts one ack or read gives: one per sender, to every device of the sender, senders in
 * the order of their first message; and for a read, the same news to the reader's other devices
 * ("you read these elsewhere").
 */
export function receiptEntries(
  status: ReceiptStatus,
  by: { userId: string; deviceId: number },
  pairs: Iterable<{ sender: string; serverId: string }>,
  ts: number,
): InboxEntry[] {
  const bySender = new Map<string, string[]>();
  for (const { sender, serverId } of pairs) {
    const list = bySender.get(sender);
    if (list === undefined) bySender.set(sender, [serverId]);
    else list.push(serverId);
  }
  const receipt = (serverIds: string[]): NewEvent => ({ type: 'receipt', status, serverIds, by: by.userId, deviceId: by.deviceId, ts });
  const entries: InboxEntry[] = [...bySender].map(([sender, serverIds]) => ({ userId: sender, event: receipt(serverIds) }));
  if (status === 'read' && bySender.size > 0) {
    const all = [...bySender.values()].flat();
    entries.push({ userId: by.userId, event: receipt(all), exceptDevice: by.deviceId });
  }
  return entries;
}

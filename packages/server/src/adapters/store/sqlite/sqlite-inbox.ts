import type { DeviceAddress } from '../../../domain/device.js';
import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewEvent } from '../../../domain/events.js';
import { CourierError } from '../../../domain/errors.js';
import type { SendResult } from '../../../ports/store.js';
import { messageEntries, receiptEntries, spreadOverDevices, UnknownInboxError, type DeviceEntry } from '../inbox-targets.js';
import type { SqliteStatements } from './sqlite-statements.js';

/**
 * The inbox operations, synchronous: each is meant to run inside a transaction (a group commit
 * job), so a throw undoes all it did.
 */
export class SqliteInbox {
  constructor(private readonly q: SqliteStatements) {}

  sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[], fromDevice: number): SendResult {
    const first = this.q.firstSend.get(message.from, message.id);
    if (first) return { serverId: first.serverId, ts: first.ts, duplicate: true, appended: [] };
    this.q.rememberSend.run(message.from, message.id, message.serverId, message.ts);
    const appended = this.append(messageEntries(message, recipients, fromDevice));
    return { serverId: message.serverId, ts: message.ts, duplicate: false, appended };
  }

  append(entries: InboxEntry[]): Appended[] {
    const devices = new Map<string, number[]>();
    const devicesOf = (userId: string) => {
      let ids = devices.get(userId);
      if (ids === undefined) devices.set(userId, (ids = this.q.deviceIds.all(userId)));
      return ids;
    };
    let spread: DeviceEntry[];
    try {
      spread = spreadOverDevices(entries, devicesOf);
    } catch (err) {
      if (err instanceof UnknownInboxError) throw new CourierError('unknown_user', err.message, 404);
      throw err;
    }
    // Fan-out stores one event in many inboxes: it is serialized once.
    const payloads = new Map<NewEvent, { payload: string; stored: NewEvent }>();
    return spread.map((entry) => {
      let serialized = payloads.get(entry.event);
      if (serialized === undefined) {
        const payload = JSON.stringify(entry.event);
        // Parsed back once so that what we answer is exactly what readInbox will give (no undefined keys).
        payloads.set(entry.event, (serialized = { payload, stored: JSON.parse(payload) as NewEvent }));
      }
      return this.#insert(entry, serialized.payload, serialized.stored);
    });
  }

  ackUpTo(device: DeviceAddress, upTo: number, now: number): Appended[] {
    const delivered: { sender: string; serverId: string }[] = [];
    for (const row of this.q.ackedMessages.all(device.userId, device.deviceId, upTo)) {
      if (this.q.markDelivered.get(device.userId, row.serverId, row.sender, now) !== undefined) delivered.push(row);
    }
    this.q.deleteUpTo.run(device.userId, device.deviceId, upTo);
    return this.append(receiptEntries('delivered', device, delivered, now));
  }

  markRead(reader: DeviceAddress, serverIds: string[], now: number): Appended[] {
    const read: { sender: string; serverId: string }[] = [];
    for (const serverId of new Set(serverIds)) {
      const sender = this.q.trackedSender.get(reader.userId, serverId) ?? this.q.receivedFrom.get(reader.userId, serverId);
      if (sender === undefined) continue;
      if (this.q.markReadOnce.get(reader.userId, serverId, sender, now) !== undefined) read.push({ sender, serverId });
    }
    return this.append(receiptEntries('read', reader, read, now));
  }

  #insert(entry: DeviceEntry, payload: string, stored: NewEvent): Appended {
    const { userId, deviceId, event } = entry;
    const seq = this.q.nextSeq.get(userId, deviceId);
    if (seq === undefined) throw new CourierError('unknown_user', `${userId} has no device ${deviceId}`, 404);
    const message = event.type === 'message' ? event : undefined;
    this.q.insertEvent.run(
      userId,
      deviceId,
      seq,
      event.type,
      message?.from ?? null,
      message?.serverId ?? null,
      message?.media?.hash ?? null,
      entry.own ? 1 : 0,
      event.ts,
      payload,
    );
    return { userId, deviceId, event: { ...stored, seq } as DurableEvent };
  }
}

/** An event read back from its row. */
export function storedEvent(seq: number, payload: string): DurableEvent {
  return { ...(JSON.parse(payload) as NewEvent), seq } as DurableEvent;
}

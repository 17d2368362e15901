import type { DeviceAddress } from '../../../domain/device.js';
import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewEvent } from '../../../domain/events.js';
import { CourierError } from '../../../domain/errors.js';
import type { SendResult } from '../../../ports/store.js';
import { audienceEntries, receiptEntries, spreadOverDevices, UnknownInboxError, type DeviceEntry } from '../inbox-targets.js';
import type { DeviceLists } from './sqlite-device-lists.js';
import type { SeqCounters } from './sqlite-seq-counters.js';
import type { SqliteStatements } from './sqlite-statements.js';

/** Where a write put one event: the inbox (user, device) and the event's seq there. */
export type Placement = [userId: string, deviceId: number, seq: number];

/**
 * A send as the store answers it without the events: the caller, who holds the event, rebuilds
 * them (see withEvents). Crossing from the worker thread, this is a few numbers and ids per
 * inbox instead of a copy of the message per inbox.
 */
export interface PlacedSend {
  serverId: string;
  ts: number;
  duplicate: boolean;
  placed: Placement[];
}

/** One event written to a run of inboxes, with the seq it got in each. */
interface WrittenRun {
  run: DeviceEntry[];
  seqs: number[];
  payload: string;
}

type Pair = { sender: string; serverId: string };

/** One device's cumulative ack, as ackAll takes several at once. */
export interface AckRequest {
  device: DeviceAddress;
  upTo: number;
  now: number;
}

/** A row of the insertEvents statement. */
type EventRow = [string, number, number, number, string, string | null, string | null, string | null, number, string];

/**
 * The inbox operations, synchronous: each is meant to run inside a transaction (a group commit
 * job), so a throw undoes all it did. Entries addressed to users are spread over their devices
 * (see inbox-targets.ts, the device ids from DeviceLists); seqs come from SeqCounters; an event bound for many inboxes (a message
 * to several devices, a group change) is written by one statement.
 */
export class SqliteInbox {
  constructor(
    private readonly q: SqliteStatements,
    private readonly seqs: SeqCounters,
    private readonly devices: DeviceLists,
  ) {}

  sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[], fromDevice: number): PlacedSend {
    // A 1:1 recipient who blocked the sender gets nothing, and no action on the message either.
    const kept = [...new Set(recipients)].filter((userId) => message.group !== undefined || this.#acceptsFrom(userId, message.from));
    return this.fanOut({ type: 'message', ...message }, kept, fromDevice, () => {
      const expiresAt = message.expiresIn === undefined ? null : message.ts + message.expiresIn * 1000;
      this.q.rememberFacts.run(message.serverId, message.from, message.to, JSON.stringify(kept), message.ts, expiresAt);
      if (message.media !== undefined) for (const userId of kept) this.q.grantMedia.run(message.media.hash, userId, 0, message.ts);
    });
  }

  /** A 1:1 recipient: false when it blocked the sender; otherwise the two are contacts from now on. */
  #acceptsFrom(recipient: string, sender: string): boolean {
    if (this.q.blocks.get(recipient, sender) !== undefined) return false;
    this.q.addContact.run(...contactPair(recipient, sender));
    return true;
  }

  append(entries: InboxEntry[]): Appended[] {
    return this.appendEach([entries])[0]!;
  }

  /** Appends several lists of entries in one go (their single-inbox rows in one statement); answers each list's appended events. */
  appendEach(lists: InboxEntry[][]): Appended[][] {
    return this.#write(lists).map((written) => {
      const appended: Appended[] = [];
      for (const { run, seqs, payload } of written) {
        // Parsed back once per event, so that what we answer is exactly what readInbox will give.
        const stored = JSON.parse(payload) as NewEvent;
        run.forEach(({ userId, deviceId }, i) => appended.push({ userId, deviceId, event: { seq: seqs[i]!, ...stored } as DurableEvent }));
      }
      return appended;
    });
  }

  /** Like append, but answers only where each event went. */
  place(entries: InboxEntry[]): Placement[] {
    const placed: Placement[] = [];
    for (const { run, seqs } of this.#write([entries])[0]!) run.forEach(({ userId, deviceId }, i) => placed.push([userId, deviceId, seqs[i]!]));
    return placed;
  }

  #write(lists: InboxEntry[][]): WrittenRun[][] {
    const single: EventRow[] = [];
    const written = lists.map((entries) => {
      let spread: DeviceEntry[];
      try {
        spread = spreadOverDevices(entries, (userId) => this.devices.of(userId));
      } catch (err) {
        if (err instanceof UnknownInboxError) throw new CourierError('unknown_user', err.message, 404);
        throw err;
      }
      // A run of entries that share one event object (a message to several devices, a group change
      // told to every member) is one insert; the order of the entries is kept.
      const runs: WrittenRun[] = [];
      for (let start = 0; start < spread.length; ) {
        const event = spread[start]!.event;
        let end = start + 1;
        while (end < spread.length && spread[end]!.event === event) end++;
        const run = spread.slice(start, end);
        const payload = JSON.stringify(event);
        runs.push({ run, seqs: this.#insert(run, event, payload, single), payload });
        start = end;
      }
      return runs;
    });
    // Events bound for one inbox each (receipts of many acks, say) go in together.
    if (single.length === 1) this.q.insertEvent.run(...reorder(single[0]!));
    else if (single.length > 1) this.q.insertEvents.run(JSON.stringify(single));
    return written;
  }

  ackUpTo(device: DeviceAddress, upTo: number, now: number): Appended[] {
    return this.ackAll([{ device, upTo, now }])[0]!;
  }

  /**
   * Several devices' acks in one go (ackUpTo for each, in order): a delete per device, then one
   * statement records the deliveries of all and one insert holds all their receipts. Answers the
   * receipts of each ack.
   */
  ackAll(acks: readonly AckRequest[]): Appended[][] {
    const received = acks.map(({ device, upTo }) => {
      const pairs: Pair[] = [];
      for (const row of this.q.deleteUpTo.all(device.userId, device.deviceId, upTo)) {
        if (row.kind !== 'message' || row.own || row.sender === null || row.serverId === null) continue;
        pairs.push({ sender: row.sender, serverId: row.serverId });
      }
      return pairs;
    });
    const rows: [string, string, string, number][] = [];
    acks.forEach(({ device, now }, i) => {
      for (const { sender, serverId } of received[i]!) rows.push([device.userId, serverId, sender, now]);
    });
    if (rows.length === 0) return acks.map(() => []);
    // Only the first device of the user to ack a message gives its delivered receipt: the statement
    // answers the messages it delivered first, and of two acks of one user in this batch, the
    // earlier takes it (Set.delete answers true once).
    const first = new Set(this.q.markDelivered.all(JSON.stringify(rows)).map(({ recipient, serverId }) => `${recipient}\n${serverId}`));
    return this.appendEach(
      acks.map(({ device, now }, i) =>
        receiptEntries('delivered', device, received[i]!.filter(({ serverId }) => first.delete(`${device.userId}\n${serverId}`)), now),
      ),
    );
  }

  markRead(reader: DeviceAddress, serverIds: string[], now: number): Appended[] {
    const read: Pair[] = [];
    for (const serverId of new Set(serverIds)) {
      const sender = this.q.trackedSender.get(reader.userId, serverId) ?? this.q.receivedFrom.get(reader.userId, serverId);
      if (sender === undefined) continue;
      if (this.q.markReadOnce.get(reader.userId, serverId, sender, now) !== undefined) read.push({ sender, serverId });
    }
    return this.append(receiptEntries('read', reader, read, now));
  }

  /**
   * Claims the event's (sender, client id) and appends it to every device of every recipient and
   * to the sender's other devices, after `alsoDo` (which runs only for a first use of the id). A
   * repeat appends nothing.
   */
  fanOut(
    event: Extract<NewEvent, { serverId: string; id: string; from: string; to: string }>,
    recipients: string[],
    fromDevice: number,
    alsoDo: () => void,
  ): PlacedSend {
    if (this.q.rememberSend.run(event.from, event.id, event.serverId, event.ts).changes === 0) {
      const first = this.q.firstSend.get(event.from, event.id)!;
      return { serverId: first.serverId, ts: first.ts, duplicate: true, placed: [] };
    }
    alsoDo();
    const placed = this.place(audienceEntries(event, recipients, fromDevice));
    return { serverId: event.serverId, ts: event.ts, duplicate: false, placed };
  }

  /**
   * Appends one event to the inboxes of `run` (devices), in that order; answers their seqs. A run
   * of one inbox becomes a row of `single`, which the caller inserts with the others.
   */
  #insert(run: DeviceEntry[], event: NewEvent, payload: string, single: EventRow[]): number[] {
    // Every seq is taken before anything is written: an unknown device throws before any insert.
    const seqs = run.map((entry) => this.seqs.next(entry));
    const message = event.type === 'message' ? event : undefined;
    const sender = message?.from ?? null;
    const serverId = message?.serverId ?? null;
    const mediaHash = message?.media?.hash ?? null;
    if (run.length === 1) {
      const { userId, deviceId, own } = run[0]!;
      single.push([userId, deviceId, seqs[0]!, own ? 1 : 0, event.type, sender, serverId, mediaHash, event.ts, payload]);
    } else if (run.length > 1) {
      const rows = JSON.stringify(run.map((entry, i) => [entry.userId, entry.deviceId, seqs[i], entry.own ? 1 : 0]));
      this.q.insertEventMany.run(event.type, sender, serverId, mediaHash, event.ts, payload, rows);
    }
    return seqs;
  }
}

/** An EventRow in the order of the insertEvent statement's parameters. */
function reorder([userId, deviceId, seq, own, kind, sender, serverId, mediaHash, ts, payload]: EventRow) {
  return [userId, deviceId, seq, kind, sender, serverId, mediaHash, own, ts, payload] as const;
}

/** A placed send with its events, as the Store port answers it: `event` is what was stored. */
export function withEvents(event: NewEvent, send: PlacedSend): SendResult {
  const appended: Appended[] = [];
  for (const [userId, deviceId, seq] of send.placed) appended.push({ userId, deviceId, event: { seq, ...event } as DurableEvent });
  return { serverId: send.serverId, ts: send.ts, duplicate: send.duplicate, appended };
}

/** An event read back from its row. */
export function storedEvent(seq: number, payload: string): DurableEvent {
  return { seq, ...(JSON.parse(payload) as NewEvent) } as DurableEvent;
}

/** A pair of users in the order the contacts table keeps it. */
export function contactPair(a: string, b: string): [string, string] {
  return a < b ? [a, b] : [b, a];
}

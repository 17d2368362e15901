import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewEvent, ReceiptStatus } from '../../../domain/events.js';
import type { SendResult } from '../../../ports/store.js';
import type { SeqCounters } from './sqlite-seq-counters.js';
import type { SqliteStatements } from './sqlite-statements.js';

/** An event serialised once, however many inboxes it goes to. */
interface Serialised {
  event: NewEvent;
  payload: string;
  /** Parsed back once, so that what we answer is exactly what readInbox will give (no undefined keys). */
  stored: NewEvent;
}

/**
 * The inbox operations, synchronous: each is meant to run inside a transaction (a group commit
 * job), so a throw undoes all it did. Seqs come from SeqCounters; an event bound for many
 * inboxes (a group message, a group change) is written by one statement.
 */
export class SqliteInbox {
  constructor(
    private readonly q: SqliteStatements,
    private readonly seqs: SeqCounters,
  ) {}

  sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[]): SendResult {
    return this.fanOut({ type: 'message', ...message }, recipients, () => {
      const expiresAt = message.expiresIn === undefined ? null : message.ts + message.expiresIn * 1000;
      const to = JSON.stringify([...new Set(recipients)]);
      this.q.rememberFacts.run(message.serverId, message.from, message.to, to, message.ts, expiresAt);
    });
  }

  append(entries: InboxEntry[]): Appended[] {
    // A run of entries that share one event object (a group change told to every member) is
    // one insert; the order of the entries is kept.
    const appended: Appended[] = [];
    for (let start = 0; start < entries.length; ) {
      const event = entries[start]!.event;
      let end = start + 1;
      while (end < entries.length && entries[end]!.event === event) end++;
      const users = entries.slice(start, end).map((entry) => entry.userId);
      appended.push(...this.#insert(users, serialise(event)));
      start = end;
    }
    return appended;
  }

  ackUpTo(userId: string, upTo: number, now: number): Appended[] {
    const delivered = new Map<string, string[]>();
    const unread: Array<[string, string]> = [];
    for (const row of this.q.deleteUpTo.all(userId, upTo)) {
      if (row.kind !== 'message' || row.sender === null || row.serverId === null) continue;
      addTo(delivered, row.sender, row.serverId);
      // Only a message not read yet can still get a read receipt, so only it is remembered.
      if (!row.read) unread.push([row.serverId, row.sender]);
    }
    if (unread.length > 0) this.q.trackDelivered.run(userId, now, JSON.stringify(unread));
    return this.#receipts('delivered', delivered, userId, now);
  }

  markRead(reader: string, serverIds: string[], now: number): Appended[] {
    const read = new Map<string, string[]>();
    for (const serverId of new Set(serverIds)) {
      const pending = this.q.messageInInbox.get(reader, serverId);
      if (pending) {
        if (pending.read) continue;
        this.q.markInboxRead.run(reader, pending.seq);
        addTo(read, pending.sender, serverId);
        continue;
      }
      const delivered = this.q.tracked.get(reader, serverId);
      if (!delivered || delivered.read) continue;
      this.q.markTrackedRead.run(reader, serverId);
      addTo(read, delivered.sender, serverId);
    }
    return this.#receipts('read', read, reader, now);
  }

  /**
   * Claims the event's (sender, client id) and appends it to every recipient's inbox, after
   * `alsoDo` (which runs only for a first use of the id). A repeat appends nothing.
   */
  fanOut(event: Extract<NewEvent, { serverId: string; id: string; from: string }>, recipients: string[], alsoDo: () => void): SendResult {
    if (this.q.rememberSend.run(event.from, event.id, event.serverId, event.ts).changes === 0) {
      const first = this.q.firstSend.get(event.from, event.id)!;
      return { serverId: first.serverId, ts: first.ts, duplicate: true, appended: [] };
    }
    alsoDo();
    const appended = this.#insert([...new Set(recipients)], serialise(event));
    return { serverId: event.serverId, ts: event.ts, duplicate: false, appended };
  }

  #receipts(status: ReceiptStatus, bySender: Map<string, string[]>, by: string, ts: number): Appended[] {
    const appended: Appended[] = [];
    for (const [sender, serverIds] of bySender) {
      appended.push(...this.#insert([sender], serialise({ type: 'receipt', status, serverIds, by, ts })));
    }
    return appended;
  }

  /** Appends one event to the inboxes of `userIds`, in that order. */
  #insert(userIds: string[], { event, payload, stored }: Serialised): Appended[] {
    // Every seq is taken before anything is written: an unknown user throws before any insert.
    const seqs = userIds.map((userId) => this.seqs.next(userId));
    const message = event.type === 'message' ? event : undefined;
    const sender = message?.from ?? null;
    const serverId = message?.serverId ?? null;
    const mediaHash = message?.media?.hash ?? null;
    if (userIds.length === 1) {
      this.q.insertEvent.run(userIds[0]!, seqs[0]!, event.type, sender, serverId, mediaHash, event.ts, payload);
    } else if (userIds.length > 1) {
      const rows = JSON.stringify(userIds.map((userId, i) => [userId, seqs[i]]));
      this.q.insertEventMany.run(event.type, sender, serverId, mediaHash, event.ts, payload, rows);
    }
    return userIds.map((userId, i) => ({ userId, event: { ...stored, seq: seqs[i]! } as DurableEvent }));
  }
}

function serialise(event: NewEvent): Serialised {
  const payload = JSON.stringify(event);
  return { event, payload, stored: JSON.parse(payload) as NewEvent };
}

/** An event read back from its row. */
export function storedEvent(seq: number, payload: string): DurableEvent {
  return { ...(JSON.parse(payload) as NewEvent), seq } as DurableEvent;
}

function addTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

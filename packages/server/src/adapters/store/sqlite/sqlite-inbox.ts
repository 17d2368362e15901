import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewEvent, ReceiptStatus } from '../../../domain/events.js';
import { CourierError } from '../../../domain/errors.js';
import type { SendResult } from '../../../ports/store.js';
import type { SqliteStatements } from './sqlite-statements.js';

/**
 * The inbox operations, synchronous: each is meant to run inside a transaction (a group commit
 * job), so a throw undoes all it did.
 */
export class SqliteInbox {
  constructor(private readonly q: SqliteStatements) {}

  sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[]): SendResult {
    return this.fanOut({ type: 'message', ...message }, recipients, () => {
      const expiresAt = message.expiresIn === undefined ? null : message.ts + message.expiresIn * 1000;
      const to = JSON.stringify([...new Set(recipients)]);
      this.q.rememberFacts.run(message.serverId, message.from, message.to, to, message.ts, expiresAt);
    });
  }

  append(entries: InboxEntry[]): Appended[] {
    return entries.map(({ userId, event }) => {
      const payload = JSON.stringify(event);
      return this.#insert(userId, event, payload, JSON.parse(payload) as NewEvent);
    });
  }

  ackUpTo(userId: string, upTo: number, now: number): Appended[] {
    const delivered = new Map<string, string[]>();
    for (const row of this.q.ackedMessages.all(userId, upTo)) {
      this.q.trackDelivered.run(userId, row.serverId, row.sender, row.read, now);
      addTo(delivered, row.sender, row.serverId);
    }
    this.q.deleteUpTo.run(userId, upTo);
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
    const first = this.q.firstSend.get(event.from, event.id);
    if (first) return { serverId: first.serverId, ts: first.ts, duplicate: true, appended: [] };
    this.q.rememberSend.run(event.from, event.id, event.serverId, event.ts);
    alsoDo();
    const payload = JSON.stringify(event);
    // Parsed back once so that what we answer is exactly what readInbox will give (no undefined keys).
    const stored = JSON.parse(payload) as NewEvent;
    const appended = [...new Set(recipients)].map((userId) => this.#insert(userId, event, payload, stored));
    return { serverId: event.serverId, ts: event.ts, duplicate: false, appended };
  }

  #receipts(status: ReceiptStatus, bySender: Map<string, string[]>, by: string, ts: number): Appended[] {
    return this.append(
      [...bySender].map(([sender, serverIds]) => ({
        userId: sender,
        event: { type: 'receipt', status, serverIds, by, ts },
      })),
    );
  }

  #insert(userId: string, event: NewEvent, payload: string, stored: NewEvent): Appended {
    const seq = this.q.nextSeq.get(userId);
    if (seq === undefined) throw new CourierError('unknown_user', `${userId} has no account`, 404);
    const message = event.type === 'message' ? event : undefined;
    this.q.insertEvent.run(
      userId,
      seq,
      event.type,
      message?.from ?? null,
      message?.serverId ?? null,
      message?.media?.hash ?? null,
      event.ts,
      payload,
    );
    return { userId, event: { ...stored, seq } as DurableEvent };
  }
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

import type { PoolClient } from 'pg';
import { CourierError } from '../../../domain/errors.js';
import type { Appended, DurableEvent, InboxEntry, NewEvent } from '../../../domain/events.js';

/**
 * Gives each entry the next seq of its inbox, in the order given, and stores them all, in the
 * caller's transaction, with a constant number of statements whatever the number of entries.
 *
 * Every inbox must belong to an account. The counters (accounts.last_seq) are locked in a fixed
 * order (by user id), so that transactions touching overlapping inboxes queue instead of
 * deadlocking; the row locks last until commit, which is what makes seq order within an inbox
 * equal commit order.
 */
export async function appendToInboxes(client: PoolClient, entries: readonly InboxEntry[]): Promise<Appended[]> {
  if (entries.length === 0) return [];

  const counts = new Map<string, number>();
  for (const { userId } of entries) counts.set(userId, (counts.get(userId) ?? 0) + 1);
  const next = await reserveSeqs(client, counts);

  const users: string[] = [];
  const seqs: number[] = [];
  const eventIndexes: number[] = [];
  const events = new EventTable();
  const appended: Appended[] = [];
  for (const { userId, event } of entries) {
    const seq = next.get(userId) as number;
    next.set(userId, seq + 1);
    users.push(userId);
    seqs.push(seq);
    const index = events.indexOf(event);
    eventIndexes.push(index);
    appended.push({ userId, event: withSeq(events.stored(index), seq) });
  }

  // Fan-out stores the same event in many inboxes: each distinct payload travels once, and rows
  // refer to it by its position (1-based, as WITH ORDINALITY counts).
  await client.query({
    name: 'courier_append_inbox',
    text: `INSERT INTO inbox (user_id, seq, kind, sender, server_id, media_hash, ts, payload)
     SELECT r.user_id, r.seq, e.kind, e.sender, e.server_id, e.media_hash, e.ts, e.payload
     FROM unnest($1::text[], $2::bigint[], $3::int[]) AS r(user_id, seq, ev)
     JOIN unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::text[])
          WITH ORDINALITY AS e(kind, sender, server_id, media_hash, ts, payload, ev) USING (ev)`,
    values: [users, seqs, eventIndexes, ...events.columns()],
  });
  return appended;
}

/**
 * Adds `count` to the counter of each inbox; answers the first seq reserved in each. Fails, and
 * so rolls back the caller's transaction, when an inbox has no account.
 */
async function reserveSeqs(client: PoolClient, counts: Map<string, number>): Promise<Map<string, number>> {
  const users = [...counts.keys()];
  // LockRows runs above the sort: the rows are locked in user id order, the same in every
  // transaction, so two of them needing the same inboxes queue instead of deadlocking.
  const locked = await client.query<{ user_id: string }>({
    name: 'courier_lock_counters',
    text: 'SELECT user_id FROM accounts WHERE user_id = ANY($1::text[]) ORDER BY user_id FOR UPDATE',
    values: [users],
  });
  if (locked.rows.length < users.length) {
    const found = new Set(locked.rows.map((row) => row.user_id));
    const missing = users.filter((userId) => !found.has(userId));
    throw new CourierError('unknown_user', `No account for ${missing.slice(0, 5).join(', ')}`, 404);
  }
  const { rows } = await client.query<{ user_id: string; last_seq: string }>({
    name: 'courier_reserve_seqs',
    text: `UPDATE accounts a SET last_seq = a.last_seq + t.n
     FROM unnest($1::text[], $2::bigint[]) AS t(u, n)
     WHERE a.user_id = t.u
     RETURNING a.user_id, a.last_seq`,
    values: [users, [...counts.values()]],
  });
  const first = new Map<string, number>();
  for (const row of rows) first.set(row.user_id, Number(row.last_seq) - (counts.get(row.user_id) as number) + 1);
  return first;
}

/** The distinct events of one insert, as the column arrays the statement takes. */
class EventTable {
  private readonly byObject = new Map<NewEvent, number>();
  private readonly byPayload = new Map<string, number>();
  private readonly kinds: string[] = [];
  private readonly senders: string[] = [];
  private readonly serverIds: (string | null)[] = [];
  private readonly mediaHashes: (string | null)[] = [];
  private readonly times: number[] = [];
  private readonly payloads: string[] = [];
  private readonly parsed: NewEvent[] = [];

  indexOf(event: NewEvent): number {
    const known = this.byObject.get(event);
    if (known !== undefined) return known;
    const payload = JSON.stringify(event);
    let index = this.byPayload.get(payload);
    if (index === undefined) {
      this.kinds.push(event.type);
      this.senders.push(event.type === 'receipt' || event.type === 'group' ? event.by : event.from);
      this.serverIds.push(event.type === 'message' ? event.serverId : null);
      this.mediaHashes.push(event.type === 'message' ? (event.media?.hash ?? null) : null);
      this.times.push(event.ts);
      this.payloads.push(payload);
      // What a reader will get back (no undefined fields): callers see the same either way.
      this.parsed.push(JSON.parse(payload) as NewEvent);
      index = this.payloads.length;
      this.byPayload.set(payload, index);
    }
    this.byObject.set(event, index);
    return index;
  }

  /** The event at a 1-based index, as it will read back. */
  stored(index: number): NewEvent {
    return this.parsed[index - 1] as NewEvent;
  }

  columns(): unknown[] {
    return [this.kinds, this.senders, this.serverIds, this.mediaHashes, this.times, this.payloads];
  }
}

/** An event as stored, back in its wire shape. */
export function eventFromRow(seq: string | number, payload: string): DurableEvent {
  return withSeq(JSON.parse(payload) as NewEvent, Number(seq));
}

/** A copy of the event with its seq, `type` and `seq` first as on the wire. */
function withSeq(event: NewEvent, seq: number): DurableEvent {
  return Object.assign({ type: event.type, seq }, event, { seq }) as DurableEvent;
}

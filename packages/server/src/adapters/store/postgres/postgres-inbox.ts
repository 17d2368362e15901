import type { PoolClient } from 'pg';
import { deviceKey } from '../../../domain/device.js';
import { CourierError } from '../../../domain/errors.js';
import type { Appended, DurableEvent, InboxEntry, NewEvent } from '../../../domain/events.js';
import { spreadOverDevices, UnknownInboxError, type DeviceEntry } from '../inbox-targets.js';

/**
 * Spreads each entry over the devices its user has (see spreadOverDevices), gives each device
 * inbox the next seqs, in the order given, and stores them all, in the caller's transaction, with
 * a constant number of statements whatever the number of entries. Answers the events appended
 * and, per entry, the range of them it gave.
 *
 * Every entry's user must have an account. The device rows (their seq counters) are locked in a
 * fixed order (user, device), so that transactions touching overlapping inboxes queue instead
 * of deadlocking; the row locks last until commit, which is what makes seq order within an inbox
 * equal commit order, and what keeps a device being removed from getting events meanwhile.
 */
export async function appendToInboxes(
  client: PoolClient,
  entries: readonly InboxEntry[],
): Promise<{ appended: Appended[]; ranges: [number, number][] }> {
  if (entries.length === 0) return { appended: [], ranges: [] };

  const devices = await lockDevices(client, [...new Set(entries.map((entry) => entry.userId))]);
  const ranges: [number, number][] = [];
  const spread: DeviceEntry[] = [];
  for (const entry of entries) {
    const start = spread.length;
    try {
      spread.push(...spreadOverDevices([entry], (userId) => devices.get(userId) ?? []));
    } catch (err) {
      if (err instanceof UnknownInboxError) throw new CourierError('unknown_user', err.message, 404);
      throw err;
    }
    ranges.push([start, spread.length]);
  }
  if (spread.length === 0) return { appended: [], ranges };

  const counts = new Map<string, { userId: string; deviceId: number; n: number }>();
  for (const { userId, deviceId } of spread) {
    const key = deviceKey({ userId, deviceId });
    const count = counts.get(key);
    if (count === undefined) counts.set(key, { userId, deviceId, n: 1 });
    else count.n++;
  }
  const next = await reserveSeqs(client, [...counts.values()]);

  const users: string[] = [];
  const deviceIds: number[] = [];
  const seqs: number[] = [];
  const owns: boolean[] = [];
  const eventIndexes: number[] = [];
  const events = new EventTable();
  const appended: Appended[] = [];
  for (const { userId, deviceId, event, own } of spread) {
    const key = deviceKey({ userId, deviceId });
    const seq = next.get(key) as number;
    next.set(key, seq + 1);
    users.push(userId);
    deviceIds.push(deviceId);
    seqs.push(seq);
    owns.push(own);
    const index = events.indexOf(event);
    eventIndexes.push(index);
    appended.push({ userId, deviceId, event: withSeq(events.stored(index), seq) });
  }

  // Fan-out stores the same event in many inboxes: each distinct payload travels once, and rows
  // refer to it by its position (1-based, as WITH ORDINALITY counts).
  await client.query({
    name: 'courier_append_device_inbox',
    text: `INSERT INTO inbox (user_id, device_id, seq, own, kind, sender, server_id, media_hash, ts, payload)
     SELECT r.user_id, r.device_id, r.seq, r.own, e.kind, e.sender, e.server_id, e.media_hash, e.ts, e.payload
     FROM unnest($1::text[], $2::int[], $3::bigint[], $4::boolean[], $5::int[]) AS r(user_id, device_id, seq, own, ev)
     JOIN unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[])
          WITH ORDINALITY AS e(kind, sender, server_id, media_hash, ts, payload, ev) USING (ev)`,
    values: [users, deviceIds, seqs, owns, eventIndexes, ...events.columns()],
  });
  return { appended, ranges };
}

/** Locks the device rows of these users, in (user, device) order; answers each user's device ids. */
async function lockDevices(client: PoolClient, users: string[]): Promise<Map<string, number[]>> {
  const { rows } = await client.query<{ user_id: string; device_id: number }>({
    name: 'courier_lock_devices',
    text: 'SELECT user_id, device_id FROM devices WHERE user_id = ANY($1::text[]) ORDER BY user_id, device_id FOR UPDATE',
    values: [users],
  });
  const devices = new Map<string, number[]>();
  for (const row of rows) {
    const list = devices.get(row.user_id);
    if (list === undefined) devices.set(row.user_id, [row.device_id]);
    else list.push(row.device_id);
  }
  return devices;
}

/** Adds `n` to the counter of each device inbox (locked already); answers the first seq reserved in each. */
async function reserveSeqs(
  client: PoolClient,
  counts: readonly { userId: string; deviceId: number; n: number }[],
): Promise<Map<string, number>> {
  const { rows } = await client.query<{ user_id: string; device_id: number; last_seq: string }>({
    name: 'courier_reserve_device_seqs',
    text: `UPDATE devices d SET last_seq = d.last_seq + t.n
     FROM unnest($1::text[], $2::int[], $3::bigint[]) AS t(u, dev, n)
     WHERE d.user_id = t.u AND d.device_id = t.dev
     RETURNING d.user_id, d.device_id, d.last_seq`,
    values: [counts.map((c) => c.userId), counts.map((c) => c.deviceId), counts.map((c) => c.n)],
  });
  const wanted = new Map(counts.map((c) => [deviceKey(c), c.n]));
  const first = new Map<string, number>();
  for (const row of rows) {
    const key = deviceKey({ userId: row.user_id, deviceId: row.device_id });
    first.set(key, Number(row.last_seq) - (wanted.get(key) as number) + 1);
  }
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

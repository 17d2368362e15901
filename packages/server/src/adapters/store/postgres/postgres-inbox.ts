import type { PoolClient } from 'pg';
import { deviceKey, type DeviceAddress } from '../../../domain/device.js';
import { CourierError } from '../../../domain/errors.js';
import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewEvent } from '../../../domain/events.js';
import type { SendResult } from '../../../ports/store.js';
import { audienceEntries, receiptEntries, spreadOverDevices, UnknownInboxError, type DeviceEntry } from '../inbox-targets.js';
import { lockDeviceLists } from './postgres-device-lists.js';
import { factColumns } from './postgres-message-actions.js';
import { SeqReservation } from './postgres-seq-counters.js';
import { statements } from './postgres-statements.js';

/**
 * The inbox operations: sends, acks, reads and appends, as jobs of the group commit (see
 * GroupCommit), each batch of them in one transaction with a constant number of statements,
 * whatever the number of jobs and recipients. Entries addressed to users are spread over their
 * devices (see inbox-targets.ts, the device ids from lockDeviceLists); seqs come from the device
 * rows (see reserveSeqs).
 */
export type InboxJob =
  | { kind: 'send'; message: Omit<MessageEvent, 'seq' | 'type'>; recipients: string[]; fromDevice: number }
  | { kind: 'ack'; device: DeviceAddress; upTo: number; now: number }
  | { kind: 'read'; reader: DeviceAddress; serverIds: string[]; now: number }
  | { kind: 'append'; entries: InboxEntry[] };

export type InboxResult = SendResult | Appended[];

/** Rows a job writes, roughly: what bounds a batch. */
export function inboxJobWeight(job: InboxJob): number {
  switch (job.kind) {
    case 'send':
      return Math.max(1, job.recipients.length);
    case 'read':
      return Math.max(1, job.serverIds.length);
    case 'append':
      return Math.max(1, job.entries.length);
    case 'ack':
      return 1;
  }
}

type Pair = { sender: string; serverId: string };

/**
 * Runs a batch of writes in the caller's transaction with a constant number of statements,
 * whatever the number of jobs and recipients: sends and acks take five round trips between
 * BEGIN and COMMIT (claim and screen, record, ack and track, lock devices, reserve and store);
 * reads add two, repeated client ids and media one each. Locks are taken in the same order by every batch (idempotency keys, then
 * contacts and media grants, then acked inbox rows, then read-tracking rows, then device rows,
 * each sorted) so that concurrent batches, on this node or another, queue rather than deadlock.
 *
 * The jobs of one batch were all in flight together, so any order among them is a valid one;
 * this one applies acks before reads (a read of a message acked in the same batch then finds it
 * among the delivered ones), and appends events in job order.
 */
export async function runInboxBatch(client: PoolClient, jobs: readonly InboxJob[]): Promise<InboxResult[]> {
  const { claims, refused } = await claimAndScreen(client, jobs);
  await recordSends(client, jobs, claims, refused);
  const receipts = new Map<number, InboxEntry[]>();
  for (const [index, entries] of await deliverAcked(client, jobs)) receipts.set(index, entries);
  for (const [index, entries] of await markRead(client, jobs)) receipts.set(index, entries);

  const entries: InboxEntry[] = [];
  const ranges: [number, number][] = [];
  jobs.forEach((job, index) => {
    const start = entries.length;
    if (job.kind === 'send') {
      if (!claims.get(index)?.duplicate) {
        // A 1:1 recipient who blocked the sender gets nothing (the sender's other devices still do).
        const direct = job.message.group === undefined;
        const recipients = job.recipients.filter((userId) => !direct || !refused.has(keyOf(userId, job.message.from)));
        entries.push(...audienceEntries({ type: 'message', ...job.message }, recipients, job.fromDevice));
      }
    } else if (job.kind === 'append') {
      entries.push(...job.entries);
    } else {
      entries.push(...(receipts.get(index) ?? []));
    }
    ranges.push([start, entries.length]);
  });

  const { appended, ranges: spread } = await appendToInboxes(client, entries);
  return jobs.map((job, index) => {
    const [start, end] = ranges[index] as [number, number];
    // Entries fan out over devices: the job's events are those of its entries.
    const first = start < end ? (spread[start] as [number, number])[0] : 0;
    const last = start < end ? (spread[end - 1] as [number, number])[1] : 0;
    const mine = appended.slice(first, last);
    if (job.kind !== 'send') return mine;
    const claim = claims.get(index) as Claim;
    return { serverId: claim.serverId, ts: claim.ts, duplicate: claim.duplicate, appended: mine };
  });
}

interface Claim {
  serverId: string;
  ts: number;
  duplicate: boolean;
}

/**
 * Records the (sender, client id) of each send, and answers, per send job, whether it is a
 * repeat; in the same statement, the (recipient, sender) pairs of the batch's 1:1 sends that the
 * recipient blocked (a read, which takes no lock).
 */
async function claimAndScreen(client: PoolClient, jobs: readonly InboxJob[]): Promise<{ claims: Map<number, Claim>; refused: Set<string> }> {
  const claims = new Map<number, Claim>();
  const refused = new Set<string>();
  const firstOfKey = new Map<string, number>();
  const senders: string[] = [];
  const clientIds: string[] = [];
  const serverIds: string[] = [];
  const times: number[] = [];
  const recipients: string[] = [];
  const directSenders: string[] = [];
  jobs.forEach((job, index) => {
    if (job.kind !== 'send') return;
    const key = keyOf(job.message.from, job.message.id);
    if (firstOfKey.has(key)) return;
    firstOfKey.set(key, index);
    senders.push(job.message.from);
    clientIds.push(job.message.id);
    serverIds.push(job.message.serverId);
    times.push(job.message.ts);
    if (job.message.group !== undefined) return;
    for (const recipient of job.recipients) {
      recipients.push(recipient);
      directSenders.push(job.message.from);
    }
  });
  if (senders.length === 0) return { claims, refused };

  const fresh = new Set<string>();
  for (const row of await statements.claimKeysAndScreen.rows(client, senders, clientIds, serverIds, times, recipients, directSenders)) {
    (row.claimed ? fresh : refused).add(keyOf(row.a, row.b));
  }
  const earlier = new Map<string, Claim>();
  if (fresh.size < senders.length) {
    // Keys already used: the first send's answer is in the table (committed, since ON CONFLICT
    // waited for any transaction still writing it).
    for (const row of await statements.earlierAnswers.rows(client, senders, clientIds)) {
      const key = keyOf(row.sender, row.client_id);
      if (!fresh.has(key)) earlier.set(key, { serverId: row.server_id, ts: Number(row.ts), duplicate: true });
    }
  }

  jobs.forEach((job, index) => {
    if (job.kind !== 'send') return;
    const key = keyOf(job.message.from, job.message.id);
    const first = jobs[firstOfKey.get(key) as number] as Extract<InboxJob, { kind: 'send' }>;
    if (fresh.has(key)) {
      const duplicate = firstOfKey.get(key) !== index;
      claims.set(index, { serverId: first.message.serverId, ts: first.message.ts, duplicate });
      return;
    }
    const claim = earlier.get(key);
    // Only a sweep between the two statements above could get here; the job is retried alone.
    if (claim === undefined) throw new Error(`idempotency key of ${key} vanished during the send`);
    claims.set(index, claim);
  });
  return { claims, refused };
}

/**
 * For the new sends of the batch: records their facts (for later actions on them), the pairs of
 * 1:1 sends as contacts, and the media each recipient may fetch; a recipient who blocked the
 * sender gets none of it. Rows are inserted sorted, so concurrent batches queue on them in one
 * order; the facts rows are new keys (fresh server ids), which no other transaction waits for.
 */
async function recordSends(client: PoolClient, jobs: readonly InboxJob[], claims: Map<number, Claim>, refused: Set<string>): Promise<void> {
  const sends: { message: Omit<MessageEvent, 'seq' | 'type'>; recipients: string[] }[] = [];
  const pairs: [string, string][] = [];
  const hashes: string[] = [];
  const users: string[] = [];
  const times: number[] = [];
  jobs.forEach((job, index) => {
    if (job.kind !== 'send' || claims.get(index)?.duplicate !== false) return;
    const direct = job.message.group === undefined;
    const from = job.message.from;
    const recipients = direct ? job.recipients.filter((userId) => !refused.has(keyOf(userId, from))) : job.recipients;
    sends.push({ message: job.message, recipients });
    if (direct) for (const userId of recipients) pairs.push(userId < from ? [userId, from] : [from, userId]);
    if (job.message.media === undefined) return;
    for (const userId of new Set(recipients)) {
      hashes.push(job.message.media.hash);
      users.push(userId);
      times.push(job.message.ts);
    }
  });
  if (sends.length === 0) return;
  await statements.recordSends.run(
    client,
    ...factColumns(sends),
    pairs.map((pair) => pair[0]),
    pairs.map((pair) => pair[1]),
  );
  if (hashes.length > 0) await statements.grantMedia.run(client, hashes, users, times);
}

interface AckedRow {
  user_id: string;
  device_id: number;
  seq: number;
  kind: string;
  sender: string;
  server_id: string | null;
  own: boolean;
  first: boolean;
}

/**
 * Deletes the inbox rows the ack jobs cover (locked first, in (user, device, seq) order, so two
 * batches acking one inbox from two nodes queue instead of deadlocking), and in the same
 * statement marks their messages delivered to the user (tracking rows after inbox rows, sorted);
 * answers, per ack job, the `delivered` receipts to append: one per message its user had not
 * acked from another device yet.
 */
async function deliverAcked(client: PoolClient, jobs: readonly InboxJob[]): Promise<Map<number, InboxEntry[]>> {
  const result = new Map<number, InboxEntry[]>();
  const bounds = new Map<string, { device: DeviceAddress; upTo: number; now: number }>();
  for (const job of jobs) {
    if (job.kind !== 'ack') continue;
    const key = deviceKey(job.device);
    const known = bounds.get(key);
    if (known === undefined) bounds.set(key, { device: job.device, upTo: asSeq(job.upTo), now: job.now });
    else bounds.set(key, { device: job.device, upTo: Math.max(known.upTo, asSeq(job.upTo)), now: Math.max(known.now, job.now) });
  }
  if (bounds.size === 0) return result;
  const list = [...bounds.values()];
  const rows = await statements.deleteAckedAndTrack.rows(
    client,
    list.map((b) => b.device.userId),
    list.map((b) => b.device.deviceId),
    list.map((b) => b.upTo),
    list.map((b) => b.now),
  );
  // The messages whose delivered flag this batch turned on: each gives one receipt, to the first job that acked it.
  const firstTime = new Set<string>();
  const byDevice = new Map<string, AckedRow[]>();
  for (const row of rows) {
    if (row.first) {
      firstTime.add(keyOf(row.user_id, row.server_id as string));
      continue;
    }
    const key = deviceKey({ userId: row.user_id, deviceId: row.device_id });
    const acked = { ...row, seq: Number(row.seq) };
    const list = byDevice.get(key);
    if (list === undefined) byDevice.set(key, [acked]);
    else list.push(acked);
  }
  for (const list of byDevice.values()) list.sort((a, b) => a.seq - b.seq);

  // Several acks of one inbox in a batch: each gets the events between the previous one and its own.
  jobs.forEach((job, index) => {
    if (job.kind !== 'ack') return;
    const pending = byDevice.get(deviceKey(job.device)) ?? [];
    let taken = 0;
    while (taken < pending.length && (pending[taken] as AckedRow).seq <= job.upTo) taken++;
    const delivered: Pair[] = [];
    for (const row of pending.splice(0, taken)) {
      if (row.kind !== 'message' || row.own || row.server_id === null) continue;
      if (firstTime.delete(keyOf(job.device.userId, row.server_id))) delivered.push({ sender: row.sender, serverId: row.server_id });
    }
    result.set(index, receiptEntries('delivered', job.device, delivered, job.now));
  });
  return result;
}

/**
 * Marks the messages of the read jobs as read by their user and answers, per read job, the
 * `read` receipts to append. A message counts when the user received it: delivered (tracked) or
 * still in an inbox of one of its devices. The flag is set under the tracking row's lock, so a
 * message gives one read receipt per user even when two of its devices, on two nodes, race.
 */
async function markRead(client: PoolClient, jobs: readonly InboxJob[]): Promise<Map<number, InboxEntry[]>> {
  const result = new Map<number, InboxEntry[]>();
  const readers: string[] = [];
  const ids: string[] = [];
  for (const job of jobs) {
    if (job.kind !== 'read') continue;
    for (const serverId of job.serverIds) {
      readers.push(job.reader.userId);
      ids.push(serverId);
    }
  }
  if (readers.length === 0) return result;

  const rows = await statements.receivedFrom.rows(client, readers, ids);
  const senders = new Map<string, string>();
  for (const row of rows) if (row.sender !== null) senders.set(keyOf(row.u, row.id), row.sender);

  const candidates: { recipient: string; pair: Pair; now: number }[] = [];
  for (const job of jobs) {
    if (job.kind !== 'read') continue;
    for (const serverId of job.serverIds) {
      const sender = senders.get(keyOf(job.reader.userId, serverId));
      if (sender !== undefined) candidates.push({ recipient: job.reader.userId, pair: { sender, serverId }, now: job.now });
    }
  }
  const firstTime = await trackRead(client, candidates);
  jobs.forEach((job, index) => {
    if (job.kind !== 'read') return;
    const read: Pair[] = [];
    for (const serverId of job.serverIds) {
      const sender = senders.get(keyOf(job.reader.userId, serverId));
      // Taken once: a repeat in this job or a later job of the batch gives no second receipt.
      if (sender !== undefined && firstTime.delete(keyOf(job.reader.userId, serverId))) read.push({ sender, serverId });
    }
    result.set(index, receiptEntries('read', job.reader, read, job.now));
  });
  return result;
}

/**
 * Sets the `read` flag of each (recipient user, message), creating its tracking row where there
 * is none, in (recipient, serverId) order; answers the keys whose flag this call turned on (the
 * ones that give a receipt).
 */
async function trackRead(
  client: PoolClient,
  candidates: readonly { recipient: string; pair: Pair; now: number }[],
): Promise<Set<string>> {
  // One statement may not touch a row twice: repeats (two devices of a user in one batch) go once.
  const unique = new Map<string, { recipient: string; pair: Pair; now: number }>();
  for (const candidate of candidates) {
    const key = keyOf(candidate.recipient, candidate.pair.serverId);
    if (!unique.has(key)) unique.set(key, candidate);
  }
  if (unique.size === 0) return new Set();
  const list = [...unique.values()];
  const rows = await statements.trackRead.rows(
    client,
    list.map((c) => c.recipient),
    list.map((c) => c.pair.serverId),
    list.map((c) => c.pair.sender),
    list.map((c) => c.now),
  );
  return new Set(rows.map((row) => keyOf(row.recipient, row.server_id)));
}

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

  const devices = await lockDeviceLists(client, [...new Set(entries.map((entry) => entry.userId))]);
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

  const seqs = new SeqReservation();
  const users: string[] = [];
  const deviceIds: number[] = [];
  const ordinals: number[] = [];
  const owns: boolean[] = [];
  const eventIndexes: number[] = [];
  const events = new EventTable();
  for (const { userId, deviceId, event, own } of spread) {
    users.push(userId);
    deviceIds.push(deviceId);
    ordinals.push(seqs.take(userId, deviceId));
    owns.push(own);
    eventIndexes.push(events.indexOf(event));
  }
  // One statement reserves the seqs and stores the rows: fan-out stores the same event in many
  // inboxes, and each distinct payload travels once.
  const before = await seqs.reserve(client, [users, deviceIds, ordinals, owns, eventIndexes, ...events.columns()]);
  const appended: Appended[] = spread.map(({ userId, deviceId }, i) => ({
    userId,
    deviceId,
    event: withSeq(events.stored(eventIndexes[i] as number), before.seqOf(userId, deviceId, ordinals[i] as number)),
  }));
  return { appended, ranges };
}

/** The distinct events of one insert, as the column arrays the statement takes. */
class EventTable {
  private readonly byObject = new Map<NewEvent, number>();
  private readonly kinds: string[] = [];
  private readonly senders: string[] = [];
  private readonly serverIds: (string | null)[] = [];
  private readonly mediaHashes: (string | null)[] = [];
  private readonly times: number[] = [];
  private readonly payloads: string[] = [];
  private readonly parsed: NewEvent[] = [];

  /**
   * The event's 1-based index, added on first sight. Fan-out hands the same object to many
   * inboxes, so the object is the key (equal events of different objects are stored twice,
   * which costs less than hashing every payload).
   */
  indexOf(event: NewEvent): number {
    const known = this.byObject.get(event);
    if (known !== undefined) return known;
    const payload = JSON.stringify(event);
    this.kinds.push(event.type);
    this.senders.push(event.type === 'receipt' || event.type === 'group' ? event.by : event.from);
    this.serverIds.push(event.type === 'message' ? event.serverId : null);
    this.mediaHashes.push(event.type === 'message' ? (event.media?.hash ?? null) : null);
    this.times.push(event.ts);
    this.payloads.push(payload);
    // What a reader will get back (no undefined fields): callers see the same either way.
    this.parsed.push(JSON.parse(payload) as NewEvent);
    const index = this.payloads.length;
    this.byObject.set(event, index);
    return index;
  }

  /** The event at a 1-based index, as it will read back. */
  stored(index: number): NewEvent {
    return this.parsed[index - 1] as NewEvent;
  }

  /**
   * The statement's columns; the payloads as one JSON array, which JSON.stringify escapes in
   * native code (as a text[] parameter, the driver escapes each payload's quotes in JavaScript).
   */
  columns(): unknown[] {
    return [this.kinds, this.senders, this.serverIds, this.mediaHashes, this.times, JSON.stringify(this.payloads)];
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
/** A seq bound the bigint column takes, whatever number the caller gave. */
function asSeq(n: number): number {
  return Number.isNaN(n) ? 0 : Math.max(-1, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n)));
}

/**
 * A map key for a pair of strings, the same for a string sent to PostgreSQL and the one it gives
 * back: the driver encodes lone surrogates as U+FFFD, so the key does too.
 */
function keyOf(a: string, b: string): string {
  const first = asStored(a);
  // The length first, so that no two pairs give one key; no JSON, no arrays: this runs per row.
  return `${first.length}:${first}${asStored(b)}`;
}

/** Only a string with a surrogate can change on the way (most have none), so only those are re-encoded. */
function asStored(text: string): string {
  return SURROGATE.test(text) ? Buffer.from(text, 'utf8').toString('utf8') : text;
}

const SURROGATE = /[\uD800-\uDFFF]/;

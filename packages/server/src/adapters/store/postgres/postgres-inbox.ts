import type { PoolClient } from 'pg';
import { deviceKey, type DeviceAddress } from '../../../domain/device.js';
import { CourierError } from '../../../domain/errors.js';
import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewEvent } from '../../../domain/events.js';
import type { SendResult } from '../../../ports/store.js';
import { audienceEntries, receiptEntries, spreadOverDevices, UnknownInboxError, type DeviceEntry } from '../inbox-targets.js';
import { lockDeviceLists } from './postgres-device-lists.js';
import { insertFacts } from './postgres-message-actions.js';
import { reserveSeqs } from './postgres-seq-counters.js';
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
 * whatever the number of jobs and recipients. Locks are taken in the same order by every batch
 * (idempotency keys, then acked inbox rows, then read-tracking rows, then device counters, each
 * sorted) so that concurrent batches, on this node or another, queue rather than deadlock.
 *
 * The jobs of one batch were all in flight together, so any order among them is a valid one;
 * this one applies acks before reads (a read of a message acked in the same batch then finds it
 * among the delivered ones), and appends events in job order.
 */
export async function runInboxBatch(client: PoolClient, jobs: readonly InboxJob[]): Promise<InboxResult[]> {
  const claims = await claimIdempotencyKeys(client, jobs);
  const refused = await screenSends(client, jobs, claims);
  await rememberFacts(client, jobs, claims, refused);
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
 * For the new sends of the batch: answers the (recipient, sender) pairs of 1:1 sends the
 * recipient blocked, and records the others as contacts and the media each recipient may fetch.
 * Rows are inserted sorted, so concurrent batches queue on them in one order.
 */
async function screenSends(client: PoolClient, jobs: readonly InboxJob[], claims: Map<number, Claim>): Promise<Set<string>> {
  const direct: { recipient: string; sender: string }[] = [];
  const sends: Extract<InboxJob, { kind: 'send' }>[] = [];
  jobs.forEach((job, index) => {
    if (job.kind !== 'send' || claims.get(index)?.duplicate) return;
    sends.push(job);
    if (job.message.group === undefined) for (const recipient of job.recipients) direct.push({ recipient, sender: job.message.from });
  });
  const refused = new Set<string>();
  if (direct.length > 0) {
    const rows = await statements.blockedPairs.rows(
      client,
      direct.map((pair) => pair.recipient),
      direct.map((pair) => pair.sender),
    );
    for (const row of rows) refused.add(keyOf(row.blocker, row.blocked));
    const pairs = direct
      .filter((pair) => !refused.has(keyOf(pair.recipient, pair.sender)))
      .map((pair): [string, string] => (pair.recipient < pair.sender ? [pair.recipient, pair.sender] : [pair.sender, pair.recipient]));
    if (pairs.length > 0) {
      await statements.addContacts.run(
        client,
        pairs.map((pair) => pair[0]),
        pairs.map((pair) => pair[1]),
      );
    }
  }
  const hashes: string[] = [];
  const users: string[] = [];
  const times: number[] = [];
  for (const job of sends) {
    if (job.message.media === undefined) continue;
    for (const userId of new Set(job.recipients)) {
      if (job.message.group === undefined && refused.has(keyOf(userId, job.message.from))) continue;
      hashes.push(job.message.media.hash);
      users.push(userId);
      times.push(job.message.ts);
    }
  }
  if (hashes.length > 0) {
    await statements.grantMedia.run(client, hashes, users, times);
  }
  return refused;
}

/** Records the (sender, client id) of each send; answers, per send job, whether it is a repeat. */
async function claimIdempotencyKeys(client: PoolClient, jobs: readonly InboxJob[]): Promise<Map<number, Claim>> {
  const claims = new Map<number, Claim>();
  const firstOfKey = new Map<string, number>();
  const senders: string[] = [];
  const clientIds: string[] = [];
  const serverIds: string[] = [];
  const times: number[] = [];
  jobs.forEach((job, index) => {
    if (job.kind !== 'send') return;
    const key = keyOf(job.message.from, job.message.id);
    if (firstOfKey.has(key)) return;
    firstOfKey.set(key, index);
    senders.push(job.message.from);
    clientIds.push(job.message.id);
    serverIds.push(job.message.serverId);
    times.push(job.message.ts);
  });
  if (senders.length === 0) return claims;

  const inserted = await statements.claimKeys.rows(client, senders, clientIds, serverIds, times);
  const fresh = new Set(inserted.map((row) => keyOf(row.sender, row.client_id)));
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
  return claims;
}

/** Records the facts of the batch's new messages, for later actions on them. */
async function rememberFacts(client: PoolClient, jobs: readonly InboxJob[], claims: Map<number, Claim>, refused: Set<string>): Promise<void> {
  const fresh: { message: Omit<MessageEvent, 'seq' | 'type'>; recipients: string[] }[] = [];
  jobs.forEach((job, index) => {
    if (job.kind !== 'send' || claims.get(index)?.duplicate !== false) return;
    // A recipient who blocked the sender never got the message, so no action on it reaches them.
    const direct = job.message.group === undefined;
    fresh.push({ ...job, recipients: job.recipients.filter((userId) => !direct || !refused.has(keyOf(userId, job.message.from))) });
  });
  await insertFacts(client, fresh);
}

interface AckedRow {
  user_id: string;
  device_id: number;
  seq: number;
  kind: string;
  sender: string;
  server_id: string | null;
  own: boolean;
}

/**
 * Deletes the inbox rows the ack jobs cover (locked first, in (user, device, seq) order, so two
 * batches acking one inbox from two nodes queue instead of deadlocking) and answers, per ack
 * job, the `delivered` receipts to append: one per message its user had not acked from another
 * device yet.
 */
async function deliverAcked(client: PoolClient, jobs: readonly InboxJob[]): Promise<Map<number, InboxEntry[]>> {
  const result = new Map<number, InboxEntry[]>();
  const upTo = new Map<string, { device: DeviceAddress; upTo: number }>();
  for (const job of jobs) {
    if (job.kind !== 'ack') continue;
    const key = deviceKey(job.device);
    upTo.set(key, { device: job.device, upTo: Math.max(upTo.get(key)?.upTo ?? -1, asSeq(job.upTo)) });
  }
  if (upTo.size === 0) return result;
  const bounds = [...upTo.values()];
  const rows = await statements.deleteAcked.rows(
    client,
    bounds.map((b) => b.device.userId),
    bounds.map((b) => b.device.deviceId),
    bounds.map((b) => b.upTo),
  );
  const byDevice = new Map<string, AckedRow[]>();
  for (const row of rows.map((r) => ({ ...r, seq: Number(r.seq) })).sort((a, b) => a.seq - b.seq)) {
    const key = deviceKey({ userId: row.user_id, deviceId: row.device_id });
    const list = byDevice.get(key) ?? [];
    list.push(row);
    byDevice.set(key, list);
  }

  // Several acks of one inbox in a batch: each gets the events between the previous one and its own.
  const perJob = new Map<number, { recipient: string; pairs: Pair[] }>();
  const candidates: { recipient: string; pair: Pair; now: number }[] = [];
  jobs.forEach((job, index) => {
    if (job.kind !== 'ack') return;
    const pending = byDevice.get(deviceKey(job.device)) ?? [];
    let taken = 0;
    while (taken < pending.length && (pending[taken] as AckedRow).seq <= job.upTo) taken++;
    const received = pending.splice(0, taken).filter((row) => row.kind === 'message' && !row.own && row.server_id !== null);
    const pairs = received.map((row) => ({ sender: row.sender, serverId: row.server_id as string }));
    perJob.set(index, { recipient: job.device.userId, pairs });
    for (const pair of pairs) candidates.push({ recipient: job.device.userId, pair, now: job.now });
  });

  const firstTime = await upsertTracking(client, 'delivered', candidates);
  for (const [index, { recipient, pairs }] of perJob) {
    const job = jobs[index] as Extract<InboxJob, { kind: 'ack' }>;
    const delivered = pairs.filter((pair) => firstTime.delete(keyOf(recipient, pair.serverId)));
    result.set(index, receiptEntries('delivered', job.device, delivered, job.now));
  }
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
  const firstTime = await upsertTracking(client, 'read', candidates);
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
 * Sets the `delivered` or `read` flag of each (recipient user, message), creating its tracking
 * row where there is none, in (recipient, serverId) order; answers the keys whose flag this call
 * turned on (the ones that give a receipt).
 */
async function upsertTracking(
  client: PoolClient,
  flag: 'delivered' | 'read',
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
  const statement = flag === 'delivered' ? statements.trackDelivered : statements.trackRead;
  const rows = await statement.rows(
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

  // Fan-out stores the same event in many inboxes: each distinct payload travels once.
  await statements.insertEvents.run(client, users, deviceIds, seqs, owns, eventIndexes, ...events.columns());
  return { appended, ranges };
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
/** A seq bound the bigint column takes, whatever number the caller gave. */
function asSeq(n: number): number {
  return Number.isNaN(n) ? 0 : Math.max(-1, Math.min(Number.MAX_SAFE_INTEGER, Math.floor(n)));
}

/**
 * A map key for a pair of strings, the same for a string sent to PostgreSQL and the one it gives
 * back: the driver encodes lone surrogates as U+FFFD, so the key does too.
 */
function keyOf(a: string, b: string): string {
  return JSON.stringify([asStored(a), asStored(b)]);
}

function asStored(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

import type { PoolClient } from 'pg';
import { deviceKey, type DeviceAddress } from '../../../domain/device.js';
import type { Appended, InboxEntry, MessageEvent } from '../../../domain/events.js';
import type { SendResult } from '../../../ports/store.js';
import { audienceEntries, receiptEntries } from '../inbox-targets.js';
import { appendToInboxes } from './postgres-inbox.js';
import { insertFacts } from './postgres-message-actions.js';

/** The writes that go through group commit. */
export type WriteJob =
  | { kind: 'send'; message: Omit<MessageEvent, 'seq' | 'type'>; recipients: string[]; fromDevice: number }
  | { kind: 'ack'; device: DeviceAddress; upTo: number; now: number }
  | { kind: 'read'; reader: DeviceAddress; serverIds: string[]; now: number }
  | { kind: 'append'; entries: InboxEntry[] };

export type WriteResult = SendResult | Appended[];

/** Rows a job writes, roughly: what bounds a batch. */
export function writeWeight(job: WriteJob): number {
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
export async function runWriteBatch(client: PoolClient, jobs: readonly WriteJob[]): Promise<WriteResult[]> {
  const claims = await claimIdempotencyKeys(client, jobs);
  await rememberFacts(client, jobs, claims);
  const receipts = new Map<number, InboxEntry[]>();
  for (const [index, entries] of await deliverAcked(client, jobs)) receipts.set(index, entries);
  for (const [index, entries] of await markRead(client, jobs)) receipts.set(index, entries);

  const entries: InboxEntry[] = [];
  const ranges: [number, number][] = [];
  jobs.forEach((job, index) => {
    const start = entries.length;
    if (job.kind === 'send') {
      if (!claims.get(index)?.duplicate) entries.push(...audienceEntries({ type: 'message', ...job.message }, job.recipients, job.fromDevice));
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

/** Records the (sender, client id) of each send; answers, per send job, whether it is a repeat. */
async function claimIdempotencyKeys(client: PoolClient, jobs: readonly WriteJob[]): Promise<Map<number, Claim>> {
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

  const inserted = await client.query<{ sender: string; client_id: string }>({
    name: 'courier_claim_keys',
    text: `INSERT INTO idempotency (sender, client_id, server_id, ts)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(s, c, id, ts) ORDER BY s, c
     ON CONFLICT (sender, client_id) DO NOTHING
     RETURNING sender, client_id`,
    values: [senders, clientIds, serverIds, times],
  });
  const fresh = new Set(inserted.rows.map((row) => keyOf(row.sender, row.client_id)));
  const earlier = new Map<string, Claim>();
  if (fresh.size < senders.length) {
    // Keys already used: the first send's answer is in the table (committed, since ON CONFLICT
    // waited for any transaction still writing it).
    const { rows } = await client.query<{ sender: string; client_id: string; server_id: string; ts: string }>(
      `SELECT i.sender, i.client_id, i.server_id, i.ts
       FROM idempotency i JOIN unnest($1::text[], $2::text[]) AS t(s, c) ON i.sender = t.s AND i.client_id = t.c`,
      [senders, clientIds],
    );
    for (const row of rows) {
      const key = keyOf(row.sender, row.client_id);
      if (!fresh.has(key)) earlier.set(key, { serverId: row.server_id, ts: Number(row.ts), duplicate: true });
    }
  }

  jobs.forEach((job, index) => {
    if (job.kind !== 'send') return;
    const key = keyOf(job.message.from, job.message.id);
    const first = jobs[firstOfKey.get(key) as number] as Extract<WriteJob, { kind: 'send' }>;
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
async function rememberFacts(client: PoolClient, jobs: readonly WriteJob[], claims: Map<number, Claim>): Promise<void> {
  const fresh: { message: Omit<MessageEvent, 'seq' | 'type'>; recipients: string[] }[] = [];
  jobs.forEach((job, index) => {
    if (job.kind === 'send' && claims.get(index)?.duplicate === false) fresh.push(job);
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
async function deliverAcked(client: PoolClient, jobs: readonly WriteJob[]): Promise<Map<number, InboxEntry[]>> {
  const result = new Map<number, InboxEntry[]>();
  const upTo = new Map<string, { device: DeviceAddress; upTo: number }>();
  for (const job of jobs) {
    if (job.kind !== 'ack') continue;
    const key = deviceKey(job.device);
    upTo.set(key, { device: job.device, upTo: Math.max(upTo.get(key)?.upTo ?? -1, asSeq(job.upTo)) });
  }
  if (upTo.size === 0) return result;
  const bounds = [...upTo.values()];
  const { rows } = await client.query<Omit<AckedRow, 'seq'> & { seq: string }>({
    name: 'courier_delete_acked_devices',
    text: `DELETE FROM inbox x USING (
       SELECT i.user_id, i.device_id, i.seq FROM inbox i
       JOIN unnest($1::text[], $2::int[], $3::bigint[]) AS a(u, d, up)
         ON i.user_id = a.u AND i.device_id = a.d AND i.seq <= a.up
       ORDER BY i.user_id, i.device_id, i.seq
       FOR UPDATE OF i
     ) w
     WHERE x.user_id = w.user_id AND x.device_id = w.device_id AND x.seq = w.seq
     RETURNING x.user_id, x.device_id, x.seq, x.kind, x.sender, x.server_id, x.own`,
    values: [bounds.map((b) => b.device.userId), bounds.map((b) => b.device.deviceId), bounds.map((b) => b.upTo)],
  });
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
    const job = jobs[index] as Extract<WriteJob, { kind: 'ack' }>;
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
async function markRead(client: PoolClient, jobs: readonly WriteJob[]): Promise<Map<number, InboxEntry[]>> {
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

  const { rows } = await client.query<{ u: string; id: string; sender: string | null }>(
    `SELECT t.u, t.id, coalesce(
       (SELECT x.sender FROM read_tracking x WHERE x.recipient = t.u AND x.server_id = t.id),
       (SELECT i.sender FROM inbox i WHERE i.user_id = t.u AND i.server_id = t.id AND i.kind = 'message' AND NOT i.own LIMIT 1)
     ) AS sender
     FROM unnest($1::text[], $2::text[]) AS t(u, id)`,
    [readers, ids],
  );
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
  const other = flag === 'delivered' ? 'read' : 'delivered';
  const { rows } = await client.query<{ recipient: string; server_id: string }>(
    `INSERT INTO read_tracking AS r (recipient, server_id, sender, ts, ${flag}, ${other})
     SELECT t.r, t.s, t.snd, t.ts, TRUE, FALSE FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(r, s, snd, ts)
     ORDER BY t.r, t.s
     ON CONFLICT (recipient, server_id) DO UPDATE SET ${flag} = TRUE WHERE NOT r.${flag}
     RETURNING r.recipient, r.server_id`,
    [list.map((c) => c.recipient), list.map((c) => c.pair.serverId), list.map((c) => c.pair.sender), list.map((c) => c.now)],
  );
  return new Set(rows.map((row) => keyOf(row.recipient, row.server_id)));
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

import type { PoolClient } from 'pg';
import type { Appended, InboxEntry, MessageEvent, NewEvent, ReceiptStatus } from '../../../domain/events.js';
import type { SendResult } from '../../../ports/store.js';
import { appendToInboxes } from './postgres-inbox.js';
import { insertFacts } from './postgres-message-actions.js';

/** The writes that go through group commit. */
export type WriteJob =
  | { kind: 'send'; message: Omit<MessageEvent, 'seq' | 'type'>; recipients: string[] }
  | { kind: 'ack'; userId: string; upTo: number; now: number }
  | { kind: 'read'; reader: string; serverIds: string[]; now: number }
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

/**
 * Runs a batch of writes in the caller's transaction with a constant number of statements,
 * whatever the number of jobs and recipients. Locks are taken in the same order by every batch
 * (idempotency keys, then inbox rows, then delivered-message rows, then inbox counters, each
 * sorted) so that concurrent batches, on this node or another, queue rather than deadlock.
 *
 * The jobs of one batch were all in flight together, so any order among them is a valid one;
 * this one applies acks before reads (a read of a message acked in the same batch then finds it
 * among the delivered ones), and appends events in job order.
 */
export async function runWriteBatch(client: PoolClient, jobs: readonly WriteJob[]): Promise<WriteResult[]> {
  const claims = await claimIdempotencyKeys(client, jobs);
  await rememberFacts(client, jobs, claims);
  const acks = ackBounds(jobs);
  const reads = readPairs(jobs);
  const locked = await lockInboxRows(client, acks, reads);
  const receipts = new Map<number, InboxEntry[]>();
  for (const [index, entries] of await deleteAcked(client, jobs, acks, locked)) receipts.set(index, entries);
  for (const [index, entries] of await markRead(client, jobs, reads, locked, acks)) receipts.set(index, entries);

  const entries: InboxEntry[] = [];
  const ranges: [number, number][] = [];
  jobs.forEach((job, index) => {
    const start = entries.length;
    if (job.kind === 'send') {
      if (!claims.get(index)?.duplicate) {
        const event: NewEvent = { type: 'message', ...job.message };
        for (const userId of new Set(job.recipients)) entries.push({ userId, event });
      }
    } else if (job.kind === 'append') {
      entries.push(...job.entries);
    } else {
      entries.push(...(receipts.get(index) ?? []));
    }
    ranges.push([start, entries.length]);
  });

  const appended = await appendToInboxes(client, entries);
  return jobs.map((job, index) => {
    const [start, end] = ranges[index] as [number, number];
    const mine = appended.slice(start, end);
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

/** The highest upTo of each inbox acked in the batch. */
function ackBounds(jobs: readonly WriteJob[]): Map<string, number> {
  const upTo = new Map<string, number>();
  for (const job of jobs) {
    if (job.kind === 'ack') upTo.set(job.userId, Math.max(upTo.get(job.userId) ?? -1, asSeq(job.upTo)));
  }
  return upTo;
}

interface ReadPairs {
  readers: string[];
  serverIds: string[];
}

/** Every (reader, serverId) the read jobs of the batch name. */
function readPairs(jobs: readonly WriteJob[]): ReadPairs {
  const pairs: ReadPairs = { readers: [], serverIds: [] };
  for (const job of jobs) {
    if (job.kind !== 'read') continue;
    for (const serverId of job.serverIds) {
      pairs.readers.push(job.reader);
      pairs.serverIds.push(serverId);
    }
  }
  return pairs;
}

interface InboxRow {
  user_id: string;
  seq: number;
  kind: string;
  sender: string;
  server_id: string | null;
  read: boolean;
}

/**
 * Locks, in one statement and in (user, seq) order, every inbox row the batch's acks and reads
 * are about, and answers them as they are once locked. The batch then touches these rows and no
 * others (an event committed meanwhile is after this batch): so two batches acking and reading
 * overlapping inboxes from two nodes queue on the first row they share instead of deadlocking.
 */
async function lockInboxRows(client: PoolClient, acks: Map<string, number>, reads: ReadPairs): Promise<InboxRow[]> {
  if (acks.size === 0 && reads.readers.length === 0) return [];
  const { rows } = await client.query<Omit<InboxRow, 'seq'> & { seq: string }>({
    name: 'courier_lock_inbox_rows',
    text: `SELECT x.user_id, x.seq, x.kind, x.sender, x.server_id, x.read FROM inbox x
     JOIN (
       SELECT i.user_id, i.seq FROM inbox i JOIN unnest($1::text[], $2::bigint[]) AS a(u, up)
         ON i.user_id = a.u AND i.seq <= a.up
       UNION
       SELECT i.user_id, i.seq FROM inbox i JOIN unnest($3::text[], $4::text[]) AS r(u, id)
         ON i.user_id = r.u AND i.kind = 'message' AND i.server_id = r.id
     ) w ON x.user_id = w.user_id AND x.seq = w.seq
     ORDER BY x.user_id, x.seq
     FOR UPDATE OF x`,
    values: [[...acks.keys()], [...acks.values()], reads.readers, reads.serverIds],
  });
  return rows.map((row) => ({ ...row, seq: Number(row.seq) }));
}

/**
 * Deletes the locked rows the ack jobs cover, remembers the delivered messages for later reads,
 * and answers, per ack job, the `delivered` receipts to append.
 */
async function deleteAcked(
  client: PoolClient,
  jobs: readonly WriteJob[],
  upTo: Map<string, number>,
  locked: readonly InboxRow[],
): Promise<Map<number, InboxEntry[]>> {
  const result = new Map<number, InboxEntry[]>();
  const doomed = locked.filter((row) => row.seq <= (upTo.get(row.user_id) ?? -1));
  if (doomed.length > 0) {
    await client.query({
      name: 'courier_delete_acked',
      text: `DELETE FROM inbox i USING unnest($1::text[], $2::bigint[]) AS t(u, s) WHERE i.user_id = t.u AND i.seq = t.s`,
      values: [doomed.map((row) => row.user_id), doomed.map((row) => row.seq)],
    });
  }
  // Locked rows come sorted by (user, seq).
  const byUser = new Map<string, InboxRow[]>();
  for (const row of doomed) {
    const list = byUser.get(row.user_id) ?? [];
    list.push(row);
    byUser.set(row.user_id, list);
  }

  const tracking: InboxRow[] = [];
  const trackingTimes: number[] = [];
  jobs.forEach((job, index) => {
    if (job.kind !== 'ack') return;
    // Several acks of one inbox in a batch: each gets the events between the previous one and its own.
    const pending = byUser.get(job.userId) ?? [];
    let taken = 0;
    while (taken < pending.length && (pending[taken] as InboxRow).seq <= job.upTo) taken++;
    const delivered = pending.splice(0, taken).filter((row) => row.kind === 'message' && row.server_id !== null);
    for (const row of delivered) {
      tracking.push(row);
      trackingTimes.push(job.now);
    }
    const pairs = delivered.map((row) => ({ sender: row.sender, serverId: row.server_id as string }));
    result.set(index, receiptsFor(job.userId, 'delivered', pairs, job.now));
  });

  if (tracking.length > 0) {
    await client.query({
      name: 'courier_track_delivered',
      text: `INSERT INTO read_tracking (recipient, server_id, sender, ts, read)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::boolean[])
       ON CONFLICT (recipient, server_id) DO NOTHING`,
      values: [
        tracking.map((row) => row.user_id),
        tracking.map((row) => row.server_id),
        tracking.map((row) => row.sender),
        trackingTimes,
        tracking.map((row) => row.read),
      ],
    });
  }
  return result;
}

/**
 * Marks the messages of the read jobs as read, in the inbox (among the locked rows still there)
 * or among the delivered ones, and answers, per read job, the `read` receipts to append. A row
 * already marked gives nothing, and marking happens under the row's lock, so a message gives
 * one read receipt even when two nodes race.
 */
async function markRead(
  client: PoolClient,
  jobs: readonly WriteJob[],
  pairs: ReadPairs,
  locked: readonly InboxRow[],
  upTo: Map<string, number>,
): Promise<Map<number, InboxEntry[]>> {
  const result = new Map<number, InboxEntry[]>();
  if (pairs.readers.length === 0) return result;

  const wanted = new Set(pairs.readers.map((reader, i) => keyOf(reader, pairs.serverIds[i] as string)));
  const senders = new Map<string, string>();
  const marked = locked.filter(
    (row) =>
      row.kind === 'message' &&
      !row.read &&
      row.server_id !== null &&
      row.seq > (upTo.get(row.user_id) ?? -1) &&
      wanted.has(keyOf(row.user_id, row.server_id)),
  );
  if (marked.length > 0) {
    await client.query(
      `UPDATE inbox i SET read = TRUE FROM unnest($1::text[], $2::bigint[]) AS t(u, s) WHERE i.user_id = t.u AND i.seq = t.s`,
      [marked.map((row) => row.user_id), marked.map((row) => row.seq)],
    );
    for (const row of marked) senders.set(keyOf(row.user_id, row.server_id as string), row.sender);
  }
  // Delivered ones, those acked earlier in this batch included.
  const delivered = await client.query<{ recipient: string; server_id: string; sender: string }>(
    `WITH unread AS (
       SELECT x.recipient, x.server_id FROM read_tracking x JOIN unnest($1::text[], $2::text[]) AS t(u, id)
         ON x.recipient = t.u AND x.server_id = t.id AND NOT x.read
       ORDER BY x.recipient, x.server_id FOR UPDATE OF x
     )
     UPDATE read_tracking r SET read = TRUE FROM unread u
     WHERE r.recipient = u.recipient AND r.server_id = u.server_id
     RETURNING r.recipient, r.server_id, r.sender`,
    [pairs.readers, pairs.serverIds],
  );
  for (const row of delivered.rows) senders.set(keyOf(row.recipient, row.server_id), row.sender);

  jobs.forEach((job, index) => {
    if (job.kind !== 'read') return;
    const found: { sender: string; serverId: string }[] = [];
    for (const serverId of job.serverIds) {
      const key = keyOf(job.reader, serverId);
      const sender = senders.get(key);
      if (sender === undefined) continue;
      // Taken once: a repeat in this job or a later job of the batch gives no second receipt.
      senders.delete(key);
      found.push({ sender, serverId });
    }
    result.set(index, receiptsFor(job.reader, 'read', found, job.now));
  });
  return result;
}

/** One receipt per sender, senders in the order of their first message. */
function receiptsFor(
  by: string,
  status: ReceiptStatus,
  pairs: readonly { sender: string; serverId: string }[],
  now: number,
): InboxEntry[] {
  const bySender = new Map<string, string[]>();
  for (const { sender, serverId } of pairs) {
    const list = bySender.get(sender) ?? [];
    list.push(serverId);
    bySender.set(sender, list);
  }
  return [...bySender].map(([sender, ids]) => ({
    userId: sender,
    event: { type: 'receipt', status, serverIds: ids, by, ts: now },
  }));
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

import type { Pool, PoolClient } from 'pg';
import type { MessageEvent, NewActionEvent } from '../../../domain/events.js';
import type { MessageFacts } from '../../../domain/message-actions.js';
import type { SendResult } from '../../../ports/store.js';
import { audienceEntries } from '../inbox-targets.js';
import { appendToInboxes } from './postgres-inbox.js';
import { statements } from './postgres-statements.js';
import { withTransaction } from './postgres-transaction.js';

/**
 * Actions on earlier messages and disappearing messages. Locks are taken in the order the write
 * batches use (idempotency key, then facts, then inbox rows sorted by (user, device, seq), then
 * device counters), so an action, a batch and a sweep on different nodes queue rather than deadlock.
 */

interface FactsRow {
  server_id: string;
  author: string;
  to_address: string;
  recipients: string[];
  ts: string;
}

/** Records the facts of new messages (in the caller's transaction), one statement for all. */
export async function insertFacts(
  client: PoolClient,
  sends: readonly { message: Omit<MessageEvent, 'seq' | 'type'>; recipients: string[] }[],
): Promise<void> {
  if (sends.length === 0) return;
  const message = sends.map((send) => send.message);
  await statements.insertFacts.run(
    client,
    message.map((m) => m.serverId),
    message.map((m) => m.from),
    message.map((m) => m.to),
    sends.map((send) => JSON.stringify([...new Set(send.recipients)])),
    message.map((m) => m.ts),
    message.map((m) => (m.expiresIn === undefined ? null : m.ts + m.expiresIn * 1000)),
  );
}

export async function messageFacts(pool: Pool, serverId: string): Promise<MessageFacts | undefined> {
  const { rows } = await pool.query<FactsRow>(
    'SELECT server_id, author, to_address, recipients, ts FROM message_facts WHERE server_id = $1',
    [serverId],
  );
  return rows[0] && toFacts(rows[0]);
}

/** See Store.storeAction. */
export function storeAction(pool: Pool, action: NewActionEvent, recipients: string[], fromDevice: number): Promise<SendResult> {
  return withTransaction(pool, async (client) => {
    const claimed = await client.query(
      `INSERT INTO idempotency (sender, client_id, server_id, ts) VALUES ($1, $2, $3, $4)
       ON CONFLICT (sender, client_id) DO NOTHING`,
      [action.from, action.id, action.serverId, action.ts],
    );
    if (claimed.rowCount === 0) {
      // ON CONFLICT waited for the first use's transaction: its answer is committed.
      const { rows } = await client.query<{ server_id: string; ts: string }>(
        'SELECT server_id, ts FROM idempotency WHERE sender = $1 AND client_id = $2',
        [action.from, action.id],
      );
      const first = rows[0];
      if (first === undefined) throw new Error(`idempotency key of ${action.from}/${action.id} vanished during the action`);
      return { serverId: first.server_id, ts: Number(first.ts), duplicate: true, appended: [] };
    }
    if (action.type === 'delete') await deleteMessage(client, action.target);
    const { appended } = await appendToInboxes(client, audienceEntries(action, recipients, fromDevice));
    return { serverId: action.serverId, ts: action.ts, duplicate: false, appended };
  });
}

/** See Store.expireMessages: rows another node is expiring right now are skipped, not waited for. */
export function expireMessages(pool: Pool, now: number, limit: number): Promise<number> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<FactsRow>(
      `SELECT server_id, author, to_address, recipients, ts FROM message_facts
       WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2
       FOR UPDATE SKIP LOCKED`,
      [now, Math.max(0, Math.floor(limit))],
    );
    if (rows.length === 0) return 0;
    const due = rows.map(toFacts);
    await deleteCopies(client, due);
    await client.query('UPDATE message_facts SET expires_at = NULL WHERE server_id = ANY($1::text[])', [
      due.map((message) => message.serverId),
    ]);
    return due.length;
  });
}

/** Removes a message's undelivered copies and forgets its facts (nothing when already forgotten). */
async function deleteMessage(client: PoolClient, serverId: string): Promise<void> {
  const { rows } = await client.query<FactsRow>(
    'SELECT server_id, author, to_address, recipients, ts FROM message_facts WHERE server_id = $1 FOR UPDATE',
    [serverId],
  );
  if (rows[0] === undefined) return;
  await deleteCopies(client, [toFacts(rows[0])]);
  await client.query('DELETE FROM message_facts WHERE server_id = $1', [serverId]);
}

/** Deletes the copies of these messages still in their recipients' and authors' inboxes, every device's. */
async function deleteCopies(client: PoolClient, messages: readonly MessageFacts[]): Promise<void> {
  const users: string[] = [];
  const serverIds: string[] = [];
  for (const message of messages) {
    for (const userId of new Set([...message.recipients, message.author])) {
      users.push(userId);
      serverIds.push(message.serverId);
    }
  }
  await client.query(
    `WITH doomed AS (
       SELECT i.user_id, i.device_id, i.seq FROM inbox i JOIN unnest($1::text[], $2::text[]) AS t(u, id)
         ON i.user_id = t.u AND i.kind = 'message' AND i.server_id = t.id
       ORDER BY i.user_id, i.device_id, i.seq
       FOR UPDATE OF i
     )
     DELETE FROM inbox x USING doomed d WHERE x.user_id = d.user_id AND x.device_id = d.device_id AND x.seq = d.seq`,
    [users, serverIds],
  );
}

function toFacts(row: FactsRow): MessageFacts {
  return { serverId: row.server_id, author: row.author, to: row.to_address, recipients: row.recipients, ts: Number(row.ts) };
}

import type { Pool, PoolClient } from 'pg';
import type { Appended, InboxEntry } from '../../../domain/events.js';
import type { Group } from '../../../domain/group.js';
import type { PresencePair } from '../../../ports/store.js';
import { appendToInboxes } from './postgres-inbox.js';

/**
 * The pairs whose watcher may see the user's presence (see Store.presenceAllowed), in one
 * statement. "Shares a group" uses the GIN index on groups.members.
 */
export async function presenceAllowed(pool: Pool, pairs: PresencePair[]): Promise<PresencePair[]> {
  const { rows } = await pool.query<PresencePair>(
    `SELECT w.u AS "user", w.watcher FROM unnest($1::text[], $2::text[]) AS w(u, watcher)
     JOIN accounts me ON me.user_id = w.u
     WHERE w.watcher = w.u OR (
       NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker = w.u AND b.blocked = w.watcher)
                                            OR (b.blocker = w.watcher AND b.blocked = w.u))
       AND (me.presence_visibility = 'everyone' OR (me.presence_visibility = 'contacts' AND (
         EXISTS (SELECT 1 FROM contacts c WHERE (c.user_a = w.u AND c.user_b = w.watcher)
                                            OR (c.user_a = w.watcher AND c.user_b = w.u))
         OR EXISTS (SELECT 1 FROM groups g WHERE g.members @> ARRAY[w.u, w.watcher])
       ))))`,
    [pairs.map((pair) => pair.user), pairs.map((pair) => pair.watcher)],
  );
  return rows;
}

interface GroupRow {
  group_id: string;
  name: string;
  members: string[];
  admins: string[];
  created_at: string;
}

/**
 * Account deletion in the caller's transaction. Rows the send path inserts (contacts, media
 * access) are deleted before the groups and inboxes are locked, in the order a send batch takes
 * its locks, so the two queue instead of deadlocking.
 */
export async function deleteAccountIn(
  client: PoolClient,
  userId: string,
  leave: (group: Group) => { group: Group; events: InboxEntry[] },
): Promise<{ tokenHash?: string; appended: Appended[] }> {
  await client.query('DELETE FROM contacts WHERE user_a = $1 OR user_b = $1', [userId]);
  await client.query('DELETE FROM media_access WHERE user_id = $1', [userId]);
  await client.query('DELETE FROM blocks WHERE blocker = $1 OR blocked = $1', [userId]);
  const { rows: groups } = await client.query<GroupRow>(
    'SELECT * FROM groups WHERE members @> ARRAY[$1] ORDER BY group_id FOR UPDATE',
    [userId],
  );
  const events: InboxEntry[] = [];
  for (const row of groups) {
    const next = leave({ groupId: row.group_id, name: row.name, members: row.members, admins: row.admins, createdAt: Number(row.created_at) });
    await client.query('UPDATE groups SET members = $2::text[], admins = $3::text[] WHERE group_id = $1', [
      row.group_id,
      next.group.members,
      next.group.admins,
    ]);
    events.push(...next.events.filter((entry) => entry.userId !== userId));
  }
  const appended = await appendToInboxes(client, events);
  for (const sql of [
    'DELETE FROM inbox WHERE user_id = $1',
    'DELETE FROM idempotency WHERE sender = $1',
    'DELETE FROM read_tracking WHERE recipient = $1',
    'DELETE FROM codes WHERE phone = $1',
    'DELETE FROM push_targets WHERE user_id = $1',
  ]) {
    await client.query(sql, [userId]);
  }
  const { rows } = await client.query<{ token_hash: string | null }>('DELETE FROM accounts WHERE user_id = $1 RETURNING token_hash', [userId]);
  const tokenHash = rows[0]?.token_hash ?? undefined;
  return tokenHash === undefined ? { appended } : { tokenHash, appended };
}

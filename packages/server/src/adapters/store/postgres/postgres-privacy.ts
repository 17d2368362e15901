import type { Pool, PoolClient } from 'pg';
import type { PresencePair, RevokedDevice } from '../../../ports/store.js';

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

/**
 * Account deletion in the caller's transaction (see Store.deleteAccount). Rows the send path
 * inserts (contacts, media access) are deleted first, in the order a send batch takes its locks,
 * so the two queue instead of deadlocking.
 */
export async function deleteAccountIn(client: PoolClient, userId: string): Promise<{ revoked: RevokedDevice[] }> {
  for (const sql of [
    'DELETE FROM contacts WHERE user_a = $1 OR user_b = $1',
    'DELETE FROM media_access WHERE user_id = $1',
    'DELETE FROM blocks WHERE blocker = $1 OR blocked = $1',
    `UPDATE groups SET members = array_remove(members, $1), admins = array_remove(admins, $1)
     WHERE members @> ARRAY[$1] OR admins @> ARRAY[$1]`,
    'DELETE FROM inbox WHERE user_id = $1',
    'DELETE FROM idempotency WHERE sender = $1',
    'DELETE FROM read_tracking WHERE recipient = $1',
    'DELETE FROM codes WHERE phone = $1',
    'DELETE FROM push_targets WHERE user_id = $1',
    'DELETE FROM device_links WHERE user_id = $1',
    'DELETE FROM message_facts WHERE author = $1',
  ]) {
    await client.query(sql, [userId]);
  }
  const { rows } = await client.query<{ device_id: number; token_hash: string }>(
    'DELETE FROM devices WHERE user_id = $1 RETURNING device_id, token_hash',
    [userId],
  );
  await client.query('DELETE FROM accounts WHERE user_id = $1', [userId]);
  return { revoked: rows.map((row) => ({ deviceId: row.device_id, tokenHash: row.token_hash })).sort((a, b) => a.deviceId - b.deviceId) };
}

import type Database from 'better-sqlite3';
import type { Group } from '../../../domain/group.js';
import type { PresencePair, PresenceVisibility, RevokedDevice } from '../../../ports/store.js';
import type { GroupRow, SqliteStatements, Statement } from './sqlite-statements.js';

/** The statements of blocking, presence visibility, media access and account deletion. */
export function preparePrivacyStatements(db: Database.Database) {
  const stmt = <P extends unknown[], R = unknown>(sql: string): Statement<P, R> => db.prepare<P, R>(sql);
  const one = <P extends unknown[], R>(sql: string): Statement<P, R> => db.prepare<P, R>(sql).pluck();
  return {
    block: stmt<[string, string, number]>('INSERT INTO blocks (blocker, blocked, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    unblock: stmt<[string, string]>('DELETE FROM blocks WHERE blocker = ? AND blocked = ?'),
    blockedBy: one<[string], string>('SELECT blocked FROM blocks WHERE blocker = ? ORDER BY created_at, blocked'),
    blockedEitherWay: one<[string, string, string, string], number>(
      'SELECT 1 FROM blocks WHERE (blocker = ? AND blocked = ?) OR (blocker = ? AND blocked = ?) LIMIT 1',
    ),
    setVisibility: stmt<[string, string]>('UPDATE accounts SET presence_visibility = ? WHERE user_id = ?'),
    // One statement for any number of watchers. SQLite keeps group members as JSON, so "shares a
    // group" scans the groups; a single node's group count keeps that cheap enough.
    // Pairs come as one JSON array of [user, watcher] arrays.
    presenceAllowed: stmt<[string], PresencePair>(
      `WITH pair AS (SELECT p.value ->> 0 AS user, p.value ->> 1 AS watcher FROM json_each(?) p),
       w AS (SELECT pair.watcher AS value, pair.user AS user FROM pair),
       me AS (SELECT user_id, presence_visibility AS visibility FROM accounts)
       SELECT w.user AS user, w.value AS watcher FROM w JOIN me ON me.user_id = w.user
       WHERE w.value = me.user_id OR (
         NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.blocker = me.user_id AND b.blocked = w.value)
                                              OR (b.blocker = w.value AND b.blocked = me.user_id))
         AND (me.visibility = 'everyone' OR (me.visibility = 'contacts' AND (
           EXISTS (SELECT 1 FROM contacts c WHERE (c.user_a = me.user_id AND c.user_b = w.value)
                                              OR (c.user_a = w.value AND c.user_b = me.user_id))
           OR EXISTS (SELECT 1 FROM chat_groups g
                      WHERE EXISTS (SELECT 1 FROM json_each(g.members) m WHERE m.value = me.user_id)
                        AND EXISTS (SELECT 1 FROM json_each(g.members) m WHERE m.value = w.value))
         ))))`,
    ),
    devicesOf: stmt<[string], RevokedDevice>('SELECT device_id AS deviceId, token_hash AS tokenHash FROM devices WHERE user_id = ? ORDER BY device_id'),
    mayFetchMedia: one<[string, string], number>('SELECT 1 FROM media_access WHERE hash = ? AND user_id = ?'),
    uploadedSince: one<[string, number], number>(
      'SELECT coalesce(sum(uploaded_bytes), 0) FROM media_access WHERE user_id = ? AND at >= ?',
    ),
    // Each takes the user id as its one named parameter.
    forget: [
      'DELETE FROM inbox WHERE user_id = @user',
      'DELETE FROM idempotency WHERE sender = @user',
      'DELETE FROM read_tracking WHERE recipient = @user',
      'DELETE FROM codes WHERE phone = @user',
      'DELETE FROM blocks WHERE blocker = @user OR blocked = @user',
      'DELETE FROM contacts WHERE user_a = @user OR user_b = @user',
      'DELETE FROM media_access WHERE user_id = @user',
      'DELETE FROM push_targets WHERE user_id = @user',
      'DELETE FROM devices WHERE user_id = @user',
      'DELETE FROM device_links WHERE user_id = @user',
      'DELETE FROM message_facts WHERE author = @user',
      'DELETE FROM accounts WHERE user_id = @user',
    ].map((sql) => stmt<[{ user: string }]>(sql)),
  };
}

export type PrivacyStatements = ReturnType<typeof preparePrivacyStatements>;

export function isVisibility(value: string): value is PresenceVisibility {
  return value === 'everyone' || value === 'contacts' || value === 'nobody';
}

/** Account deletion, inside the caller's transaction (see Store.deleteAccount). */
export function deleteAccountNow(
  q: SqliteStatements,
  p: PrivacyStatements,
  userId: string,
  toGroup: (row: GroupRow) => Group,
): { revoked: RevokedDevice[] } {
  const revoked = p.devicesOf.all(userId);
  for (const row of q.groupsOf.all(userId)) {
    const group = toGroup(row);
    const without = (users: string[]) => JSON.stringify(users.filter((user) => user !== userId));
    q.updateGroup.run(group.name, without(group.members), without(group.admins), row.groupId);
  }
  for (const statement of p.forget) statement.run({ user: userId });
  return { revoked };
}

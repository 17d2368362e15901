import { Pool } from 'pg';
import { PRIMARY_DEVICE_ID, PRIMARY_DEVICE_NAME, type DeviceAddress, type DeviceRecord } from '../../../domain/device.js';
import type { Appended, DurableEvent, InboxEntry, MessageEvent, NewActionEvent } from '../../../domain/events.js';
import { CourierError } from '../../../domain/errors.js';
import type { Group } from '../../../domain/group.js';
import type { MessageFacts } from '../../../domain/message-actions.js';
import type { PushTarget } from '../../../domain/push-target.js';
import type {
  LinkApproval,
  MediaRecord,
  PendingCode,
  PendingLink,
  PresencePair,
  PresenceVisibility,
  RetentionTimes,
  RevokedDevice,
  SendResult,
  Store,
} from '../../../ports/store.js';
import { GroupCommit } from './postgres-group-commit.js';
import { appendToInboxes, eventFromRow, inboxJobWeight, runInboxBatch, type InboxJob, type InboxResult } from './postgres-inbox.js';
import { deleteAccountIn, presenceAllowed } from './postgres-privacy.js';
import { expireMessages, messageFacts, storeAction } from './postgres-message-actions.js';
import { PostgresPush } from './postgres-push.js';
import { migrate } from './postgres-schema.js';
import { statements } from './postgres-statements.js';
import { withTransaction } from './postgres-transaction.js';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Connections kept by this node. Default 10. */
  poolSize?: number;
  /**
   * Told about errors of idle pooled connections (the server restarting, a network cut). The pool
   * has already dropped the connection and opens a new one on demand; without a listener such
   * an error would crash the process.
   */
  onIdleError?: (error: Error) => void;
}

/**
 * The Store in PostgreSQL, for one node or a cluster of nodes sharing the database.
 *
 * Messages, acks, reads and appends go through group commit (see GroupCommit); the rest are
 * single statements or short transactions of their own. Seqs come from a per-inbox counter
 * row locked until commit, so two nodes writing to one inbox at once still give contiguous seqs
 * in commit order.
 */
export class PostgresStore implements Store {
  private readonly pool: Pool;
  private readonly writes: GroupCommit<InboxJob, InboxResult>;
  private readonly push: PostgresPush;

  constructor(options: PostgresStoreOptions) {
    this.pool = new Pool({
      connectionString: options.connectionString,
      max: options.poolSize ?? 10,
      // A database that cannot be reached must fail /readyz and writes, not hang them.
      connectionTimeoutMillis: 10_000,
      keepAlive: true,
    });
    const onIdleError = options.onIdleError;
    this.pool.on('error', (error) => onIdleError?.(error));
    this.push = new PostgresPush(this.pool);
    this.writes = new GroupCommit({ pool: this.pool, runBatch: runInboxBatch, weight: inboxJobWeight });
  }

  async init(): Promise<void> {
    await migrate(this.pool);
  }

  async close(): Promise<void> {
    await this.writes.close();
    await this.pool.end();
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  // Registration ------------------------------------------------------------

  async saveCode(code: PendingCode): Promise<void> {
    await this.pool.query(
      `INSERT INTO codes (phone, code_hash, expires_at, tries) VALUES ($1, $2, $3, 0)
       ON CONFLICT (phone) DO UPDATE SET code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at, tries = 0`,
      [code.phone, code.codeHash, code.expiresAt],
    );
  }

  async getCode(phone: string): Promise<PendingCode | undefined> {
    const { rows } = await this.pool.query<{ code_hash: string; expires_at: string; tries: number }>(
      'SELECT code_hash, expires_at, tries FROM codes WHERE phone = $1',
      [phone],
    );
    const row = rows[0];
    return row && { phone, codeHash: row.code_hash, expiresAt: Number(row.expires_at), tries: row.tries };
  }

  async takeCodeTry(phone: string, now: number, maxTries: number): Promise<{ codeHash: string; tries: number } | undefined> {
    // One statement: the row lock makes concurrent tries queue, and each sees the count before it.
    const { rows } = await this.pool.query<{ code_hash: string; tries: number }>(
      `UPDATE codes SET tries = tries + 1 WHERE phone = $1 AND expires_at > $2 AND tries < $3
       RETURNING code_hash, tries`,
      [phone, now, maxTries],
    );
    const row = rows[0];
    return row && { codeHash: row.code_hash, tries: row.tries };
  }

  async consumeCode(phone: string, codeHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('DELETE FROM codes WHERE phone = $1 AND code_hash = $2', [phone, codeHash]);
    return rowCount === 1;
  }

  async serverSecret(name: string, candidate: string): Promise<string> {
    // The first writer wins; a losing node's insert does nothing and it reads the winner's value.
    await this.pool.query('INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, candidate]);
    const { rows } = await this.pool.query<{ value: string }>('SELECT value FROM server_secrets WHERE name = $1', [name]);
    return rows[0]!.value;
  }

  registerPrimary(userId: string, tokenHash: string, now: number): Promise<{ revoked: RevokedDevice[] }> {
    return withTransaction(this.pool, async (client) => {
      // Create-then-lock, so that two registrations of a new account at once still see each other.
      // The account row's lock also keeps link approvals of the account out until commit.
      await client.query(
        `INSERT INTO accounts (user_id, last_seen, created_at) VALUES ($1, $2, $2) ON CONFLICT (user_id) DO NOTHING`,
        [userId, now],
      );
      await client.query('UPDATE accounts SET last_seen = GREATEST(last_seen, $2) WHERE user_id = $1', [userId, now]);
      // Device rows are locked in id order, as appends lock them.
      const { rows } = await client.query<{ device_id: number; token_hash: string }>(
        'SELECT device_id, token_hash FROM devices WHERE user_id = $1 ORDER BY device_id FOR UPDATE',
        [userId],
      );
      if (rows.length === 0) {
        await client.query(
          `INSERT INTO devices (user_id, device_id, name, token_hash, linked_at, last_seen) VALUES ($1, $2, $3, $4, $5, $5)`,
          [userId, PRIMARY_DEVICE_ID, PRIMARY_DEVICE_NAME, tokenHash, now],
        );
        return { revoked: [] };
      }
      await client.query('DELETE FROM inbox WHERE user_id = $1 AND device_id <> $2', [userId, PRIMARY_DEVICE_ID]);
      await client.query('DELETE FROM devices WHERE user_id = $1 AND device_id <> $2', [userId, PRIMARY_DEVICE_ID]);
      // The old phone must not be woken for the new one's messages.
      await client.query('DELETE FROM push_targets WHERE user_id = $1', [userId]);
      await client.query(
        'UPDATE devices SET token_hash = $3, last_seen = GREATEST(last_seen, $4) WHERE user_id = $1 AND device_id = $2',
        [userId, PRIMARY_DEVICE_ID, tokenHash, now],
      );
      return {
        // An unchanged primary token did not die: naming it would close the sockets it just opened.
        revoked: rows
          .filter((row) => !(row.device_id === PRIMARY_DEVICE_ID && row.token_hash === tokenHash))
          .map((row) => ({ deviceId: row.device_id, tokenHash: row.token_hash })),
      };
    });
  }

  async deviceByTokenHash(tokenHash: string): Promise<DeviceAddress | undefined> {
    const { rows } = await this.pool.query<{ user_id: string; device_id: number }>(
      'SELECT user_id, device_id FROM devices WHERE token_hash = $1',
      [tokenHash],
    );
    const row = rows[0];
    return row && { userId: row.user_id, deviceId: row.device_id };
  }

  async existingUsers(userIds: string[]): Promise<Set<string>> {
    if (userIds.length === 0) return new Set();
    const { rows } = await this.pool.query<{ user_id: string }>(
      'SELECT user_id FROM accounts WHERE user_id = ANY($1::text[])',
      [userIds],
    );
    return new Set(rows.map((row) => row.user_id));
  }

  async setLastSeen(userId: string, ts: number, deviceId?: number): Promise<void> {
    await this.pool.query(
      `WITH account AS (UPDATE accounts SET last_seen = GREATEST(last_seen, $2) WHERE user_id = $1)
       UPDATE devices SET last_seen = GREATEST(last_seen, $2) WHERE user_id = $1 AND device_id = $3`,
      [userId, ts, deviceId ?? null],
    );
  }

  async lastSeen(userIds: string[]): Promise<Map<string, number>> {
    if (userIds.length === 0) return new Map();
    const { rows } = await this.pool.query<{ user_id: string; last_seen: string }>(
      'SELECT user_id, last_seen FROM accounts WHERE user_id = ANY($1::text[])',
      [userIds],
    );
    return new Map(rows.map((row) => [row.user_id, Number(row.last_seen)]));
  }

  // Devices -------------------------------------------------------------------

  async devicesOf(userIds: string[]): Promise<DeviceRecord[]> {
    if (userIds.length === 0) return [];
    const { rows } = await this.pool.query<{ user_id: string; device_id: number; name: string; linked_at: string; last_seen: string }>(
      `SELECT user_id, device_id, name, linked_at, last_seen FROM devices
       WHERE user_id = ANY($1::text[]) ORDER BY user_id, device_id`,
      [userIds],
    );
    return rows.map((row) => ({
      userId: row.user_id,
      deviceId: row.device_id,
      name: row.name,
      linkedAt: Number(row.linked_at),
      lastSeen: Number(row.last_seen),
    }));
  }

  async createLink(link: PendingLink): Promise<void> {
    await this.pool.query(
      'INSERT INTO device_links (code_hash, poll_hash, token_hash, name, expires_at) VALUES ($1, $2, $3, $4, $5)',
      [link.codeHash, link.pollHash, link.tokenHash, link.name, link.expiresAt],
    );
  }

  async getLinkByPollHash(pollHash: string): Promise<PendingLink | undefined> {
    const { rows } = await this.pool.query<LinkRow>('SELECT * FROM device_links WHERE poll_hash = $1', [pollHash]);
    const row = rows[0];
    if (row === undefined) return undefined;
    const link: PendingLink = {
      codeHash: row.code_hash,
      pollHash: row.poll_hash,
      tokenHash: row.token_hash,
      name: row.name,
      expiresAt: Number(row.expires_at),
    };
    return row.user_id === null || row.device_id === null ? link : { ...link, device: { userId: row.user_id, deviceId: row.device_id } };
  }

  approveLink(codeHash: string, userId: string, now: number, maxLinked: number): Promise<LinkApproval> {
    return withTransaction(this.pool, async (client): Promise<LinkApproval> => {
      // The account row's lock makes approvals of one account (and its re-registration) take turns,
      // so the count below is still true at commit.
      const account = await client.query<{ last_device_id: number }>(
        'SELECT last_device_id FROM accounts WHERE user_id = $1 FOR UPDATE',
        [userId],
      );
      const lastDeviceId = account.rows[0]?.last_device_id;
      if (lastDeviceId === undefined) throw new CourierError('unknown_user', `${userId} has no account`, 404);
      const link = await client.query<{ token_hash: string; name: string }>(
        `SELECT token_hash, name FROM device_links WHERE code_hash = $1 AND user_id IS NULL AND expires_at > $2 FOR UPDATE`,
        [codeHash, now],
      );
      const found = link.rows[0];
      if (found === undefined) return { outcome: 'unknown_code' };
      const linked = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM devices WHERE user_id = $1 AND device_id <> $2',
        [userId, PRIMARY_DEVICE_ID],
      );
      if ((linked.rows[0]?.n ?? 0) >= maxLinked) return { outcome: 'too_many_devices' };
      const deviceId = lastDeviceId + 1;
      await client.query('UPDATE accounts SET last_device_id = $2 WHERE user_id = $1', [userId, deviceId]);
      await client.query('UPDATE device_links SET user_id = $2, device_id = $3 WHERE code_hash = $1', [codeHash, userId, deviceId]);
      await client.query(
        'INSERT INTO devices (user_id, device_id, name, token_hash, linked_at, last_seen) VALUES ($1, $2, $3, $4, $5, $5)',
        [userId, deviceId, found.name, found.token_hash, now],
      );
      return { outcome: 'approved', deviceId, name: found.name };
    });
  }

  async collectLink(pollHash: string): Promise<DeviceAddress | undefined> {
    // A device removed (or revoked by a new registration) before it collected its token is gone.
    const { rows } = await this.pool.query<{ user_id: string; device_id: number }>(
      `WITH taken AS (
         DELETE FROM device_links WHERE poll_hash = $1 AND user_id IS NOT NULL RETURNING user_id, device_id
       )
       SELECT t.user_id, t.device_id FROM taken t JOIN devices d ON d.user_id = t.user_id AND d.device_id = t.device_id`,
      [pollHash],
    );
    const row = rows[0];
    return row && { userId: row.user_id, deviceId: row.device_id };
  }

  removeDevice(device: DeviceAddress): Promise<{ tokenHash: string } | undefined> {
    return withTransaction(this.pool, async (client) => {
      // The device row first, as appends lock it: once it is gone no append can reach the inbox.
      const { rows } = await client.query<{ token_hash: string }>(
        'DELETE FROM devices WHERE user_id = $1 AND device_id = $2 RETURNING token_hash',
        [device.userId, device.deviceId],
      );
      const removed = rows[0];
      if (removed === undefined) return undefined;
      await client.query('DELETE FROM inbox WHERE user_id = $1 AND device_id = $2', [device.userId, device.deviceId]);
      await client.query('DELETE FROM push_targets WHERE user_id = $1 AND device_id = $2', [device.userId, device.deviceId]);
      return { tokenHash: removed.token_hash };
    });
  }

  // Messaging ---------------------------------------------------------------

  sendMessage(message: Omit<MessageEvent, 'seq' | 'type'>, recipients: string[], fromDevice: number): Promise<SendResult> {
    return this.writes.submit({ kind: 'send', message, recipients, fromDevice }) as Promise<SendResult>;
  }

  appendEvents(entries: InboxEntry[]): Promise<Appended[]> {
    if (entries.length === 0) return Promise.resolve([]);
    return this.writes.submit({ kind: 'append', entries }) as Promise<Appended[]>;
  }

  async readInbox(device: DeviceAddress, afterSeq: number, limit: number): Promise<DurableEvent[]> {
    const rows = await statements.readInbox.rows(this.pool, device.userId, device.deviceId, Math.floor(afterSeq), Math.max(0, Math.floor(limit)));
    return rows.map((row) => eventFromRow(row.seq, row.payload));
  }

  async lastSeq(device: DeviceAddress): Promise<number> {
    const rows = await statements.lastSeq.rows(this.pool, device.userId, device.deviceId);
    return rows[0] ? Number(rows[0].last_seq) : 0;
  }

  ackUpTo(device: DeviceAddress, upTo: number, now: number): Promise<Appended[]> {
    return this.writes.submit({ kind: 'ack', device, upTo, now }) as Promise<Appended[]>;
  }

  markRead(reader: DeviceAddress, serverIds: string[], now: number): Promise<Appended[]> {
    if (serverIds.length === 0) return Promise.resolve([]);
    return this.writes.submit({ kind: 'read', reader, serverIds, now }) as Promise<Appended[]>;
  }

  // Message actions -----------------------------------------------------------

  async earlierAnswer(sender: string, clientId: string): Promise<{ serverId: string; ts: number } | undefined> {
    const { rows } = await this.pool.query<{ server_id: string; ts: string }>(
      'SELECT server_id, ts FROM idempotency WHERE sender = $1 AND client_id = $2',
      [sender, clientId],
    );
    return rows[0] && { serverId: rows[0].server_id, ts: Number(rows[0].ts) };
  }

  messageFacts(serverId: string): Promise<MessageFacts | undefined> {
    return messageFacts(this.pool, serverId);
  }

  storeAction(action: NewActionEvent, recipients: string[], fromDevice: number): Promise<SendResult> {
    return storeAction(this.pool, action, recipients, fromDevice);
  }

  expireMessages(now: number, limit: number): Promise<number> {
    if (limit <= 0) return Promise.resolve(0);
    return expireMessages(this.pool, now, limit);
  }

  // Groups ------------------------------------------------------------------

  createGroup(group: Group, events: InboxEntry[]): Promise<Appended[]> {
    return withTransaction(this.pool, async (client) => {
      await client.query(
        'INSERT INTO groups (group_id, name, members, admins, created_at) VALUES ($1, $2, $3::text[], $4::text[], $5)',
        [group.groupId, group.name, group.members, group.admins, group.createdAt],
      );
      return (await appendToInboxes(client, events)).appended;
    });
  }

  async getGroup(groupId: string): Promise<Group | undefined> {
    const { rows } = await this.pool.query<GroupRow>('SELECT * FROM groups WHERE group_id = $1', [groupId]);
    return rows[0] && groupFromRow(rows[0]);
  }

  async groupsOf(userId: string): Promise<Group[]> {
    const { rows } = await this.pool.query<GroupRow>('SELECT * FROM groups WHERE members @> ARRAY[$1] ORDER BY created_at, group_id', [userId]);
    return rows.map(groupFromRow);
  }

  changeGroup(
    groupId: string,
    change: (group: Group) => { group: Group; events: InboxEntry[] },
  ): Promise<{ group: Group; appended: Appended[] }> {
    return withTransaction(this.pool, async (client) => {
      // The group's row lock, held to commit, is what keeps changes of one group from interleaving.
      const { rows } = await client.query<GroupRow>('SELECT * FROM groups WHERE group_id = $1 FOR UPDATE', [groupId]);
      const row = rows[0];
      if (row === undefined) throw new CourierError('not_found', 'No such group', 404);
      const next = change(groupFromRow(row));
      await client.query('UPDATE groups SET name = $2, members = $3::text[], admins = $4::text[] WHERE group_id = $1', [
        groupId,
        next.group.name,
        next.group.members,
        next.group.admins,
      ]);
      const { appended } = await appendToInboxes(client, next.events);
      return { group: next.group, appended };
    });
  }

  // Blocking, privacy and account deletion ---------------------------------------

  async setBlocked(blocker: string, blocked: string, on: boolean, now: number): Promise<void> {
    if (on) {
      await this.pool.query('INSERT INTO blocks (blocker, blocked, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [blocker, blocked, now]);
    } else {
      await this.pool.query('DELETE FROM blocks WHERE blocker = $1 AND blocked = $2', [blocker, blocked]);
    }
  }

  async blockedBy(blocker: string): Promise<string[]> {
    const { rows } = await this.pool.query<{ blocked: string }>('SELECT blocked FROM blocks WHERE blocker = $1 ORDER BY created_at, blocked', [blocker]);
    return rows.map((row) => row.blocked);
  }

  async blockedEitherWay(a: string, b: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      'SELECT 1 FROM blocks WHERE (blocker = $1 AND blocked = $2) OR (blocker = $2 AND blocked = $1) LIMIT 1',
      [a, b],
    );
    return (rowCount ?? 0) > 0;
  }

  async setPresenceVisibility(userId: string, visibility: PresenceVisibility): Promise<void> {
    await this.pool.query('UPDATE accounts SET presence_visibility = $2 WHERE user_id = $1', [userId, visibility]);
  }

  presenceAllowed(pairs: PresencePair[]): Promise<PresencePair[]> {
    if (pairs.length === 0) return Promise.resolve([]);
    return presenceAllowed(this.pool, pairs);
  }

  deleteAccount(userId: string): Promise<{ revoked: RevokedDevice[] }> {
    return withTransaction(this.pool, (client) => deleteAccountIn(client, userId));
  }

  // Media -------------------------------------------------------------------

  async grantMedia(hash: string, userId: string, uploadedBytes: number, now: number): Promise<void> {
    await this.pool.query(
      'INSERT INTO media_access (hash, user_id, uploaded_bytes, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [hash, userId, uploadedBytes, now],
    );
  }

  async mayFetchMedia(hash: string, userId: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM media_access WHERE hash = $1 AND user_id = $2', [hash, userId]);
    return (rowCount ?? 0) > 0;
  }

  async uploadedBytesSince(userId: string, since: number): Promise<number> {
    const { rows } = await this.pool.query<{ bytes: string }>(
      'SELECT coalesce(sum(uploaded_bytes), 0) AS bytes FROM media_access WHERE user_id = $1 AND at >= $2',
      [userId, since],
    );
    return Number(rows[0]?.bytes ?? 0);
  }

  async saveMedia(media: MediaRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO media (hash, size, mime, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING',
      [media.hash, media.size, media.mime, media.createdAt],
    );
  }

  async getMedia(hash: string): Promise<MediaRecord | undefined> {
    const { rows } = await this.pool.query<{ size: string; mime: string; created_at: string }>(
      'SELECT size, mime, created_at FROM media WHERE hash = $1',
      [hash],
    );
    const row = rows[0];
    return row && { hash, size: Number(row.size), mime: row.mime, createdAt: Number(row.created_at) };
  }

  async unreferencedMedia(olderThan: number, limit: number): Promise<string[]> {
    const { rows } = await this.pool.query<{ hash: string }>(
      `SELECT m.hash FROM media m
       WHERE m.created_at < $1 AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.media_hash = m.hash)
       ORDER BY m.created_at, m.hash LIMIT $2`,
      [olderThan, Math.max(0, Math.floor(limit))],
    );
    return rows.map((row) => row.hash);
  }

  async deleteMedia(hash: string): Promise<void> {
    await this.pool.query('DELETE FROM media WHERE hash = $1', [hash]);
  }

  // Push --------------------------------------------------------------------

  savePushTarget(userId: string, deviceId: number, target: PushTarget): Promise<void> {
    return this.push.save(userId, deviceId, target);
  }

  pushTarget(userId: string, deviceId: number): Promise<PushTarget | undefined> {
    return this.push.get(userId, deviceId);
  }

  deletePushTarget(userId: string, deviceId: number, only?: PushTarget): Promise<boolean> {
    return this.push.delete(userId, deviceId, only);
  }

  pendingCounts(device: DeviceAddress): Promise<{ events: number; messages: number }> {
    return this.push.pendingCounts(device);
  }


  // Housekeeping and gauges ---------------------------------------------------

  async sweep(now: number, keepFor: RetentionTimes): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM codes WHERE expires_at <= $1', [now]);
      await client.query('DELETE FROM idempotency WHERE ts < $1', [now - keepFor.idempotencyMs]);
      await client.query('DELETE FROM read_tracking WHERE ts < $1', [now - keepFor.readTrackingMs]);
      // Access rows of removed blobs, once they no longer count against a daily quota.
      await client.query(
        'DELETE FROM media_access a WHERE a.at < $1 AND NOT EXISTS (SELECT 1 FROM media m WHERE m.hash = a.hash)',
        [now - 24 * 60 * 60 * 1000],
      );
      await client.query('DELETE FROM device_links WHERE expires_at < $1', [now - keepFor.expiredLinksMs]);
      await client.query('DELETE FROM message_facts WHERE ts < $1 AND expires_at IS NULL', [now - keepFor.messageFactsMs]);
    });
  }

  async backlog(): Promise<{ events: number; oldestTs?: number }> {
    const { rows } = await this.pool.query<{ events: string; oldest: string | null }>(
      'SELECT count(*) AS events, min(ts) AS oldest FROM inbox',
    );
    const row = rows[0];
    const events = Number(row?.events ?? 0);
    return row?.oldest == null ? { events } : { events, oldestTs: Number(row.oldest) };
  }
}

interface LinkRow {
  code_hash: string;
  poll_hash: string;
  token_hash: string;
  name: string;
  expires_at: string;
  user_id: string | null;
  device_id: number | null;
}

interface GroupRow {
  group_id: string;
  name: string;
  members: string[];
  admins: string[];
  created_at: string;
}

function groupFromRow(row: GroupRow): Group {
  return {
    groupId: row.group_id,
    name: row.name,
    members: row.members,
    admins: row.admins,
    createdAt: Number(row.created_at),
  };
}

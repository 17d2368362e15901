import type Database from 'better-sqlite3';

/** The part of better-sqlite3's Statement the store uses (its own type cannot be named in declarations). */
export interface Statement<P extends unknown[], R = unknown> {
  run(...params: P): Database.RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

export interface InboxRow {
  seq: number;
  payload: string;
}

export interface AckedRow {
  kind: string;
  sender: string | null;
  serverId: string | null;
  own: number;
}

export interface DeviceRow {
  userId: string;
  deviceId: number;
  name: string;
  linkedAt: number;
  lastSeen: number;
}

export interface LinkRow {
  codeHash: string;
  pollHash: string;
  tokenHash: string;
  name: string;
  expiresAt: number;
  userId: string | null;
  deviceId: number | null;
}

export interface FactsRow {
  serverId: string;
  author: string;
  to: string;
  recipients: string;
  ts: number;
}

export interface CodeRow {
  phone: string;
  codeHash: string;
  expiresAt: number;
  tries: number;
}

export interface GroupRow {
  groupId: string;
  name: string;
  members: string;
  admins: string;
  createdAt: number;
}

export interface MediaRow {
  hash: string;
  size: number;
  mime: string;
  createdAt: number;
}

/**
 * Every statement the store runs, prepared once. Lists of ids are passed as one JSON array
 * and opened with json_each, so a single statement serves any number of ids.
 */
export function prepareStatements(db: Database.Database) {
  const stmt = <P extends unknown[], R = unknown>(sql: string): Statement<P, R> => db.prepare<P, R>(sql);
  // For statements that give one column: rows come back as its bare values.
  const one = <P extends unknown[], R>(sql: string): Statement<P, R> => db.prepare<P, R>(sql).pluck();
  return {
    ping: one<[], number>('SELECT 1'),

    saveCode: stmt<[string, string, number]>(
      `INSERT INTO codes (phone, code_hash, expires_at, tries) VALUES (?, ?, ?, 0)
       ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, tries = 0`,
    ),
    getCode: stmt<[string], CodeRow>(
      'SELECT phone, code_hash AS codeHash, expires_at AS expiresAt, tries FROM codes WHERE phone = ?',
    ),
    takeCodeTry: stmt<[string, number, number], { codeHash: string; tries: number }>(
      `UPDATE codes SET tries = tries + 1 WHERE phone = ? AND expires_at > ? AND tries < ?
       RETURNING code_hash AS codeHash, tries`,
    ),
    consumeCode: stmt<[string, string]>('DELETE FROM codes WHERE phone = ? AND code_hash = ?'),
    keepSecret: stmt<[string, string]>('INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING'),
    secret: one<[string], string>('SELECT value FROM server_secrets WHERE name = ?'),

    primaryToken: one<[string], string>('SELECT token_hash FROM devices WHERE user_id = ? AND device_id = 1'),
    linkedDevices: stmt<[string], { deviceId: number; tokenHash: string }>(
      'SELECT device_id AS deviceId, token_hash AS tokenHash FROM devices WHERE user_id = ? AND device_id <> 1',
    ),
    insertAccount: stmt<[string, number, number]>(
      'INSERT INTO accounts (user_id, last_device_id, last_seen, created_at) VALUES (?, 1, ?, ?)',
    ),
    insertDevice: stmt<[string, number, string, string, number, number]>(
      `INSERT INTO devices (user_id, device_id, name, token_hash, last_seq, linked_at, last_seen)
       VALUES (?, ?, ?, ?, 0, ?, ?)`,
    ),
    replacePrimaryToken: stmt<[string, number, string]>(
      'UPDATE devices SET token_hash = ?, last_seen = max(last_seen, ?) WHERE user_id = ? AND device_id = 1',
    ),
    deleteLinkedDevices: stmt<[string]>('DELETE FROM devices WHERE user_id = ? AND device_id <> 1'),
    deleteLinkedInboxes: stmt<[string]>('DELETE FROM inbox WHERE user_id = ? AND device_id <> 1'),
    deletePushTargets: stmt<[string]>('DELETE FROM push_targets WHERE user_id = ?'),
    deletePushTarget: stmt<[string, number]>('DELETE FROM push_targets WHERE user_id = ? AND device_id = ?'),
    deviceByToken: stmt<[string], { userId: string; deviceId: number }>(
      'SELECT user_id AS userId, device_id AS deviceId FROM devices WHERE token_hash = ?',
    ),
    existingUsers: one<[string], string>(
      'SELECT user_id FROM accounts WHERE user_id IN (SELECT value FROM json_each(?))',
    ),
    setLastSeen: stmt<[number, string]>('UPDATE accounts SET last_seen = max(last_seen, ?) WHERE user_id = ?'),
    setDeviceLastSeen: stmt<[number, string, number]>(
      'UPDATE devices SET last_seen = max(last_seen, ?) WHERE user_id = ? AND device_id = ?',
    ),
    lastSeen: stmt<[string], { userId: string; lastSeen: number }>(
      'SELECT user_id AS userId, last_seen AS lastSeen FROM accounts WHERE user_id IN (SELECT value FROM json_each(?))',
    ),
    devicesOf: stmt<[string], DeviceRow>(
      `SELECT user_id AS userId, device_id AS deviceId, name, linked_at AS linkedAt, last_seen AS lastSeen
       FROM devices WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id, device_id`,
    ),
    deviceIds: one<[string], number>('SELECT device_id FROM devices WHERE user_id = ? ORDER BY device_id'),
    countLinked: one<[string], number>('SELECT count(*) FROM devices WHERE user_id = ? AND device_id <> 1'),
    nextDeviceId: one<[string], number>(
      'UPDATE accounts SET last_device_id = last_device_id + 1 WHERE user_id = ? RETURNING last_device_id',
    ),
    deviceToken: one<[string, number], string>('SELECT token_hash FROM devices WHERE user_id = ? AND device_id = ?'),
    deleteDevice: stmt<[string, number]>('DELETE FROM devices WHERE user_id = ? AND device_id = ?'),
    deleteInbox: stmt<[string, number]>('DELETE FROM inbox WHERE user_id = ? AND device_id = ?'),
    lastSeq: one<[string, number], number>('SELECT last_seq FROM devices WHERE user_id = ? AND device_id = ?'),
    saveLastSeq: stmt<[number, string, number]>('UPDATE devices SET last_seq = ? WHERE user_id = ? AND device_id = ?'),

    insertLink: stmt<[string, string, string, string, number]>(
      'INSERT INTO device_links (code_hash, poll_hash, token_hash, name, expires_at) VALUES (?, ?, ?, ?, ?)',
    ),
    pendingLink: stmt<[string, number], { tokenHash: string; name: string }>(
      `SELECT token_hash AS tokenHash, name FROM device_links
       WHERE code_hash = ? AND user_id IS NULL AND expires_at > ?`,
    ),
    linkByPoll: stmt<[string], LinkRow>(
      `SELECT code_hash AS codeHash, poll_hash AS pollHash, token_hash AS tokenHash, name,
              expires_at AS expiresAt, user_id AS userId, device_id AS deviceId
       FROM device_links WHERE poll_hash = ?`,
    ),
    approveLink: stmt<[string, number, string]>(
      'UPDATE device_links SET user_id = ?, device_id = ? WHERE code_hash = ? AND user_id IS NULL',
    ),
    collectLink: stmt<[string], { userId: string; deviceId: number }>(
      `DELETE FROM device_links WHERE poll_hash = ? AND user_id IS NOT NULL
       RETURNING user_id AS userId, device_id AS deviceId`,
    ),

    insertEvent: stmt<[string, number, number, string, string | null, string | null, string | null, number, number, string]>(
      `INSERT INTO inbox (user_id, device_id, seq, kind, sender, server_id, media_hash, own, ts, payload)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** One event into many inboxes: the last parameter is a JSON array of [userId, deviceId, seq, own] rows. */
    insertEventMany: stmt<[string, string | null, string | null, string | null, number, string, string]>(
      `INSERT INTO inbox (user_id, device_id, seq, own, kind, sender, server_id, media_hash, ts, payload)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, ?, ?, ?, ?, ?, ? FROM json_each(?)`,
    ),
    /** Different events into one inbox each: a JSON array of [userId, deviceId, seq, own, kind, sender, serverId, mediaHash, ts, payload] rows. */
    insertEvents: stmt<[string]>(
      `INSERT INTO inbox (user_id, device_id, seq, own, kind, sender, server_id, media_hash, ts, payload)
       SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9
       FROM json_each(?)`,
    ),
    readInbox: stmt<[string, number, number, number], InboxRow>(
      'SELECT seq, payload FROM inbox WHERE user_id = ? AND device_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    /** Deletes the acked events and gives back what they were (in no particular order). */
    deleteUpTo: stmt<[string, number, number], AckedRow>(
      `DELETE FROM inbox WHERE user_id = ? AND device_id = ? AND seq <= ?
       RETURNING kind, sender, server_id AS serverId, own`,
    ),
    receivedFrom: one<[string, string], string>(
      `SELECT sender FROM inbox WHERE user_id = ? AND server_id = ? AND kind = 'message' AND own = 0 LIMIT 1`,
    ),
    backlog: stmt<[], { events: number; oldestTs: number | null }>(
      'SELECT count(*) AS events, min(ts) AS oldestTs FROM inbox',
    ),

    firstSend: stmt<[string, string], { serverId: string; ts: number }>(
      'SELECT server_id AS serverId, ts FROM idempotency WHERE sender = ? AND client_id = ?',
    ),
    /** Changes nothing (0 changes) when the (sender, client id) was used before. */
    rememberSend: stmt<[string, string, string, number]>(
      'INSERT INTO idempotency (sender, client_id, server_id, ts) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),

    rememberFacts: stmt<[string, string, string, string, number, number | null]>(
      `INSERT INTO message_facts (server_id, author, to_address, recipients, ts, expires_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (server_id) DO NOTHING`,
    ),
    facts: stmt<[string], FactsRow>(
      `SELECT server_id AS serverId, author, to_address AS "to", recipients, ts FROM message_facts WHERE server_id = ?`,
    ),
    forgetFacts: stmt<[string]>('DELETE FROM message_facts WHERE server_id = ?'),
    /** Every copy of a message still in the inboxes of the given users (a JSON array). */
    deleteCopies: stmt<[string, string]>(
      `DELETE FROM inbox WHERE kind = 'message' AND server_id = ? AND user_id IN (SELECT value FROM json_each(?))`,
    ),
    dueExpiries: stmt<[number, number], FactsRow>(
      `SELECT server_id AS serverId, author, to_address AS "to", recipients, ts FROM message_facts
       WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`,
    ),
    clearExpiry: stmt<[string]>('UPDATE message_facts SET expires_at = NULL WHERE server_id = ?'),

    // Both answer a row only when they changed the flag: the first device of the user to ack
    // (or read) a message gives the receipt, any later one none.
    /**
     * The parameter is a JSON array of [recipient, serverId, sender, ts] rows (several devices'
     * acks at once); answers the (recipient, serverId) pairs it delivered first.
     */
    markDelivered: stmt<[string], { recipient: string; serverId: string }>(
      `INSERT INTO read_tracking (recipient, server_id, sender, delivered, read, ts)
       SELECT value ->> 0, value ->> 1, value ->> 2, 1, 0, value ->> 3 FROM json_each(?) WHERE true
       ON CONFLICT (recipient, server_id) DO UPDATE SET delivered = 1 WHERE delivered = 0
       RETURNING recipient, server_id AS serverId`,
    ),
    markReadOnce: one<[string, string, string, number], number>(
      `INSERT INTO read_tracking (recipient, server_id, sender, delivered, read, ts) VALUES (?, ?, ?, 0, 1, ?)
       ON CONFLICT (recipient, server_id) DO UPDATE SET read = 1 WHERE read = 0
       RETURNING 1`,
    ),
    trackedSender: one<[string, string], string>(
      'SELECT sender FROM read_tracking WHERE recipient = ? AND server_id = ?',
    ),

    insertGroup: stmt<[string, string, string, string, number]>(
      'INSERT INTO chat_groups (group_id, name, members, admins, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    getGroup: stmt<[string], GroupRow>(
      `SELECT group_id AS groupId, name, members, admins, created_at AS createdAt
       FROM chat_groups WHERE group_id = ?`,
    ),
    groupsOf: stmt<[string], GroupRow>(
      `SELECT group_id AS groupId, name, members, admins, created_at AS createdAt
       FROM chat_groups WHERE EXISTS (SELECT 1 FROM json_each(chat_groups.members) WHERE value = ?)
       ORDER BY created_at, group_id`,
    ),
    updateGroup: stmt<[string, string, string, string]>(
      'UPDATE chat_groups SET name = ?, members = ?, admins = ? WHERE group_id = ?',
    ),

    saveMedia: stmt<[string, number, string, number]>(
      'INSERT INTO media (hash, size, mime, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING',
    ),
    getMedia: stmt<[string], MediaRow>(
      'SELECT hash, size, mime, created_at AS createdAt FROM media WHERE hash = ?',
    ),
    unreferencedMedia: one<[number, number], string>(
      `SELECT hash FROM media m
       WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.media_hash = m.hash)
       ORDER BY created_at LIMIT ?`,
    ),
    deleteMedia: stmt<[string]>('DELETE FROM media WHERE hash = ?'),

    blocks: one<[string, string], number>('SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?'),
    addContact: stmt<[string, string]>('INSERT INTO contacts (user_a, user_b) VALUES (?, ?) ON CONFLICT DO NOTHING'),
    grantMedia: stmt<[string, string, number, number]>(
      'INSERT INTO media_access (hash, user_id, uploaded_bytes, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ),
    sweepMediaAccess: stmt<[number]>(
      'DELETE FROM media_access WHERE at < ? AND NOT EXISTS (SELECT 1 FROM media m WHERE m.hash = media_access.hash)',
    ),

    // Expired at or before now, as takeCodeTry counts it.
    sweepCodes: stmt<[number]>('DELETE FROM codes WHERE expires_at <= ?'),
    sweepIdempotency: stmt<[number]>('DELETE FROM idempotency WHERE ts < ?'),
    sweepReadTracking: stmt<[number]>('DELETE FROM read_tracking WHERE ts < ?'),
    sweepLinks: stmt<[number]>('DELETE FROM device_links WHERE expires_at < ?'),
    sweepFacts: stmt<[number]>('DELETE FROM message_facts WHERE ts < ? AND expires_at IS NULL'),
  };
}

export type SqliteStatements = ReturnType<typeof prepareStatements>;

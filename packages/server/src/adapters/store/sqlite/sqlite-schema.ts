import type Database from 'better-sqlite3';

/**
 * Migrations, oldest first. `PRAGMA user_version` holds how many have run; never edit a
 * migration that has shipped, add a new one.
 *
 * Inbox rows keep the whole event as JSON (`payload`, without its seq) and copy out only the
 * columns that queries filter on. A read_tracking row per (recipient user, message) remembers
 * whether the user's delivered and read receipts were given, whichever device gave them.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE accounts (
    user_id    TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    last_seen  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE inbox (
    user_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    sender     TEXT,
    server_id  TEXT,
    media_hash TEXT,
    read       INTEGER NOT NULL DEFAULT 0,
    ts         INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
  ) STRICT;
  CREATE INDEX inbox_by_server_id ON inbox (user_id, server_id) WHERE server_id IS NOT NULL;
  CREATE INDEX inbox_by_media ON inbox (media_hash) WHERE media_hash IS NOT NULL;
  CREATE INDEX inbox_by_ts ON inbox (ts);

  CREATE TABLE idempotency (
    sender    TEXT NOT NULL,
    client_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    ts        INTEGER NOT NULL,
    PRIMARY KEY (sender, client_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX idempotency_by_ts ON idempotency (ts);

  CREATE TABLE read_tracking (
    recipient TEXT NOT NULL,
    server_id TEXT NOT NULL,
    sender    TEXT NOT NULL,
    read      INTEGER NOT NULL DEFAULT 0,
    ts        INTEGER NOT NULL,
    PRIMARY KEY (recipient, server_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX read_tracking_by_ts ON read_tracking (ts);

  CREATE TABLE codes (
    phone      TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    tries      INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX codes_by_expiry ON codes (expires_at);

  CREATE TABLE chat_groups (
    group_id   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    members    TEXT NOT NULL,
    admins     TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE media (
    hash       TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    mime       TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX media_by_created_at ON media (created_at);
  `,
  `
  CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) STRICT;
  `,
  `
  -- One push target per device; target is the JSON of serializePushTarget (compared as text).
  CREATE TABLE push_targets (
    user_id    TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    target     TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
  ) STRICT;
  `,
  // Only the backlog gauge read inbox_by_ts, every few seconds; every insert and ack paid for it.
  `
  DROP INDEX inbox_by_ts;
  `,
  `
  -- What authorises actions on a message (never its text), kept for the longest action window;
  -- expires_at is set while the message still has to disappear from inboxes (expiresIn).
  CREATE TABLE message_facts (
    server_id  TEXT PRIMARY KEY,
    author     TEXT NOT NULL,
    to_address TEXT NOT NULL,
    recipients TEXT NOT NULL,
    ts         INTEGER NOT NULL,
    expires_at INTEGER
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX message_facts_by_ts ON message_facts (ts);
  CREATE INDEX message_facts_by_expiry ON message_facts (expires_at) WHERE expires_at IS NOT NULL;
  `,
  // 6: devices. Each device has its token, its seq counter and its inbox; the primary (1) takes
  // over the account's token, counter and inbox rows, so nothing undelivered is lost. Whether a
  // user has read a message becomes the user's, not an inbox row's (read_tracking.read, with
  // `delivered` telling whether the first ack of one of its devices gave the receipt yet).
  `
  CREATE TABLE devices (
    user_id    TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    linked_at  INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
  ) STRICT;
  INSERT INTO devices (user_id, device_id, name, token_hash, last_seq, linked_at, last_seen)
    SELECT user_id, 1, 'Primary device', token_hash, last_seq, created_at, last_seen FROM accounts;

  CREATE TABLE accounts_v2 (
    user_id        TEXT PRIMARY KEY,
    last_device_id INTEGER NOT NULL DEFAULT 1,
    last_seen      INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
  ) STRICT;
  INSERT INTO accounts_v2 (user_id, last_device_id, last_seen, created_at)
    SELECT user_id, 1, last_seen, created_at FROM accounts;
  DROP TABLE accounts;
  ALTER TABLE accounts_v2 RENAME TO accounts;

  ALTER TABLE read_tracking ADD COLUMN delivered INTEGER NOT NULL DEFAULT 1;
  INSERT INTO read_tracking (recipient, server_id, sender, read, ts, delivered)
    SELECT user_id, server_id, sender, 1, ts, 0 FROM inbox WHERE kind = 'message' AND read = 1
    ON CONFLICT (recipient, server_id) DO NOTHING;

  -- own: a copy of the owner's message sent from its other device, which gives no receipts.
  CREATE TABLE inbox_v2 (
    user_id    TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    sender     TEXT,
    server_id  TEXT,
    media_hash TEXT,
    own        INTEGER NOT NULL DEFAULT 0,
    ts         INTEGER NOT NULL,
    payload    TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id, seq)
  ) STRICT;
  INSERT INTO inbox_v2 (user_id, device_id, seq, kind, sender, server_id, media_hash, ts, payload)
    SELECT user_id, 1, seq, kind, sender, server_id, media_hash, ts, payload FROM inbox;
  DROP TABLE inbox;
  ALTER TABLE inbox_v2 RENAME TO inbox;
  CREATE INDEX inbox_by_server_id ON inbox (user_id, server_id) WHERE server_id IS NOT NULL;
  CREATE INDEX inbox_by_media ON inbox (media_hash) WHERE media_hash IS NOT NULL;

  -- A device waiting to be linked; user_id and device_id are set once the primary approved it.
  CREATE TABLE device_links (
    code_hash  TEXT PRIMARY KEY,
    poll_hash  TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL,
    name       TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    user_id    TEXT,
    device_id  INTEGER
  ) STRICT;
  CREATE INDEX device_links_by_expiry ON device_links (expires_at);
  `,
  `
  ALTER TABLE accounts ADD COLUMN presence_visibility TEXT NOT NULL DEFAULT 'everyone';

  CREATE TABLE blocks (
    blocker    TEXT NOT NULL,
    blocked    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker, blocked)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX blocks_by_blocked ON blocks (blocked);

  -- Users who exchanged a 1:1 message, each pair once with user_a < user_b.
  CREATE TABLE contacts (
    user_a TEXT NOT NULL,
    user_b TEXT NOT NULL,
    PRIMARY KEY (user_a, user_b)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX contacts_by_b ON contacts (user_b);

  -- Who may fetch a blob: its uploaders (uploaded_bytes > 0 counts against their daily quota)
  -- and the recipients of messages carrying it.
  CREATE TABLE media_access (
    hash           TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    uploaded_bytes INTEGER NOT NULL,
    at             INTEGER NOT NULL,
    PRIMARY KEY (hash, user_id)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX media_access_by_user ON media_access (user_id, at);
  `,
  // 8: the copies of a message found by serverId first. Keyed (user, serverId), every message
  // dirtied a page in each recipient's part of the index (a group message: one page per member);
  // serverIds are time-ordered (UUID v7), so keyed (serverId, user) a batch's entries share the
  // index's last pages. Both lookups (a user's copy, all copies of a message) still use it.
  `
  DROP INDEX inbox_by_server_id;
  CREATE INDEX inbox_by_server_id ON inbox (server_id, user_id) WHERE server_id IS NOT NULL;
  `,
];

/** Brings the schema to the latest version. The IMMEDIATE transaction makes concurrent openers take turns. */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `the database has schema version ${version}, newer than this server knows (${MIGRATIONS.length})`,
      );
    }
    for (const sql of MIGRATIONS.slice(version)) db.exec(sql);
    // PRAGMA takes no bound parameters; the value is our own integer.
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

import type { Pool } from 'pg';

/**
 * The schema, as a list of migrations applied in order and recorded in `courier_migrations`.
 * Append new migrations at the end; never edit one that has shipped.
 *
 * Payloads are TEXT holding JSON rather than JSONB: JSONB refuses `\u0000`, which a client may
 * legitimately put in a message body, and the store never looks inside a payload anyway.
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- last_seq is the inbox's counter: its row lock, held until commit by whoever appends, is what
  -- makes seq order equal commit order across nodes.
  CREATE TABLE accounts (
    user_id    TEXT PRIMARY KEY,
    token_hash TEXT UNIQUE,
    last_seq   BIGINT NOT NULL DEFAULT 0,
    last_seen  BIGINT NOT NULL,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE inbox (
    user_id    TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    sender     TEXT NOT NULL,
    server_id  TEXT,
    media_hash TEXT,
    ts         BIGINT NOT NULL,
    read       BOOLEAN NOT NULL DEFAULT FALSE,
    payload    TEXT NOT NULL,
    PRIMARY KEY (user_id, seq)
  );
  CREATE INDEX inbox_messages ON inbox (user_id, server_id) WHERE kind = 'message';
  CREATE INDEX inbox_media ON inbox (media_hash) WHERE media_hash IS NOT NULL;
  CREATE INDEX inbox_ts ON inbox (ts);

  CREATE TABLE idempotency (
    sender    TEXT NOT NULL,
    client_id TEXT NOT NULL,
    server_id TEXT NOT NULL,
    ts        BIGINT NOT NULL,
    PRIMARY KEY (sender, client_id)
  );
  CREATE INDEX idempotency_ts ON idempotency (ts);

  -- Delivered messages, remembered only so that a later read finds their sender.
  CREATE TABLE read_tracking (
    recipient TEXT NOT NULL,
    server_id TEXT NOT NULL,
    sender    TEXT NOT NULL,
    ts        BIGINT NOT NULL,
    read      BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (recipient, server_id)
  );
  CREATE INDEX read_tracking_ts ON read_tracking (ts);

  CREATE TABLE codes (
    phone      TEXT PRIMARY KEY,
    code_hash  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    tries      INTEGER NOT NULL
  );

  CREATE TABLE groups (
    group_id   TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    members    TEXT[] NOT NULL,
    admins     TEXT[] NOT NULL,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE media (
    hash       TEXT PRIMARY KEY,
    size       BIGINT NOT NULL,
    mime       TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX media_created ON media (created_at);
  `,
  `
  -- Secrets every node of the deployment shares (the key of the registration code hashes).
  CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  `
  -- One push target per device; target is the JSON of serializePushTarget (compared as text).
  CREATE TABLE push_targets (
    user_id    TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    target     TEXT NOT NULL,
    PRIMARY KEY (user_id, device_id)
  );
  `,
  `
  -- What authorises actions on a message (never its text), kept for the longest action window;
  -- expires_at is set while the message still has to disappear from inboxes (expiresIn).
  CREATE TABLE message_facts (
    server_id  TEXT PRIMARY KEY,
    author     TEXT NOT NULL,
    to_address TEXT NOT NULL,
    recipients TEXT[] NOT NULL,
    ts         BIGINT NOT NULL,
    expires_at BIGINT
  );
  CREATE INDEX message_facts_ts ON message_facts (ts);
  CREATE INDEX message_facts_expiry ON message_facts (expires_at) WHERE expires_at IS NOT NULL;
  `,
  `
  -- 5: devices. Each device has its token, its seq counter (locked by whoever appends to its
  -- inbox, as accounts.last_seq was) and its inbox; the primary (1) takes over the account's
  -- token, counter and inbox rows, so nothing undelivered is lost. Whether a user has read a
  -- message becomes the user's, not an inbox row's: read_tracking.read, with \`delivered\` telling
  -- whether the first ack by one of its devices gave the receipt yet.
  CREATE TABLE devices (
    user_id    TEXT NOT NULL,
    device_id  INTEGER NOT NULL,
    name       TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    last_seq   BIGINT NOT NULL DEFAULT 0,
    linked_at  BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id)
  );
  INSERT INTO devices (user_id, device_id, name, token_hash, last_seq, linked_at, last_seen)
    SELECT user_id, 1, 'Primary device', token_hash, last_seq, created_at, last_seen FROM accounts
    WHERE token_hash IS NOT NULL;
  ALTER TABLE accounts DROP COLUMN token_hash, DROP COLUMN last_seq,
    ADD COLUMN last_device_id INTEGER NOT NULL DEFAULT 1;

  ALTER TABLE read_tracking ADD COLUMN delivered BOOLEAN NOT NULL DEFAULT TRUE;
  INSERT INTO read_tracking (recipient, server_id, sender, ts, read, delivered)
    SELECT user_id, server_id, sender, ts, TRUE, FALSE FROM inbox WHERE kind = 'message' AND read
    ON CONFLICT (recipient, server_id) DO NOTHING;

  -- own: a copy of the owner's message sent from its other device, which gives no receipts.
  ALTER TABLE inbox ADD COLUMN device_id INTEGER NOT NULL DEFAULT 1,
    ADD COLUMN own BOOLEAN NOT NULL DEFAULT FALSE,
    DROP COLUMN read;
  ALTER TABLE inbox ALTER COLUMN device_id DROP DEFAULT;
  ALTER TABLE inbox DROP CONSTRAINT inbox_pkey, ADD PRIMARY KEY (user_id, device_id, seq);

  -- A device waiting to be linked; user_id and device_id are set once the primary approved it.
  CREATE TABLE device_links (
    code_hash  TEXT PRIMARY KEY,
    poll_hash  TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL,
    name       TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    user_id    TEXT,
    device_id  INTEGER
  );
  CREATE INDEX device_links_expiry ON device_links (expires_at);
  `,
  `
  ALTER TABLE accounts ADD COLUMN presence_visibility TEXT NOT NULL DEFAULT 'everyone';

  CREATE TABLE blocks (
    blocker    TEXT NOT NULL,
    blocked    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (blocker, blocked)
  );
  CREATE INDEX blocks_blocked ON blocks (blocked);

  -- Users who exchanged a 1:1 message, each pair once with user_a < user_b.
  CREATE TABLE contacts (
    user_a TEXT NOT NULL,
    user_b TEXT NOT NULL,
    PRIMARY KEY (user_a, user_b)
  );
  CREATE INDEX contacts_b ON contacts (user_b);

  -- Who may fetch a blob: its uploaders (uploaded_bytes > 0 counts against their daily quota)
  -- and the recipients of messages carrying it.
  CREATE TABLE media_access (
    hash           TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    uploaded_bytes BIGINT NOT NULL,
    at             BIGINT NOT NULL,
    PRIMARY KEY (hash, user_id)
  );
  CREATE INDEX media_access_user ON media_access (user_id, at);

  -- "Do these two users share a group" and "the groups of a user" without a scan.
  CREATE INDEX groups_members ON groups USING GIN (members);
  `,
  // 7: a message's copies found by serverId first, as on SQLite (its migration 8): keyed (user,
  // serverId), every message touched a page in each recipient's part of the index; serverIds are
  // time-ordered (UUID v7), so keyed (serverId, user) a batch's entries share the last pages.
  `
  DROP INDEX inbox_messages;
  CREATE INDEX inbox_messages ON inbox (server_id, user_id) WHERE kind = 'message';
  `,
  // 8: as on SQLite (its migration 5): only the backlog gauge read inbox_ts, for min(ts) beside a
  // count(*) that scans the table anyway; every stored event and every ack paid for it.
  `
  DROP INDEX inbox_ts;
  `,
];

/** Where a list of migrations is recorded, and the advisory lock that serialises applying it. */
export interface MigrationLedger {
  table: string;
  /** Any constant will do, as long as every node uses the same one for the same ledger. */
  lockKey: number;
}

/** The store's ledger. Other adapters in the same database (the blob store) keep their own. */
export const STORE_LEDGER: MigrationLedger = { table: 'courier_migrations', lockKey: 0x636f7572 }; // "cour"

/**
 * Applies the migrations not yet recorded. Nodes that start together queue on a session-level
 * advisory lock held on one dedicated connection, so exactly one of them migrates and the others
 * find the work done. Each migration and its record commit together.
 */
export async function migrate(pool: Pool, migrations: readonly string[] = MIGRATIONS, ledger: MigrationLedger = STORE_LEDGER): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [ledger.lockKey]);
    try {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${ledger.table} (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)`,
      );
      const { rows } = await client.query<{ version: number | null }>(
        `SELECT max(version) AS version FROM ${ledger.table}`,
      );
      const applied = rows[0]?.version ?? 0;
      if (applied > migrations.length) {
        throw new Error(`database schema version ${applied} is newer than this server's (${migrations.length})`);
      }
      for (let version = applied + 1; version <= migrations.length; version++) {
        await client.query('BEGIN');
        try {
          await client.query(migrations[version - 1] as string);
          await client.query(`INSERT INTO ${ledger.table} (version, applied_at) VALUES ($1, $2)`, [
            version,
            Date.now(),
          ]);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [ledger.lockKey]);
    }
  } catch (error) {
    // Closing the connection is the sure way to drop the advisory lock if unlocking failed.
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(broken);
  }
}

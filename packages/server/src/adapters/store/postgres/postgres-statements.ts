import type { Pool, PoolClient, QueryResultRow } from 'pg';

/**
 * A statement of the hot path, named: node-postgres parses and plans it once per connection and
 * afterwards sends only the name and the parameters. Lists travel as array parameters (unnest),
 * so one statement serves any number of rows.
 */
export class Statement<P extends unknown[], R extends QueryResultRow = QueryResultRow> {
  constructor(
    readonly name: string,
    readonly text: string,
  ) {}

  async rows(client: PoolClient | Pool, ...values: P): Promise<R[]> {
    return (await client.query<R>({ name: this.name, text: this.text, values })).rows;
  }

  /** Answers the number of rows the statement changed. */
  async run(client: PoolClient | Pool, ...values: P): Promise<number> {
    return (await client.query<R>({ name: this.name, text: this.text, values })).rowCount ?? 0;
  }
}

const stmt = <P extends unknown[], R extends QueryResultRow = QueryResultRow>(name: string, text: string) =>
  new Statement<P, R>(`courier_${name}`, text);

/** The statements of the send, ack, read and append batches (see postgres-inbox.ts), and the inbox reads. */
export const statements = {
  // Sends ---------------------------------------------------------------------

  claimKeys: stmt<[string[], string[], string[], number[]], { sender: string; client_id: string }>(
    'claim_keys',
    `INSERT INTO idempotency (sender, client_id, server_id, ts)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(s, c, id, ts) ORDER BY s, c
     ON CONFLICT (sender, client_id) DO NOTHING
     RETURNING sender, client_id`,
  ),
  earlierAnswers: stmt<[string[], string[]], { sender: string; client_id: string; server_id: string; ts: string }>(
    'earlier_answers',
    `SELECT i.sender, i.client_id, i.server_id, i.ts
     FROM idempotency i JOIN unnest($1::text[], $2::text[]) AS t(s, c) ON i.sender = t.s AND i.client_id = t.c`,
  ),
  blockedPairs: stmt<[string[], string[]], { blocker: string; blocked: string }>(
    'blocked_pairs',
    'SELECT b.blocker, b.blocked FROM blocks b JOIN unnest($1::text[], $2::text[]) AS t(r, s) ON b.blocker = t.r AND b.blocked = t.s',
  ),
  addContacts: stmt<[string[], string[]]>(
    'add_contacts',
    'INSERT INTO contacts (user_a, user_b) SELECT * FROM unnest($1::text[], $2::text[]) AS t(a, b) ORDER BY a, b ON CONFLICT DO NOTHING',
  ),
  grantMedia: stmt<[string[], string[], number[]]>(
    'grant_media',
    `INSERT INTO media_access (hash, user_id, uploaded_bytes, at)
     SELECT h, u, 0, min(at) FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(h, u, at) GROUP BY h, u ORDER BY h, u
     ON CONFLICT DO NOTHING`,
  ),
  /** The fourth parameter holds each message's recipients as a JSON array. */
  insertFacts: stmt<[string[], string[], string[], string[], number[], (number | null)[]]>(
    'insert_facts',
    `INSERT INTO message_facts (server_id, author, to_address, recipients, ts, expires_at)
     SELECT t.id, t.author, t.to_address, ARRAY(SELECT json_array_elements_text(t.recipients::json)), t.ts, t.expires_at
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
          AS t(id, author, to_address, recipients, ts, expires_at)
     ON CONFLICT (server_id) DO NOTHING`,
  ),

  // Acks and reads ------------------------------------------------------------

  /** Locks the rows first, in (user, device, seq) order, then deletes them. */
  deleteAcked: stmt<[string[], number[], number[]], { user_id: string; device_id: number; seq: string; kind: string; sender: string; server_id: string | null; own: boolean }>(
    'delete_acked',
    `DELETE FROM inbox x USING (
       SELECT i.user_id, i.device_id, i.seq FROM inbox i
       JOIN unnest($1::text[], $2::int[], $3::bigint[]) AS a(u, d, up)
         ON i.user_id = a.u AND i.device_id = a.d AND i.seq <= a.up
       ORDER BY i.user_id, i.device_id, i.seq
       FOR UPDATE OF i
     ) w
     WHERE x.user_id = w.user_id AND x.device_id = w.device_id AND x.seq = w.seq
     RETURNING x.user_id, x.device_id, x.seq, x.kind, x.sender, x.server_id, x.own`,
  ),
  /** The sender of each (reader, message) the reader received: tracked, or still in an inbox of theirs. */
  receivedFrom: stmt<[string[], string[]], { u: string; id: string; sender: string | null }>(
    'received_from',
    `SELECT t.u, t.id, coalesce(
       (SELECT x.sender FROM read_tracking x WHERE x.recipient = t.u AND x.server_id = t.id),
       (SELECT i.sender FROM inbox i WHERE i.user_id = t.u AND i.server_id = t.id AND i.kind = 'message' AND NOT i.own LIMIT 1)
     ) AS sender
     FROM unnest($1::text[], $2::text[]) AS t(u, id)`,
  ),
  // Both answer a row only where they turned the flag on: the first device of the user to ack
  // (or read) a message gives the receipt, any later one none.
  trackDelivered: stmt<[string[], string[], string[], number[]], { recipient: string; server_id: string }>(
    'track_delivered',
    `INSERT INTO read_tracking AS r (recipient, server_id, sender, ts, delivered, read)
     SELECT t.r, t.s, t.snd, t.ts, TRUE, FALSE FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(r, s, snd, ts)
     ORDER BY t.r, t.s
     ON CONFLICT (recipient, server_id) DO UPDATE SET delivered = TRUE WHERE NOT r.delivered
     RETURNING r.recipient, r.server_id`,
  ),
  trackRead: stmt<[string[], string[], string[], number[]], { recipient: string; server_id: string }>(
    'track_read',
    `INSERT INTO read_tracking AS r (recipient, server_id, sender, ts, read, delivered)
     SELECT t.r, t.s, t.snd, t.ts, TRUE, FALSE FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(r, s, snd, ts)
     ORDER BY t.r, t.s
     ON CONFLICT (recipient, server_id) DO UPDATE SET read = TRUE WHERE NOT r.read
     RETURNING r.recipient, r.server_id`,
  ),

  // Appends -------------------------------------------------------------------

  lockDevices: stmt<[string[]], { user_id: string; device_id: number }>(
    'lock_devices',
    'SELECT user_id, device_id FROM devices WHERE user_id = ANY($1::text[]) ORDER BY user_id, device_id FOR UPDATE',
  ),
  reserveSeqs: stmt<[string[], number[], number[]], { user_id: string; device_id: number; last_seq: string }>(
    'reserve_device_seqs',
    `UPDATE devices d SET last_seq = d.last_seq + t.n
     FROM unnest($1::text[], $2::int[], $3::bigint[]) AS t(u, dev, n)
     WHERE d.user_id = t.u AND d.device_id = t.dev
     RETURNING d.user_id, d.device_id, d.last_seq`,
  ),
  /**
   * Rows (user, device, seq, own, event index) and the distinct events (kind, sender, server id,
   * media hash, ts, payload): each payload travels once however many inboxes get it, and rows
   * refer to it by its position (1-based, as WITH ORDINALITY counts).
   */
  insertEvents: stmt<[string[], number[], number[], boolean[], number[], ...unknown[]]>(
    'append_device_inbox',
    `INSERT INTO inbox (user_id, device_id, seq, own, kind, sender, server_id, media_hash, ts, payload)
     SELECT r.user_id, r.device_id, r.seq, r.own, e.kind, e.sender, e.server_id, e.media_hash, e.ts, e.payload
     FROM unnest($1::text[], $2::int[], $3::bigint[], $4::boolean[], $5::int[]) AS r(user_id, device_id, seq, own, ev)
     JOIN unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[], $11::text[])
          WITH ORDINALITY AS e(kind, sender, server_id, media_hash, ts, payload, ev) USING (ev)`,
  ),

  // Reads of the pump ------------------------------------------------------------

  readInbox: stmt<[string, number, number, number], { seq: string; payload: string }>(
    'read_device_inbox',
    'SELECT seq, payload FROM inbox WHERE user_id = $1 AND device_id = $2 AND seq > $3 ORDER BY seq LIMIT $4',
  ),
  lastSeq: stmt<[string, number], { last_seq: string }>(
    'last_seq',
    'SELECT last_seq FROM devices WHERE user_id = $1 AND device_id = $2',
  ),
};

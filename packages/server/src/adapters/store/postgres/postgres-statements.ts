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

  /**
   * Claims the (sender, client id) keys ($1..$4), sorted; answers the keys it claimed
   * (claimed = true, a = sender, b = client id) and, in the same round trip, the (recipient,
   * sender) pairs ($5, $6) the recipient blocked (claimed = false, a = blocker, b = blocked).
   */
  claimKeysAndScreen: stmt<[string[], string[], string[], number[], string[], string[]], { claimed: boolean; a: string; b: string }>(
    'claim_keys_and_screen',
    `WITH claimed AS (
       INSERT INTO idempotency (sender, client_id, server_id, ts)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS t(s, c, id, ts) ORDER BY s, c
       ON CONFLICT (sender, client_id) DO NOTHING
       RETURNING sender, client_id
     )
     SELECT TRUE AS claimed, sender AS a, client_id AS b FROM claimed
     UNION ALL
     SELECT FALSE, b.blocker, b.blocked FROM blocks b JOIN unnest($5::text[], $6::text[]) AS t(r, s) ON b.blocker = t.r AND b.blocked = t.s`,
  ),
  earlierAnswers: stmt<[string[], string[]], { sender: string; client_id: string; server_id: string; ts: string }>(
    'earlier_answers',
    `SELECT i.sender, i.client_id, i.server_id, i.ts
     FROM idempotency i JOIN unnest($1::text[], $2::text[]) AS t(s, c) ON i.sender = t.s AND i.client_id = t.c`,
  ),
  /**
   * The facts of new messages ($1..$6: server id, author, to, recipients as a JSON array, ts,
   * expiry) and the contact pairs of their 1:1 sends ($7, $8, each pair in order), sorted.
   */
  recordSends: stmt<[string[], string[], string[], string[], number[], (number | null)[], string[], string[]]>(
    'record_sends',
    `WITH facts AS (
       INSERT INTO message_facts (server_id, author, to_address, recipients, ts, expires_at)
       SELECT t.id, t.author, t.to_address, ARRAY(SELECT json_array_elements_text(t.recipients::json)), t.ts, t.expires_at
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[])
            AS t(id, author, to_address, recipients, ts, expires_at)
       ON CONFLICT (server_id) DO NOTHING
     )
     INSERT INTO contacts (user_a, user_b) SELECT * FROM unnest($7::text[], $8::text[]) AS t(a, b) ORDER BY a, b ON CONFLICT DO NOTHING`,
  ),
  grantMedia: stmt<[string[], string[], number[]]>(
    'grant_media',
    `INSERT INTO media_access (hash, user_id, uploaded_bytes, at)
     SELECT h, u, 0, min(at) FROM unnest($1::text[], $2::text[], $3::bigint[]) AS t(h, u, at) GROUP BY h, u ORDER BY h, u
     ON CONFLICT DO NOTHING`,
  ),

  // Acks and reads ------------------------------------------------------------

  /**
   * Deletes each device inbox's rows up to its bound ($1..$3: user, device, up to), locking them
   * first in (user, device, seq) order; then marks their messages delivered to the user (at $4,
   * the ack's time), tracking rows sorted. Answers the rows deleted (first = false) and, as
   * rows of their own (first = true; user_id is the recipient), the messages whose delivered
   * flag this turned on. (A join of the two would be planned as a nested loop over thousands.)
   */
  deleteAckedAndTrack: stmt<
    [string[], number[], number[], number[]],
    { user_id: string; device_id: number; seq: string; kind: string; sender: string; server_id: string | null; own: boolean; first: boolean }
  >(
    'delete_acked_and_track',
    `WITH acked AS (
       DELETE FROM inbox x USING (
         SELECT i.user_id, i.device_id, i.seq FROM inbox i
         JOIN unnest($1::text[], $2::int[], $3::bigint[]) AS a(u, d, up)
           ON i.user_id = a.u AND i.device_id = a.d AND i.seq <= a.up
         ORDER BY i.user_id, i.device_id, i.seq
         FOR UPDATE OF i
       ) w
       WHERE x.user_id = w.user_id AND x.device_id = w.device_id AND x.seq = w.seq
       RETURNING x.user_id, x.device_id, x.seq, x.kind, x.sender, x.server_id, x.own
     ), delivered AS (
       INSERT INTO read_tracking AS r (recipient, server_id, sender, ts, delivered, read)
       SELECT DISTINCT ON (a.user_id, a.server_id) a.user_id, a.server_id, a.sender, n.at, TRUE, FALSE
       FROM acked a JOIN unnest($1::text[], $2::int[], $4::bigint[]) AS n(u, d, at) ON n.u = a.user_id AND n.d = a.device_id
       WHERE a.kind = 'message' AND NOT a.own AND a.server_id IS NOT NULL
       ORDER BY a.user_id, a.server_id
       ON CONFLICT (recipient, server_id) DO UPDATE SET delivered = TRUE WHERE NOT r.delivered
       RETURNING r.recipient, r.server_id, r.sender
     )
     SELECT FALSE AS first, user_id, device_id, seq, kind, sender, server_id, own FROM acked
     UNION ALL
     SELECT TRUE, recipient, 0, 0, 'message', sender, server_id, FALSE FROM delivered`,
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
  // Answers a row only where it turned the flag on: the first device of the user to read a
  // message gives the receipt, any later one none.
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
  /**
   * Adds n to the counter of each device inbox ($1..$3) and stores the rows ($4..$8: user,
   * device, ordinal k within its inbox, own, event index) at seq = the counter before + k, with
   * the distinct events ($9..$13: kind, sender, server id, media hash, ts; $14 their payloads as
   * a JSON array), which rows refer to by position (1-based, as WITH ORDINALITY counts). Answers
   * each counter before.
   */
  appendEvents: stmt<[string[], number[], number[], ...unknown[]], { user_id: string; device_id: number; before: string }>(
    'append_events',
    `WITH reserved AS (
       UPDATE devices d SET last_seq = d.last_seq + t.n
       FROM unnest($1::text[], $2::int[], $3::bigint[]) AS t(u, dev, n)
       WHERE d.user_id = t.u AND d.device_id = t.dev
       RETURNING d.user_id, d.device_id, d.last_seq - t.n AS before
     ), stored AS (
       INSERT INTO inbox (user_id, device_id, seq, own, kind, sender, server_id, media_hash, ts, payload)
       SELECT r.user_id, r.device_id, v.before + r.k, r.own, e.kind, e.sender, e.server_id, e.media_hash, e.ts, p.payload
       FROM unnest($4::text[], $5::int[], $6::bigint[], $7::boolean[], $8::int[]) AS r(user_id, device_id, k, own, ev)
       JOIN reserved v ON v.user_id = r.user_id AND v.device_id = r.device_id
       JOIN unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[])
            WITH ORDINALITY AS e(kind, sender, server_id, media_hash, ts, ev) USING (ev)
       JOIN json_array_elements_text($14::json) WITH ORDINALITY AS p(payload, ev) USING (ev)
     )
     SELECT user_id, device_id, before FROM reserved`,
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

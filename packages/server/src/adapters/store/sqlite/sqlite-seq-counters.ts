import { CourierError } from '../../../domain/errors.js';
import type { SqliteStatements } from './sqlite-statements.js';

/** Above this many cached inboxes the cache starts over (at a batch boundary), to bound memory. */
const MAX_CACHED = 200_000;

/**
 * Each inbox's last seq, in memory: a batch of writes takes seqs from here and stores each
 * touched inbox's counter once, when the batch is about to commit (`save`), instead of updating
 * `accounts.last_seq` once per event. Only this connection writes the file (one node), so the
 * cache stays true as long as it forgets what a rolled-back transaction took (`forget`).
 */
export class SeqCounters {
  readonly #last = new Map<string, number>();
  readonly #touched = new Set<string>();

  constructor(private readonly q: SqliteStatements) {}

  /** The next seq of `userId`'s inbox; throws unknown_user for an inbox without an account. */
  next(userId: string): number {
    let last = this.#last.get(userId);
    if (last === undefined) {
      last = this.q.lastSeq.get(userId);
      if (last === undefined) throw new CourierError('unknown_user', `${userId} has no account`, 404);
    }
    this.#last.set(userId, last + 1);
    this.#touched.add(userId);
    return last + 1;
  }

  /** Writes the counters this batch moved; runs inside the batch's transaction. */
  save(): void {
    for (const userId of this.#touched) this.q.saveLastSeq.run(this.#last.get(userId)!, userId);
    this.#touched.clear();
    if (this.#last.size > MAX_CACHED) this.#last.clear();
  }

  /** The transaction (or savepoint) rolled back: what it took never happened; read again from the file. */
  forget(): void {
    this.#touched.clear();
    this.#last.clear();
  }
}

import type { SqliteStatements } from './sqlite-statements.js';

/** Above this many cached accounts the cache starts over, to bound memory. */
const MAX_CACHED = 200_000;

/**
 * Each account's device ids, in memory, so that spreading an event over a user's devices costs
 * no query on the hot path. Only this connection writes the file (one node, see SeqCounters), and
 * every change of an account's devices goes through this store, which calls `changed`; a
 * rolled-back transaction may have changed them, so `forget` drops everything.
 */
export class DeviceLists {
  readonly #ids = new Map<string, readonly number[]>();

  constructor(private readonly q: SqliteStatements) {}

  /** The account's device ids in id order; empty for a user without an account. */
  of(userId: string): readonly number[] {
    let ids = this.#ids.get(userId);
    if (ids === undefined) {
      ids = this.q.deviceIds.all(userId);
      // An unknown user is not cached: it may register at any moment.
      if (ids.length > 0) {
        if (this.#ids.size >= MAX_CACHED) this.#ids.clear();
        this.#ids.set(userId, ids);
      }
    }
    return ids;
  }

  /** The account's devices changed (linked, removed, registered again). */
  changed(userId: string): void {
    this.#ids.delete(userId);
  }

  forget(): void {
    this.#ids.clear();
  }
}

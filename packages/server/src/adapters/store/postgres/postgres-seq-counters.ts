import type { PoolClient } from 'pg';
import { deviceKey } from '../../../domain/device.js';
import { statements } from './postgres-statements.js';

/**
 * Each device inbox's seq counter is its row's `last_seq`, locked by the append's transaction
 * (see lockDeviceLists) until commit: that is what makes seq order within an inbox commit order,
 * with several nodes writing. Unlike SQLite's in-memory counters, every batch reads and writes
 * the rows, in the statement that stores the events.
 *
 * A reservation numbers the new rows of each inbox 1..n in order (`take`); `reserve` adds n to
 * each counter and stores row k at the counter's value before plus k, in one statement.
 */
export class SeqReservation {
  private readonly counts = new Map<string, { userId: string; deviceId: number; n: number }>();

  /** The next row of this inbox: answers its ordinal, 1 for the first. */
  take(userId: string, deviceId: number): number {
    const key = deviceKey({ userId, deviceId });
    const count = this.counts.get(key);
    if (count === undefined) {
      this.counts.set(key, { userId, deviceId, n: 1 });
      return 1;
    }
    return ++count.n;
  }

  /**
   * Runs `appendEvents` with the rows' columns (user, device, ordinal, own, event index, then
   * the distinct events'); answers where each inbox's counter stood before.
   */
  async reserve(client: PoolClient, columns: readonly unknown[]): Promise<ReservedSeqs> {
    const counts = [...this.counts.values()];
    const rows = await statements.appendEvents.rows(
      client,
      counts.map((c) => c.userId),
      counts.map((c) => c.deviceId),
      counts.map((c) => c.n),
      ...columns,
    );
    // Every counter row is locked by this transaction, so each must have been there to update;
    // a missing one would silently have dropped its rows.
    if (rows.length !== counts.length) throw new Error(`reserved seqs in ${rows.length} of ${counts.length} inboxes`);
    return new ReservedSeqs(new Map(rows.map((row) => [deviceKey({ userId: row.user_id, deviceId: row.device_id }), Number(row.before)])));
  }
}

export class ReservedSeqs {
  constructor(private readonly before: ReadonlyMap<string, number>) {}

  /** The seq of the inbox's row of this ordinal. */
  seqOf(userId: string, deviceId: number, ordinal: number): number {
    return (this.before.get(deviceKey({ userId, deviceId })) as number) + ordinal;
  }
}

import type { PoolClient } from 'pg';
import { deviceKey } from '../../../domain/device.js';
import { statements } from './postgres-statements.js';

/**
 * Each device inbox's seq counter is its row's `last_seq`, locked by the append's transaction
 * (see lockDeviceLists) until commit: that is what makes seq order within an inbox commit order,
 * with several nodes writing. Unlike SQLite's in-memory counters, every batch reads and writes
 * the rows, in one statement.
 *
 * Adds `n` to the counter of each device inbox (locked already); answers the first seq reserved in each.
 */
export async function reserveSeqs(
  client: PoolClient,
  counts: readonly { userId: string; deviceId: number; n: number }[],
): Promise<Map<string, number>> {
  const rows = await statements.reserveSeqs.rows(
    client,
    counts.map((c) => c.userId),
    counts.map((c) => c.deviceId),
    counts.map((c) => c.n),
  );
  const wanted = new Map(counts.map((c) => [deviceKey(c), c.n]));
  const first = new Map<string, number>();
  for (const row of rows) {
    const key = deviceKey({ userId: row.user_id, deviceId: row.device_id });
    first.set(key, Number(row.last_seq) - (wanted.get(key) as number) + 1);
  }
  return first;
}

import type { PoolClient } from 'pg';
import { statements } from './postgres-statements.js';

/**
 * Each account's device ids, read where an append spreads entries over them (see
 * spreadOverDevices). Unlike SQLite's cache, nothing is kept between transactions: another node
 * may link or remove a device at any time. The device rows are locked in one fixed order (user,
 * device) until commit, so transactions touching overlapping inboxes, on any node, queue instead
 * of deadlocking; and a device being removed gets no event meanwhile (removal deletes the row
 * first).
 */
export async function lockDeviceLists(client: PoolClient, users: string[]): Promise<Map<string, number[]>> {
  const devices = new Map<string, number[]>();
  for (const row of await statements.lockDevices.rows(client, users)) {
    const list = devices.get(row.user_id);
    if (list === undefined) devices.set(row.user_id, [row.device_id]);
    else list.push(row.device_id);
  }
  return devices;
}

import type { DeviceAddress } from '../../../domain/device.js';
import type { Pool } from 'pg';
import { parseStoredPushTarget, serializePushTarget, type PushTarget } from '../../../domain/push-target.js';

/** Push targets in PostgreSQL: single statements, each its own transaction. */
export class PostgresPush {
  constructor(private readonly pool: Pool) {}

  async save(userId: string, deviceId: number, target: PushTarget): Promise<void> {
    await this.pool.query(
      `INSERT INTO push_targets (user_id, device_id, target) VALUES ($1, $2, $3)
       ON CONFLICT (user_id, device_id) DO UPDATE SET target = EXCLUDED.target`,
      [userId, deviceId, serializePushTarget(target)],
    );
  }

  async get(userId: string, deviceId: number): Promise<PushTarget | undefined> {
    const { rows } = await this.pool.query<{ target: string }>(
      'SELECT target FROM push_targets WHERE user_id = $1 AND device_id = $2',
      [userId, deviceId],
    );
    return rows[0] && parseStoredPushTarget(rows[0].target);
  }

  async delete(userId: string, deviceId: number, only?: PushTarget): Promise<boolean> {
    const result =
      only === undefined
        ? await this.pool.query('DELETE FROM push_targets WHERE user_id = $1 AND device_id = $2', [userId, deviceId])
        : await this.pool.query('DELETE FROM push_targets WHERE user_id = $1 AND device_id = $2 AND target = $3', [
            userId,
            deviceId,
            serializePushTarget(only),
          ]);
    return (result.rowCount ?? 0) > 0;
  }

  async pendingCounts(device: DeviceAddress): Promise<{ events: number; messages: number }> {
    const { rows } = await this.pool.query<{ events: string; messages: string }>(
      `SELECT count(*) AS events, count(*) FILTER (WHERE kind = 'message' AND NOT own) AS messages
       FROM inbox WHERE user_id = $1 AND device_id = $2`,
      [device.userId, device.deviceId],
    );
    return { events: Number(rows[0]?.events ?? 0), messages: Number(rows[0]?.messages ?? 0) };
  }

}

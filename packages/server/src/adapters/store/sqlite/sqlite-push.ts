import type { DeviceAddress } from '../../../domain/device.js';
import type Database from 'better-sqlite3';
import { parseStoredPushTarget, serializePushTarget, type PushTarget } from '../../../domain/push-target.js';

/**
 * Push targets in SQLite. Reads run at once; the writes are meant to run
 * inside the store's group commit (the store's `#write`), like every other write.
 */
export class SqlitePush {
  readonly #save;
  readonly #get;
  readonly #delete;
  readonly #deleteIf;
  readonly #counts;

  constructor(db: Database.Database) {
    this.#save = db.prepare<[string, number, string]>(
      `INSERT INTO push_targets (user_id, device_id, target) VALUES (?, ?, ?)
       ON CONFLICT (user_id, device_id) DO UPDATE SET target = excluded.target`,
    );
    this.#get = db.prepare<[string, number], string>('SELECT target FROM push_targets WHERE user_id = ? AND device_id = ?').pluck();
    this.#delete = db.prepare<[string, number]>('DELETE FROM push_targets WHERE user_id = ? AND device_id = ?');
    this.#deleteIf = db.prepare<[string, number, string]>('DELETE FROM push_targets WHERE user_id = ? AND device_id = ? AND target = ?');
    this.#counts = db.prepare<[string, number], { events: number; messages: number | null }>(
      `SELECT count(*) AS events, sum(kind = 'message' AND own = 0) AS messages FROM inbox WHERE user_id = ? AND device_id = ?`,
    );
  }

  save(userId: string, deviceId: number, target: PushTarget): void {
    this.#save.run(userId, deviceId, serializePushTarget(target));
  }

  get(userId: string, deviceId: number): PushTarget | undefined {
    const text = this.#get.get(userId, deviceId);
    return text === undefined ? undefined : parseStoredPushTarget(text);
  }

  delete(userId: string, deviceId: number, only?: PushTarget): boolean {
    const result = only === undefined ? this.#delete.run(userId, deviceId) : this.#deleteIf.run(userId, deviceId, serializePushTarget(only));
    return result.changes > 0;
  }

  pendingCounts(device: DeviceAddress): { events: number; messages: number } {
    const row = this.#counts.get(device.userId, device.deviceId);
    return { events: row?.events ?? 0, messages: row?.messages ?? 0 };
  }

}

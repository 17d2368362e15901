import { deviceKey, type DeviceAddress } from '../../../domain/device.js';
import { CourierError } from '../../../domain/errors.js';
import type { SqliteStatements } from './sqlite-statements.js';

/** Above this many cached inboxes the cache starts over (at a batch boundary), to bound memory. */
const MAX_CACHED = 200_000;

/**
 * Each device inbox's last seq, in memory: a batch of writes takes seqs from here and stores each
 * touched inbox's counter once, when the batch is about to commit (`save`), instead of updating
 * `devices.last_seq` once per event. Only this connection writes the file (one node), so the
 * cache stays true as long as it forgets what a rolled-back transaction took (`forget`). A
 * removed device's counter may linger: its id is never given again, and saving it changes no row.
 */
export class SeqCounters {
  readonly #last = new Map<string, number>();
  readonly #touched = new Map<string, DeviceAddress>();

  constructor(private readonly q: SqliteStatements) {}

  /** The next seq of the device's inbox; throws unknown_user for a device that does not exist. */
  next(device: DeviceAddress): number {
    const key = deviceKey(device);
    let last = this.#last.get(key);
    if (last === undefined) {
      last = this.q.lastSeq.get(device.userId, device.deviceId);
      if (last === undefined) throw new CourierError('unknown_user', `${device.userId} has no device ${device.deviceId}`, 404);
    }
    this.#last.set(key, last + 1);
    this.#touched.set(key, device);
    return last + 1;
  }

  /** Writes the counters this batch moved; runs inside the batch's transaction. */
  save(): void {
    for (const [key, device] of this.#touched) this.q.saveLastSeq.run(this.#last.get(key)!, device.userId, device.deviceId);
    this.#touched.clear();
    if (this.#last.size > MAX_CACHED) this.#last.clear();
  }

  /** The transaction (or savepoint) rolled back: what it took never happened; read again from the file. */
  forget(): void {
    this.#touched.clear();
    this.#last.clear();
  }
}

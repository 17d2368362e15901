/**
 * Drops durable events the app has already seen. The server pushes every unacked event again after
 * each reconnection, and an event may have been handed to the app without its ack reaching the
 * server; since `seq` increases along the inbox, remembering the highest `seq` handed to the app
 * is enough to recognise every repeat.
 */
import type { ClientStorage } from './storage.js';

export class SeqDedupe {
  #highest = 0;
  #persisted = 0;
  #loaded: Promise<void> | undefined;

  constructor(
    private readonly storage: ClientStorage,
    readonly key: string,
  ) {}

  /** Reads the remembered seq once; every other method may only be used after it resolved. */
  load(): Promise<void> {
    this.#loaded ??= (async () => {
      const stored = await this.storage.get(this.key);
      const value = stored === null || stored === undefined ? 0 : Number(stored);
      if (Number.isSafeInteger(value) && value > this.#highest) this.#highest = value;
      this.#persisted = this.#highest;
    })();
    return this.#loaded;
  }

  /** True when an event with this seq was already handed to the app. */
  isDuplicate(seq: number): boolean {
    return seq <= this.#highest;
  }

  /** Records that the app has handled `seq`. */
  handled(seq: number): void {
    if (seq > this.#highest) this.#highest = seq;
  }

  get highest(): number {
    return this.#highest;
  }

  /** Writes the highest handled seq, if it moved; called before acking so a restart shows no repeat. */
  async persist(): Promise<void> {
    if (this.#highest === this.#persisted) return;
    const value = this.#highest;
    await this.storage.set(this.key, String(value));
    if (value > this.#persisted) this.#persisted = value;
  }
}

/**
 * The storage key of a device: the user and a fingerprint of its token, so that a new registration
 * (a new device, whose app has not seen the account's pending events) starts afresh. FNV-1a is not
 * a secure hash; 32 bits of a 256-bit-or-so secret give nothing useful away.
 */
export function dedupeKey(userId: string, token: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    hash ^= token.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `courier:${userId}:${hash.toString(16).padStart(8, '0')}:seq`;
}

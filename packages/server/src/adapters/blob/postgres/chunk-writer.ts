import { Writable } from 'node:stream';

/**
 * Cuts a byte stream into chunks of exactly `chunkBytes` (the last one shorter) and hands each
 * to `save` with its number, one at a time: the next bytes are taken only once the chunk before
 * them is saved, so memory holds at most one chunk and a slow database slows the upload down.
 */
export class ChunkWriter extends Writable {
  readonly #parts: Buffer[] = [];
  #pending = 0;
  #next = 0;

  constructor(
    readonly chunkBytes: number,
    readonly save: (n: number, data: Buffer) => Promise<unknown>,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#parts.push(chunk);
    this.#pending += chunk.length;
    this.#saveFull().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    const rest = this.#take(this.#pending);
    if (rest.length === 0) {
      callback();
      return;
    }
    this.save(this.#next++, rest).then(() => callback(), callback);
  }

  async #saveFull(): Promise<void> {
    while (this.#pending >= this.chunkBytes) await this.save(this.#next++, this.#take(this.chunkBytes));
  }

  /** The first `bytes` pending bytes, as one buffer. */
  #take(bytes: number): Buffer {
    const all = this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts, this.#pending);
    this.#parts.length = 0;
    const taken = all.subarray(0, bytes);
    if (bytes < all.length) this.#parts.push(all.subarray(bytes));
    this.#pending = all.length - bytes;
    return taken;
  }
}

import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CourierError } from '../../domain/errors.js';

/**
 * Passes bytes through while computing their SHA-256 and counting them; fails with `too_large`
 * on the first chunk that takes the count over `maxBytes`, so an oversized upload stops there.
 */
export class HashingMeter extends Transform {
  readonly #hash = createHash('sha256');
  #bytes = 0;

  constructor(readonly maxBytes: number) {
    super();
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** The hex SHA-256 of everything that passed; call once, after the stream finished. */
  digest(): string {
    return this.#hash.digest('hex');
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.maxBytes) {
      callback(new CourierError('too_large', `Media is limited to ${this.maxBytes} bytes.`, 413));
      return;
    }
    this.#hash.update(chunk);
    callback(null, chunk);
  }
}

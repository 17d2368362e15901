import { CourierError } from '../../domain/errors.js';

const CONTENT_HASH = /^[0-9a-f]{64}$/;

/**
 * Checks that `hash` is a blob's address (64 lowercase hex digits) before any adapter uses it to
 * name a file, a row or an object, so no input can name anything else.
 */
export function checkContentHash(hash: string): void {
  if (!CONTENT_HASH.test(hash)) {
    throw new CourierError('invalid_hash', 'A media hash is the SHA-256 of the bytes: 64 lowercase hex digits.', 400);
  }
}

import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** A device token: 32 random bytes, URL-safe. Only its hash is ever stored. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** A numeric one-time code from a cryptographic source, leading zeros kept. */
export function newCode(digits: number): string {
  return randomInt(0, 10 ** digits).toString().padStart(digits, '0');
}

/** Compares two hex hashes without leaking where they differ. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

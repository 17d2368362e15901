import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** A device token: 32 random bytes, URL-safe. Only its hash is ever stored. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/**
 * A hash keyed with a server secret (HMAC-SHA-256), for secrets from a small space such as
 * six-digit codes: without the key, a copy of the database does not give them away.
 */
export function keyedHash(key: string, secret: string): string {
  return createHmac('sha256', key).update(secret).digest('hex');
}

/** A secret for keyed hashes: 32 random bytes. */
export function newKey(): string {
  return randomBytes(32).toString('base64url');
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

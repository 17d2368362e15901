import { createHmac, randomInt } from 'node:crypto';
import { hashSecret } from '../secrets.js';

/**
 * The secrets of linking a device. The link code is what the new device shows (as text and as
 * a QR code) and the primary types or scans: short, but 60 random bits, tried only by
 * authenticated primaries under a rate limit, and good for minutes. The poll token never leaves
 * the new device: whoever sees the code cannot collect the device's token with it.
 */

/** Crockford's base 32: no I, L, O or U, so a code read aloud or typed is hard to get wrong. */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_CHARS = 12;
const GROUP = 4;

/** A new link code, as shown: `ABCD-EFGH-JKMN`. */
export function newLinkCode(): string {
  let code = '';
  for (let i = 0; i < CODE_CHARS; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return (code.match(new RegExp(`.{${GROUP}}`, 'g')) as string[]).join('-');
}

/**
 * The code as typed, in its one canonical form (case, dashes and spaces ignored; O read as 0,
 * I and L as 1), or undefined when it cannot be a link code.
 */
export function canonicalLinkCode(typed: string): string | undefined {
  const code = typed.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (code.length !== CODE_CHARS || [...code].some((c) => !ALPHABET.includes(c))) return undefined;
  return code;
}

/** What the store keeps of a link code. */
export function linkCodeHash(canonical: string): string {
  return hashSecret(`link-code:${canonical}`);
}

/**
 * The token a linked device gets, derived from its poll token: the server keeps only hashes of
 * both, and can still hand the token over when the device collects it.
 */
export function deviceTokenFor(pollToken: string): string {
  return createHmac('sha256', pollToken).update('courier linked device token').digest('base64url');
}

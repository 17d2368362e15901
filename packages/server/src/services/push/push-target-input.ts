import { ECDH } from 'node:crypto';
import { CourierError } from '../../domain/errors.js';
import type { PushTarget } from '../../domain/push-target.js';
import type { PushHosts } from './push-hosts.js';

const MAX_URL_CHARS = 2048;
const MAX_PUSHKEY_CHARS = 4096;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * The push target a `PUT /v1/devices/me/push` body names, checked: one of `webpush` (a browser
 * PushSubscription) or `gateway`, an https URL on an allowed host, keys a browser could have made.
 * Anything else is a 400 `invalid_push` that says what is wrong.
 */
export function readPushTarget(body: unknown, hosts: PushHosts): PushTarget {
  if (!isObject(body)) throw invalid('The body must be a JSON object with "webpush" or "gateway".');
  const { webpush, gateway } = body;
  if ((webpush === undefined) === (gateway === undefined)) throw invalid('Give exactly one of "webpush" and "gateway".');
  if (webpush !== undefined) {
    if (!isObject(webpush)) throw invalid('"webpush" must be a PushSubscription: {"endpoint","keys":{"p256dh","auth"}}.');
    const endpoint = allowedUrl(webpush.endpoint, 'webpush.endpoint', hosts);
    const keys = webpush.keys;
    if (!isObject(keys)) throw invalid('"webpush.keys" must be {"p256dh","auth"}.');
    return { kind: 'webpush', endpoint, keys: { p256dh: p256dhKey(keys.p256dh), auth: authSecret(keys.auth) } };
  }
  if (!isObject(gateway)) throw invalid('"gateway" must be {"url","pushkey"}.');
  const url = allowedUrl(gateway.url, 'gateway.url', hosts);
  const pushkey = gateway.pushkey;
  if (typeof pushkey !== 'string' || pushkey.length === 0 || pushkey.length > MAX_PUSHKEY_CHARS) {
    throw invalid(`"gateway.pushkey" must be a string of 1 to ${MAX_PUSHKEY_CHARS} characters.`);
  }
  return { kind: 'gateway', url, pushkey };
}

function allowedUrl(value: unknown, field: string, hosts: PushHosts): string {
  if (typeof value !== 'string' || value.length > MAX_URL_CHARS) throw invalid(`"${field}" must be an https URL of at most ${MAX_URL_CHARS} characters.`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`"${field}" is not a URL.`);
  }
  if (url.protocol !== 'https:') throw invalid(`"${field}" must be an https URL.`);
  if (url.username !== '' || url.password !== '') throw invalid(`"${field}" must not carry credentials.`);
  if (!hosts.allows(url)) throw invalid(`"${field}": the host ${url.hostname} is not an allowed push service.`);
  return url.href;
}

/** The subscription's P-256 public key: 65 bytes, uncompressed, a point on the curve. */
function p256dhKey(value: unknown): string {
  const bytes = base64url(value, 'webpush.keys.p256dh');
  if (bytes.length !== 65 || bytes[0] !== 0x04) throw invalid('"webpush.keys.p256dh" must be an uncompressed P-256 public key (65 bytes, base64url).');
  try {
    ECDH.convertKey(bytes, 'prime256v1');
  } catch {
    throw invalid('"webpush.keys.p256dh" is not a point on the P-256 curve.');
  }
  return bytes.toString('base64url');
}

/** The subscription's auth secret: 16 bytes (RFC 8291). */
function authSecret(value: unknown): string {
  const bytes = base64url(value, 'webpush.keys.auth');
  if (bytes.length !== 16) throw invalid('"webpush.keys.auth" must be 16 bytes, base64url.');
  return bytes.toString('base64url');
}

function base64url(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !BASE64URL.test(value)) throw invalid(`"${field}" must be base64url text.`);
  return Buffer.from(value, 'base64url');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string): CourierError {
  return new CourierError('invalid_push', message, 400);
}

/**
 * The HTTP half of the contract: registration, groups and media. Uses the global `fetch`
 * (browsers, Node 18+). Every non-2xx answer throws a `CourierApiError` built from the
 * contract's error body `{"error": {"code", "message"}}`.
 */
import { CourierApiError } from './errors.js';
import type { MediaRef } from './frames.js';
import { apiUrl, httpBase } from './server-url.js';

export interface Group {
  groupId: string;
  name: string;
  members: string[];
  admins: string[];
}

export interface Registration {
  userId: string;
  token: string;
  /** 1: a registration by SMS makes the account's primary device (v2 servers say so). */
  deviceId?: number;
}

/** A device of the account, as `devices()` lists it. */
export interface DeviceInfo {
  deviceId: number;
  name: string;
  /** The device registered by SMS; the others were linked to it. */
  primary: boolean;
  linkedAt: number;
  lastSeen: number;
  online: boolean;
}

export interface RegistrationApi {
  /** Asks the server to send a code to `phone`; resolves with the code's lifetime in seconds. */
  request(url: string, phone: string): Promise<{ expiresIn: number }>;
  /** Trades the code for the primary device's token; revokes every earlier device of the account, linked ones too. */
  verify(url: string, phone: string, code: string): Promise<Registration>;
}

/**
 * Where the server wakes this device while it has no socket: a browser's Web Push subscription
 * (`(await registration.pushManager.subscribe(...)).toJSON()` fits), or the app's push gateway.
 */
export type PushTarget =
  | { webpush: { endpoint: string; keys: { p256dh: string; auth: string } } }
  | { gateway: { url: string; pushkey: string } };

export type UploadBody = Blob | ArrayBuffer | Uint8Array | ReadableStream<Uint8Array>;

export interface DownloadOptions {
  /** Bytes `start` to `end` inclusive (`end` omitted: to the last byte); the answer is then `206`. */
  range?: { start: number; end?: number };
  signal?: AbortSignal;
}

type FetchInit = RequestInit & { duplex?: 'half' };

export async function apiRequest(url: string, path: string, init: FetchInit, expected: number[]): Promise<Response> {
  const target = apiUrl(url, path);
  let response: Response;
  try {
    response = await fetch(target, init);
  } catch (err) {
    if ((err as Error | null)?.name === 'AbortError') throw err;
    // fetch says only "fetch failed"; the reason (refused, unknown host, TLS) is in its cause.
    const cause = (err as { cause?: unknown }).cause;
    const why = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
    throw new CourierApiError(0, 'unreachable', `cannot reach ${httpBase(url)}: ${why}`);
  }
  if (!expected.includes(response.status)) throw await apiError(response);
  return response;
}

async function json<T>(url: string, path: string, method: string, body: unknown, token: string | undefined, expected: number[]): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const init: FetchInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  const response = await apiRequest(url, path, init, expected);
  return (await response.json()) as T;
}

/** Builds the error of a failed answer, tolerating bodies that do not follow the contract. */
export async function apiError(response: Response): Promise<CourierApiError> {
  const text = await response.text();
  let code = `http_${response.status}`;
  // Not the contract's error body (a proxy's or another server's HTML page, say): the page itself
  // means nothing to a user, so say what answered instead of printing it.
  const type = response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
  let message = `HTTP ${response.status} ${response.statusText} (${type}), not a Courier error: is ${new URL(response.url || 'http://unknown').origin} a Courier server?`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // Not JSON: keep the sentence above.
  }
  const retry = response.headers.get('retry-after');
  const retryAfter = retry === null || !Number.isFinite(Number(retry)) ? undefined : Number(retry);
  return new CourierApiError(response.status, code, message, retryAfter);
}

/** The server's VAPID key (base64url), the `applicationServerKey` for `pushManager.subscribe`. No token needed. */
export async function vapidPublicKey(url: string): Promise<string> {
  return (await json<{ publicKey: string }>(url, '/v1/push/vapid', 'GET', undefined, undefined, [200])).publicKey;
}

export const registration: RegistrationApi = {
  request: (url, phone) => json(url, '/v1/register/request', 'POST', { phone }, undefined, [200, 202]),
  verify: (url, phone, code) => json(url, '/v1/register/verify', 'POST', { phone, code }, undefined, [200, 201]),
};

/** The authenticated HTTP calls of one device. */
export class HttpApi {
  constructor(
    readonly url: string,
    private readonly token: () => string | undefined,
  ) {}

  /** Every device of the account. */
  async devices(): Promise<DeviceInfo[]> {
    return (await json<{ devices: DeviceInfo[] }>(this.url, '/v1/devices', 'GET', undefined, this.#token(), [200])).devices;
  }

  /** On the primary: makes the device showing `linkCode` a device of this account. */
  async approveLink(linkCode: string): Promise<{ deviceId: number; name: string }> {
    return json(this.url, '/v1/devices/link/approve', 'POST', { linkCode }, this.#token(), [200]);
  }

  /** The primary removes any linked device, a linked device only itself; its token dies at once. */
  async removeDevice(deviceId: number): Promise<void> {
    await apiRequest(
      this.url,
      `/v1/devices/${encodeURIComponent(String(deviceId))}`,
      { method: 'DELETE', headers: { authorization: `Bearer ${this.#token()}` } },
      [204],
    );
  }

  async createGroup(name: string, members: string[]): Promise<Group> {
    return json(this.url, '/v1/groups', 'POST', { name, members }, this.#token(), [200, 201]);
  }

  async listGroups(): Promise<Group[]> {
    return (await json<{ groups: Group[] }>(this.url, '/v1/groups', 'GET', undefined, this.#token(), [200])).groups;
  }

  async getGroup(groupId: string): Promise<Group> {
    return json(this.url, `/v1/groups/${encodeURIComponent(groupId)}`, 'GET', undefined, this.#token(), [200]);
  }

  async changeMembers(groupId: string, change: { add?: string[]; remove?: string[] }): Promise<Group> {
    const body = { add: change.add ?? [], remove: change.remove ?? [] };
    return json(this.url, `/v1/groups/${encodeURIComponent(groupId)}/members`, 'POST', body, this.#token(), [200, 201]);
  }

  /** Makes `target` this device's only push target (`PUT /v1/devices/me/push`); `invalid_push` when the server may not use it. */
  async setPushTarget(target: PushTarget): Promise<void> {
    const init: FetchInit = {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#token()}` },
      body: JSON.stringify(target),
    };
    await apiRequest(this.url, '/v1/devices/me/push', init, [204]);
  }

  /** No more pushes to this device (`DELETE /v1/devices/me/push`). */
  async removePushTarget(): Promise<void> {
    await apiRequest(this.url, '/v1/devices/me/push', { method: 'DELETE', headers: { authorization: `Bearer ${this.#token()}` } }, [204]);
  }

  /** Stores bytes on the server; the answer is what a message's `media` needs (add thumbnail, caption). */
  async upload(bytes: UploadBody, mime: string, signal?: AbortSignal): Promise<MediaRef> {
    const init: FetchInit = {
      method: 'POST',
      headers: { 'content-type': mime, authorization: `Bearer ${this.#token()}`, accept: 'application/json' },
      body: bytes as BodyInit,
    };
    // fetch refuses a stream body unless told it is sent while the answer may already arrive.
    if (typeof ReadableStream !== 'undefined' && bytes instanceof ReadableStream) init.duplex = 'half';
    if (signal !== undefined) init.signal = signal;
    const response = await apiRequest(this.url, '/v1/media', init, [200, 201]);
    const ref = (await response.json()) as MediaRef;
    return { hash: ref.hash, size: ref.size, mime: ref.mime };
  }

  /** The blob's answer (`200`, or `206` for a range); read it with `.arrayBuffer()`, `.body`, ... */
  async download(hash: string, options: DownloadOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token()}` };
    if (options.range !== undefined) headers.range = `bytes=${options.range.start}-${options.range.end ?? ''}`;
    const init: FetchInit = { method: 'GET', headers };
    if (options.signal !== undefined) init.signal = options.signal;
    return apiRequest(this.url, `/v1/media/${encodeURIComponent(hash)}`, init, options.range === undefined ? [200] : [200, 206]);
  }

  /** The whole blob as bytes. */
  async downloadBytes(hash: string, signal?: AbortSignal): Promise<Uint8Array> {
    const response = await this.download(hash, signal === undefined ? {} : { signal });
    return new Uint8Array(await response.arrayBuffer());
  }

  #token(): string {
    const token = this.token();
    if (token === undefined) throw new CourierApiError(401, 'unauthorized', 'no token: register first');
    return token;
  }
}

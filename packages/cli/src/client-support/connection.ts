/** Opening the SDK client of a profile for a command, with errors a person can act on. */
import { CourierClient, type CourierClientOptions, type DisconnectInfo } from 'courier-chat-client/node';
import type { Profile } from './profile.js';

/**
 * Connects, or fails at once with the URL and the cause when the first attempt fails (a person
 * at a terminal wants to know now, not after the SDK's retries); a command that was connected
 * keeps the SDK's reconnection afterwards. Gives up after `timeoutMs` if the server never answers.
 */
export async function connectOrFail(client: CourierClient, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let off: (() => void) | undefined;
  const failed = new Promise<never>((_, reject) => {
    off = client.on('disconnected', (d) => {
      if (d.willReconnect) reject(new Error(`cannot connect to ${client.url}: ${explainDisconnect(d)}`));
    });
    timer = setTimeout(() => reject(new Error(`cannot connect to ${client.url}: no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([client.connect(), failed]);
  } catch (err) {
    await client.close();
    throw err;
  } finally {
    clearTimeout(timer);
    off?.();
  }
}

/** Why a socket attempt failed, in words: the library's text names a code, not a cause. */
export function explainDisconnect(d: DisconnectInfo): string {
  const error = d.error ?? '';
  if (/ECONNREFUSED/.test(error)) return `connection refused (${error.replace(/^connect /, '')}): is the server running, on this port?`;
  if (/ENOTFOUND|EAI_AGAIN/.test(error)) return `unknown host (${error})`;
  const status = /Unexpected server response: (\d+)/.exec(error)?.[1];
  if (status !== undefined) return `it answered the WebSocket upgrade with HTTP ${status}: is it a Courier server (the socket is at /v1/ws)?`;
  if (error !== '') return error;
  return `closed with ${d.code}${d.reason === '' ? '' : ` (${d.reason})`}`;
}

export function clientFor(profile: Profile, server: string, options: Partial<CourierClientOptions> = {}): CourierClient {
  return new CourierClient({ url: server, token: profile.token, ...options });
}

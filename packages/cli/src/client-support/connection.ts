/** Opening the SDK client of a profile for a command, with errors a person can act on. */
import { CourierClient, type CourierClientOptions, type DisconnectInfo } from 'courier-chat-client/node';
import type { Profile } from './profile.js';

/** Connects, giving up after `timeoutMs` with the reason of the last failed attempt. */
export async function connectOrFail(client: CourierClient, timeoutMs: number): Promise<void> {
  let last: DisconnectInfo | undefined;
  const off = client.on('disconnected', (d) => void (last = d));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const why = last === undefined ? 'no answer' : (last.error ?? `closed with ${last.code}${last.reason === '' ? '' : ` ${last.reason}`}`);
      reject(new Error(`cannot connect to ${client.url} within ${timeoutMs / 1000} s: ${why}`));
    }, timeoutMs);
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } catch (err) {
    await client.close();
    throw err;
  } finally {
    clearTimeout(timer);
    off();
  }
}

export function clientFor(profile: Profile, server: string, options: Partial<CourierClientOptions> = {}): CourierClient {
  return new CourierClient({ url: server, token: profile.token, ...options });
}

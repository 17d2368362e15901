/** Registers test users on a real server, reading each code from the server's SMS outbox. */
import { CourierClient, type CourierClientOptions, type Registration } from '../../src/node.js';
import type { ServerProcess } from './server-process.js';

export interface TestUser extends Registration {
  phone: string;
}

let counter = 0;

/** A phone number no other test of this run uses. */
export function uniquePhone(): string {
  counter += 1;
  const digits = `${Date.now() % 1_000_000}${String(counter).padStart(3, '0')}${Math.floor(Math.random() * 10)}`;
  return `+1555${digits.slice(-10)}`;
}

export async function register(server: ServerProcess, phone = uniquePhone()): Promise<TestUser> {
  const asked = Date.now() - 1;
  await CourierClient.register.request(server.url, phone);
  const code = await server.waitForCode(phone, asked);
  const registration = await CourierClient.register.verify(server.url, phone, code);
  return { ...registration, phone };
}

/** A client of `user` with fast reconnections, so tests do not wait on production backoff. */
export function clientOf(server: ServerProcess, user: TestUser, options: Partial<CourierClientOptions> = {}): CourierClient {
  return new CourierClient({
    url: server.url,
    token: user.token,
    backoff: { initialDelayMs: 100, maxDelayMs: 1_000 },
    ...options,
  });
}

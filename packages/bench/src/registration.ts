import { HttpClient } from './http-client.js';
import { SmsOutbox } from './sms-outbox.js';

export interface Account {
  userId: string;
  token: string;
}

/** Phone numbers unique within one server's data directory: +1 999 and a running number. */
export function benchPhone(index: number): string {
  return `+1999${String(index).padStart(8, '0')}`;
}

/**
 * Registers `count` users through the HTTP API as devices would (request a code, read it from
 * the file SMS outbox, verify), `concurrency` at a time.
 */
export async function registerUsers(
  baseUrl: string,
  smsFile: string,
  count: number,
  options: { firstIndex?: number; concurrency?: number; onProgress?: (done: number) => void } = {},
): Promise<Account[]> {
  const concurrency = options.concurrency ?? 64;
  const first = options.firstIndex ?? 0;
  const http = new HttpClient(baseUrl, concurrency);
  const outbox = new SmsOutbox(smsFile);
  const accounts = new Array<Account>(count);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      accounts[i] = await registerOne(http, outbox, benchPhone(first + i));
      done++;
      if (done % 1000 === 0) options.onProgress?.(done);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } finally {
    http.close();
    await outbox.close();
  }
  return accounts;
}

async function registerOne(http: HttpClient, outbox: SmsOutbox, phone: string): Promise<Account> {
  const requested = await http.postJson('/v1/register/request', { phone });
  if (requested.status !== 202) throw new Error(`POST /v1/register/request for ${phone} answered ${requested.status}: ${JSON.stringify(requested.body)}`);
  const code = await outbox.codeFor(phone);
  const verified = await http.postJson('/v1/register/verify', { phone, code });
  if (verified.status !== 200) throw new Error(`POST /v1/register/verify for ${phone} answered ${verified.status}: ${JSON.stringify(verified.body)}`);
  const account = verified.body as Account;
  if (account.userId !== phone || typeof account.token !== 'string') {
    throw new Error(`POST /v1/register/verify for ${phone} answered an unexpected body: ${JSON.stringify(account)}`);
  }
  return account;
}

/**
 * Links `count` more devices to each account, as a new device and the primary would (link
 * request, approval by the primary, token by poll); answers each account's linked devices.
 */
export async function linkDevices(baseUrl: string, accounts: Account[], count: number, concurrency = 16): Promise<Account[][]> {
  const http = new HttpClient(baseUrl, concurrency);
  const linked = accounts.map(() => [] as Account[]);
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) {
      const i = next++;
      for (let d = 0; d < count; d++) linked[i]!.push(await linkOne(http, accounts[i]!, `bench device ${d + 2}`));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, accounts.length) }, worker));
  } finally {
    http.close();
  }
  return linked;
}

async function linkOne(http: HttpClient, primary: Account, name: string): Promise<Account> {
  const requested = await http.postJson('/v1/devices/link', { name });
  if (requested.status !== 201) throw new Error(`POST /v1/devices/link answered ${requested.status}: ${JSON.stringify(requested.body)}`);
  const approved = await http.postJson('/v1/devices/link/approve', { linkCode: requested.body.linkCode }, { authorization: `Bearer ${primary.token}` });
  if (approved.status !== 200) throw new Error(`POST /v1/devices/link/approve for ${primary.userId} answered ${approved.status}: ${JSON.stringify(approved.body)}`);
  const collected = await http.get(`/v1/devices/link/${encodeURIComponent(requested.body.pollToken as string)}?wait=5`);
  if (collected.status !== 200) throw new Error(`GET /v1/devices/link/<poll token> answered ${collected.status}: ${JSON.stringify(collected.body)}`);
  return collected.body as Account;
}

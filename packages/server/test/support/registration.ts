import { readFile } from 'node:fs/promises';

export interface Account {
  userId: string;
  token: string;
}

let phoneCounter = 0;
/** A fresh E.164 phone number for a test. */
export function newPhone(): string {
  phoneCounter++;
  return `+1555${String(process.pid % 1000).padStart(3, '0')}${String(phoneCounter).padStart(4, '0')}${Math.floor(Math.random() * 10)}`;
}

export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** The newest code the file SMS provider wrote for `phone`. */
export async function lastCode(smsFile: string, phone: string): Promise<string> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const lines = (await readFile(smsFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    const mine = lines.map((line) => JSON.parse(line) as { phone: string; code: string }).filter((sms) => sms.phone === phone);
    if (mine.length > 0) return mine[mine.length - 1]!.code;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no SMS for ${phone} in ${smsFile}`);
}

/** Registers `phone` through the HTTP API, as a device would. */
export async function register(baseUrl: string, smsFile: string, phone = newPhone()): Promise<Account> {
  const requested = await postJson(`${baseUrl}/v1/register/request`, { phone });
  if (requested.status !== 202) throw new Error(`register/request answered ${requested.status}: ${JSON.stringify(requested.body)}`);
  const code = await lastCode(smsFile, phone);
  const verified = await postJson(`${baseUrl}/v1/register/verify`, { phone, code });
  if (verified.status !== 200) throw new Error(`register/verify answered ${verified.status}: ${JSON.stringify(verified.body)}`);
  return verified.body as Account;
}

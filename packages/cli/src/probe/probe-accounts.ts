/**
 * The probe's synthetic accounts: CLI profiles `probe-1`, `probe-2`, ... (in ~/.courier/, beside
 * the person's own), registered once and reused by every later run against the same server (and
 * registered again when the server refuses a saved token).
 *
 * Registering needs SMS codes. An operator gives the probe either the server's `--sms-outbox`
 * file (`--sms-outbox`, where the probe can read it: same machine or a shared volume), or
 * registers the accounts once by hand (`courier register <phone> --profile probe-1`), or types
 * the codes when the probe asks at a terminal. After that no code is needed again.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { stdin, stdout } from 'node:process';
import { createInterface } from 'node:readline/promises';
import { CourierApiError, CourierClient } from 'courier-chat-client/node';
import { UsageError } from '../client-support/options.js';
import { loadProfile, profilePath, saveProfile, type Profile } from '../client-support/profile.js';

export interface AccountSource {
  server: string;
  /** The server's SMS outbox file, to read codes from. */
  smsOutbox: string | undefined;
  log(line: string): void;
}

/** Default phones: +1 555 0199 0xx, in the range kept for fiction (never a real subscriber). */
export function defaultPhones(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `+1555019${String(9000 + i + 1).padStart(4, '0')}`);
}

export function profileName(index: number): string {
  return `probe-${index + 1}`;
}

/** The profile of each phone, registered now if it has none for this server. */
export async function probeAccounts(phones: string[], source: AccountSource): Promise<Profile[]> {
  const profiles: Profile[] = [];
  for (const [index, phone] of phones.entries()) {
    const name = profileName(index);
    const existing = existsSync(profilePath(name)) ? await loadProfile(name) : undefined;
    if (existing !== undefined && existing.server === source.server && existing.phone === phone && (await tokenWorks(existing))) {
      profiles.push(existing);
      continue;
    }
    profiles.push(await registerAccount(name, phone, source));
  }
  return profiles;
}

/** False when the server refuses the token (the phone was registered again elsewhere): register again. */
async function tokenWorks(profile: Profile): Promise<boolean> {
  try {
    await new CourierClient({ url: profile.server, token: profile.token }).listGroups();
    return true;
  } catch (err) {
    if (err instanceof CourierApiError && err.code === 'unauthorized') return false;
    throw err;
  }
}

/** Registers (again) one probe account: a new code, read from the outbox or asked for. */
export async function registerAccount(name: string, phone: string, source: AccountSource): Promise<Profile> {
  const asked = Date.now();
  await CourierClient.register.request(source.server, phone);
  const code = await codeFor(phone, name, asked, source);
  const { userId, token } = await CourierClient.register.verify(source.server, phone, code);
  const profile: Profile = { server: source.server, userId, token, phone, registeredAt: Date.now() };
  await saveProfile(name, profile);
  source.log(`registered probe account ${phone} (profile "${name}")`);
  return profile;
}

async function codeFor(phone: string, name: string, askedAt: number, source: AccountSource): Promise<string> {
  if (source.smsOutbox !== undefined) return codeFromOutbox(source.smsOutbox, phone, askedAt);
  if (stdin.isTTY) {
    const prompt = createInterface({ input: stdin, output: stdout });
    try {
      return (await prompt.question(`code sent to ${phone}: `)).trim();
    } finally {
      prompt.close();
    }
  }
  throw new UsageError(
    `probe account ${phone} is not registered on ${source.server}: give --sms-outbox <the server's outbox file>, ` +
      `or register it once with "courier register ${phone} --profile ${name}" (or pass --phones with numbers you receive codes for)`,
  );
}

/** The code the file SMS provider wrote for `phone` at or after `since`, waiting up to 10 s for it. */
async function codeFromOutbox(path: string, phone: string, since: number): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = existsSync(path) ? await readFile(path, 'utf8') : '';
    const code = text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { phone?: string; code?: string; at?: number })
      .filter((sms) => sms.phone === phone && (sms.at ?? 0) >= since - 1000)
      .at(-1)?.code;
    if (code !== undefined) return code;
    if (Date.now() > deadline) throw new Error(`no code for ${phone} appeared in ${path} within 10 s: is it the server's --sms-outbox file?`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

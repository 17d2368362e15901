/**
 * A profile is one identity of this terminal: `<home>/<name>.json` holding the server, userId and
 * token (mode 0600: the token is the device's password), where `<home>` is COURIER_HOME or
 * `~/.courier`. Its companion `<name>.state.json` keeps the SDK's seq memory for `listen`.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { env } from 'node:process';
import type { ClientStorage } from 'courier-chat-client/node';
import { UsageError } from './options.js';

export interface Profile {
  server: string;
  userId: string;
  token: string;
  phone: string;
  registeredAt: number;
  /** 1 for the primary (registered by SMS); linked devices have their own (absent in old profiles: 1). */
  deviceId?: number;
}

export function courierHome(): string {
  return env.COURIER_HOME !== undefined && env.COURIER_HOME !== '' ? env.COURIER_HOME : join(homedir(), '.courier');
}

function checkName(name: string): string {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/.test(name)) throw new UsageError(`bad profile name "${name}": use letters, digits, _ . -`);
  return name;
}

export function profilePath(name: string): string {
  return join(courierHome(), `${checkName(name)}.json`);
}

let lastLoaded: { name: string; profile: Profile } | undefined;

/** The profile this command loaded last, for error messages that name its phone. */
export function lastLoadedProfile(): { name: string; profile: Profile } | undefined {
  return lastLoaded;
}

export async function loadProfile(name: string): Promise<Profile> {
  const path = profilePath(name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new UsageError(`no profile "${name}" (${path}): run "courier register <phone>${name === 'default' ? '' : ` --profile ${name}`}" first`);
    }
    throw err;
  }
  const profile = JSON.parse(text) as Partial<Profile>;
  if (typeof profile.token !== 'string' || typeof profile.userId !== 'string' || typeof profile.server !== 'string') {
    throw new UsageError(`profile ${path} is incomplete: register again`);
  }
  lastLoaded = { name, profile: profile as Profile };
  return profile as Profile;
}

export async function saveProfile(name: string, profile: Profile): Promise<string> {
  const path = profilePath(name);
  await writePrivate(path, `${JSON.stringify(profile, null, 2)}\n`);
  return path;
}

/** Writes a file only its owner can read, atomically (a crash leaves the old or the new one). */
async function writePrivate(path: string, text: string): Promise<void> {
  await mkdir(courierHome(), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

/** The SDK's storage for a profile: a small JSON object of strings next to the profile. */
export function profileStorage(name: string): ClientStorage {
  const path = join(courierHome(), `${checkName(name)}.state.json`);
  let cache: Record<string, string> | undefined;
  const load = async (): Promise<Record<string, string>> => {
    if (cache !== undefined) return cache;
    try {
      cache = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      cache = {};
    }
    return cache;
  };
  return {
    get: async (key) => (await load())[key],
    set: async (key, value) => {
      const all = await load();
      all[key] = value;
      await writePrivate(path, JSON.stringify(all));
    },
  };
}

/** The signed-in account, kept in localStorage so a reload stays signed in. */
import type { ClientStorage } from 'courier-chat-client';

export interface SavedSession {
  userId: string;
  token: string;
}

const key = 'courier:session';

export function loadSession(): SavedSession | undefined {
  const text = localStorage.getItem(key);
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as Partial<SavedSession>;
    if (typeof value.userId === 'string' && typeof value.token === 'string') return { userId: value.userId, token: value.token };
  } catch (err) {
    console.warn('ignoring an unreadable saved session', err);
  }
  return undefined;
}

export function saveSession(session: SavedSession): void {
  localStorage.setItem(key, JSON.stringify(session));
}

export function forgetSession(userId: string): void {
  localStorage.removeItem(key);
  for (const name of Object.keys(localStorage)) if (name.startsWith(sdkPrefix(userId))) localStorage.removeItem(name);
}

/** What the SDK remembers across reloads (the highest `seq` handed to the app), per account. */
export function sdkStorage(userId: string): ClientStorage {
  return {
    get: (name) => localStorage.getItem(sdkPrefix(userId) + name),
    set: (name, value) => localStorage.setItem(sdkPrefix(userId) + name, value),
  };
}

function sdkPrefix(userId: string): string {
  return `courier:sdk:${userId}:`;
}

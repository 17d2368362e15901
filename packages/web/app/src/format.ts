/** How times, sizes and people are written on screen. */

export const phonePattern = /^\+[0-9]{8,15}$/;

/** Accepts what people type ("+1 555 000-1234") and gives the E.164 userId, or undefined. */
export function normalizePhone(text: string): string | undefined {
  const compact = text.replace(/[\s().-]/g, '');
  return phonePattern.test(compact) ? compact : undefined;
}

export function clockTime(ts: number): string {
  return new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** Today: the time; this week: the weekday; else the date. */
export function listTime(ts: number, now = Date.now()): string {
  const date = new Date(ts);
  if (new Date(now).toDateString() === date.toDateString()) return clockTime(ts);
  if (now - ts < 6 * 24 * 3600_000) return date.toLocaleDateString([], { weekday: 'short' });
  return date.toLocaleDateString();
}

export function lastSeen(ts: number | undefined, now = Date.now()): string {
  if (ts === undefined) return 'offline';
  const date = new Date(ts);
  if (new Date(now).toDateString() === date.toDateString()) return `last seen today at ${clockTime(ts)}`;
  return `last seen ${date.toLocaleDateString()} at ${clockTime(ts)}`;
}

export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A client id for `send`: `randomUUID` needs a secure context, `getRandomValues` does not. */
export function newId(): string {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
}

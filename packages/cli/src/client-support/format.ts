/** One readable line per event for `listen` (and the receipts `send` prints). */
import type { ActionEvent, GroupEvent, MediaRef, MessageEvent, PresenceEvent, ReceiptEvent, TypingEvent } from 'courier-chat-client/node';

/** Local wall-clock time, HH:MM:SS. */
export function clock(ts: number = Date.now()): string {
  const d = new Date(ts);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

/**
 * Text from other users, made safe for a terminal: control characters (escape sequences could
 * rewrite the screen or the title) are shown escaped, newlines as \n, so one event stays one line.
 */
export function safe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function formatMedia(media: MediaRef): string {
  const caption = media.caption === undefined ? '' : ` "${safe(media.caption)}"`;
  const thumbnail = media.thumbnail === undefined ? '' : `, thumbnail ${Math.floor((media.thumbnail.length * 3) / 4)} bytes`;
  return `[${safe(media.mime)}, ${media.size} bytes, ${safe(media.hash)}${thumbnail}${caption}]`;
}

export function formatMessage(m: MessageEvent): string {
  const where = m.group === undefined ? '' : ` in ${safe(m.group)}`;
  const parts = [m.body === undefined ? undefined : safe(m.body), m.media === undefined ? undefined : formatMedia(m.media)];
  const extras = [
    m.replyTo === undefined ? undefined : `reply to ${safe(m.replyTo)}`,
    m.expiresIn === undefined ? undefined : `disappears after ${m.expiresIn} s`,
  ].filter((e) => e !== undefined);
  const more = extras.length === 0 ? '' : ` [${extras.join(', ')}]`;
  return `${clock(m.ts)} message from ${safe(m.from)}${where}: ${parts.filter((p) => p !== undefined).join(' ')}${more}  (id ${safe(m.serverId)}, seq ${m.seq})`;
}

/** An edit, a delete for everyone or a reaction, naming the message it is about. */
export function formatAction(a: ActionEvent): string {
  const where = a.group === undefined ? '' : ` in ${safe(a.group)}`;
  const what =
    a.type === 'edit'
      ? `edited by ${safe(a.from)}${where}: ${safe(a.body)}`
      : a.type === 'delete'
        ? `deleted by ${safe(a.from)}${where}`
        : a.emoji === ''
          ? `reaction taken back by ${safe(a.from)}${where}`
          : `reaction ${safe(a.emoji)} by ${safe(a.from)}${where}`;
  return `${clock(a.ts)} message ${safe(a.target)} ${what}  (seq ${a.seq})`;
}

export function formatReceipt(r: ReceiptEvent): string {
  return `${clock(r.ts)} ${r.status} by ${safe(r.by)}: ${r.serverIds.map(safe).join(', ')}  (seq ${r.seq})`;
}

export function formatTyping(t: TypingEvent): string {
  const where = t.to.startsWith('+') ? '' : ` in ${safe(t.to)}`;
  return `${clock()} ${safe(t.from)}${where} ${t.active ? 'is typing' : 'stopped typing'}`;
}

export function formatPresence(p: PresenceEvent): string {
  if (p.online) return `${clock()} ${safe(p.user)} is online`;
  return `${clock()} ${safe(p.user)} is offline${p.lastSeen === undefined ? '' : ` (last seen ${new Date(p.lastSeen).toLocaleString()})`}`;
}

export function formatGroup(g: GroupEvent): string {
  const name = typeof g.name === 'string' ? ` "${safe(g.name)}"` : '';
  const users = Array.isArray(g.users) ? ` ${g.users.map((u) => safe(String(u))).join(', ')}` : '';
  const by = typeof g.by === 'string' ? ` by ${safe(g.by)}` : '';
  return `${clock(typeof g.ts === 'number' ? g.ts : Date.now())} group ${safe(String(g.groupId ?? '?'))}${name} ${safe(String(g.change ?? 'changed'))}${users}${by}  (seq ${g.seq})`;
}

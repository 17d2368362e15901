import { lastSeen } from '../format.js';
import type { Presence } from '../messenger.js';

/** "online" or "last seen …"; in the chat list just a dot with the same words for screen readers. */
export function PeerStatus({ presence, short = false }: { presence: Presence | undefined; short?: boolean }) {
  if (presence === undefined) return null;
  const text = presence.online ? 'online' : lastSeen(presence.lastSeen);
  if (short) return <span class={`dot ${presence.online ? 'on' : 'off'}`}>{presence.online ? <span class="sr">, online</span> : null}</span>;
  return <span class="presence">{text}</span>;
}

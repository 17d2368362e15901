/**
 * The users whose presence the app asked for. The server forgets subscriptions with the
 * connection, so they are asked for again on every new one.
 */
import { idBatches } from './id-batches.js';
import type { SocketSession } from './socket-session.js';

export class PresenceSubscriptions {
  readonly #users = new Set<string>();

  /** Remembers the users; asks for the new ones now if `session` is ready, else on the next connection. */
  subscribe(users: string[], session: SocketSession | undefined): void {
    const fresh = users.filter((u) => !this.#users.has(u));
    for (const u of fresh) this.#users.add(u);
    if (session === undefined || fresh.length === 0) return;
    for (const ids of idBatches(fresh)) session.write({ type: 'presence.subscribe', users: ids });
  }

  /** A new connection is ready: asks for every remembered user. */
  renew(session: SocketSession): void {
    if (this.#users.size === 0) return;
    for (const users of idBatches([...this.#users])) session.write({ type: 'presence.subscribe', users });
  }
}

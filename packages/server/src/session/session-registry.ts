import type { DeviceSignal, PresenceChange } from '../ports/bus.js';
import type { Session } from './session.js';

/** Of `watchers`, those who may see `userId`'s presence (blocks and presence visibility). */
export type PresenceAudience = (userId: string, watchers: string[]) => Promise<Set<string>>;

/**
 * This node's sessions, by connection id, and who watches whose presence. Signals from the bus
 * land here and go to the session of the connection they name. Which connection holds a device
 * is the bus's directory's to say (see ports/bus.ts), so it is not kept here a second time.
 */
export class SessionRegistry {
  /** connectionId → the session of every open socket, authenticated or not. */
  private readonly byConnection = new Map<string, Session>();
  private readonly watchers = new Map<string, Set<Session>>();
  /** Of the watched users, those whose watchers were last told they are online. */
  private readonly toldOnline = new Set<string>();
  /** Per watched user, the presence change being passed on: changes of one user go out in order. */
  private readonly presenceChains = new Map<string, Promise<void>>();

  constructor(
    private readonly audience: PresenceAudience,
    private readonly onAudienceError: (err: unknown) => void,
  ) {}

  add(session: Session): void {
    this.byConnection.set(session.connection.id, session);
  }

  remove(session: Session): void {
    this.byConnection.delete(session.connection.id);
    for (const user of session.watched.users) {
      const set = this.watchers.get(user);
      set?.delete(session);
      if (set?.size === 0) {
        this.watchers.delete(user);
        this.toldOnline.delete(user);
      }
    }
  }

  /** Every open socket's session. */
  get all(): IterableIterator<Session> {
    return this.byConnection.values();
  }

  get openCount(): number {
    return this.byConnection.size;
  }

  /** Sessions past `auth`: one pass, for a scrape. */
  get authenticatedCount(): number {
    let count = 0;
    for (const session of this.byConnection.values()) if (session.isReady) count++;
    return count;
  }

  /** `session` now watches `users` too (see Session.watched): they are indexed here for the changes. */
  watch(session: Session, users: string[]): void {
    for (const user of users) {
      let set = this.watchers.get(user);
      if (set === undefined) this.watchers.set(user, (set = new Set()));
      set.add(session);
    }
  }

  /** A signal the bus addressed to `connectionId`; gone with its socket if that closed meanwhile. */
  dispatchSignal(connectionId: string, signal: DeviceSignal): void {
    this.byConnection.get(connectionId)?.onSignal(signal);
  }

  /** Watched users whose watchers believe them online: the ones a dead node could leave behind. */
  get watchedOnline(): string[] {
    return [...this.toldOnline];
  }

  /** A presence frame went to a watcher of `userId` (a snapshot or a change). */
  noteTold(userId: string, online: boolean): void {
    if (online && this.watchers.has(userId)) this.toldOnline.add(userId);
    else this.toldOnline.delete(userId);
  }

  /**
   * Passes a presence change on to the watchers here that may see it. Changes of one user are
   * passed on in the order they came; a watcher left out (blocked, or not in the user's
   * visibility) gets nothing, not even that the user is hidden.
   */
  dispatchPresence(change: PresenceChange): void {
    if (!this.watchers.has(change.userId)) return;
    const previous = this.presenceChains.get(change.userId) ?? Promise.resolve();
    const next = previous.then(() => this.passOn(change)).catch(this.onAudienceError);
    this.presenceChains.set(change.userId, next);
    void next.then(() => {
      if (this.presenceChains.get(change.userId) === next) this.presenceChains.delete(change.userId);
    });
  }

  private async passOn(change: PresenceChange): Promise<void> {
    const set = this.watchers.get(change.userId);
    if (set === undefined) return;
    const sessions = [...set];
    const allowed = await this.audience(change.userId, [...new Set(sessions.map((session) => session.userId!))]);
    this.noteTold(change.userId, change.online);
    const frame =
      change.online || change.lastSeen === undefined
        ? { type: 'presence', user: change.userId, online: change.online }
        : { type: 'presence', user: change.userId, online: false, lastSeen: change.lastSeen };
    for (const session of sessions) {
      if (!allowed.has(session.userId!)) continue;
      if (session.watched.tell(change.userId, change.online)) session.sendFrame(frame);
    }
  }
}

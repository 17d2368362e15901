import type { Bus } from '../ports/bus.js';
import type { Store } from '../ports/store.js';

export interface PresenceFrame {
  type: 'presence';
  user: string;
  online: boolean;
  lastSeen?: number;
}

/** Online while a device holds an authenticated socket; `lastSeen` when the last one closes. */
export class PresenceService {
  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * This node now holds the device's socket; any older connection, here or elsewhere, is
   * replaced. False when a newer connection of the device already holds it.
   */
  async connect(userId: string, connectionId: string): Promise<boolean> {
    if (!(await this.bus.claimDevice(userId, connectionId))) return false;
    await this.bus.publishPresence({ userId, online: true });
    return true;
  }

  /** The socket closed; the user goes offline unless a newer connection already took over. */
  async disconnect(userId: string, connectionId: string): Promise<void> {
    const wasHolder = await this.bus.releaseDevice(userId, connectionId);
    if (wasHolder) await this.wentOffline(userId);
  }

  /** Which of these users the directory still names online, on any node. */
  onlineAmong(userIds: string[]): Promise<Set<string>> {
    return this.bus.onlineUsers(userIds);
  }

  /**
   * The user went offline without a word: its node died, and its directory entry expired.
   * Told to every node like a disconnect, so watchers everywhere learn of it.
   */
  async wentOffline(userId: string): Promise<void> {
    const lastSeen = this.now();
    await this.store.setLastSeen(userId, lastSeen);
    await this.bus.publishPresence({ userId, online: false, lastSeen });
  }

  /**
   * One presence frame per user the watcher may see (see `visibleTo`), and the users that are
   * not registered. A user hidden from the watcher is in neither list.
   */
  async snapshot(watcher: string, userIds: string[]): Promise<{ frames: PresenceFrame[]; unknown: string[] }> {
    const [online, lastSeen, visible] = await Promise.all([
      this.bus.onlineUsers(userIds),
      this.store.lastSeen(userIds),
      this.visibleTo(watcher, userIds),
    ]);
    const frames: PresenceFrame[] = userIds
      .filter((userId) => visible.has(userId))
      .map((user) =>
        online.has(user) ? { type: 'presence', user, online: true } : { type: 'presence', user, online: false, lastSeen: lastSeen.get(user)! },
      );
    return { frames, unknown: userIds.filter((userId) => !lastSeen.has(userId)) };
  }

  /** Of `userIds`, those whose presence `watcher` may see (blocks and presence visibility). */
  async visibleTo(watcher: string, userIds: string[]): Promise<Set<string>> {
    const allowed = await this.store.presenceAllowed(userIds.map((user) => ({ user, watcher })));
    return new Set(allowed.map((pair) => pair.user));
  }

  /** Of `watchers`, those who may see `userId`'s presence. */
  async audienceOf(userId: string, watchers: string[]): Promise<Set<string>> {
    const allowed = await this.store.presenceAllowed(watchers.map((watcher) => ({ user: userId, watcher })));
    return new Set(allowed.map((pair) => pair.watcher));
  }
}

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

  /** One presence frame per known user; unknown users are left out. */
  async snapshot(userIds: string[]): Promise<PresenceFrame[]> {
    const [online, lastSeen] = await Promise.all([this.bus.onlineUsers(userIds), this.store.lastSeen(userIds)]);
    return userIds
      .filter((userId) => lastSeen.has(userId))
      .map((user) =>
        online.has(user) ? { type: 'presence', user, online: true } : { type: 'presence', user, online: false, lastSeen: lastSeen.get(user)! },
      );
  }
}

import type { DeviceAddress } from '../domain/device.js';
import type { Bus } from '../ports/bus.js';
import type { Store } from '../ports/store.js';

export interface PresenceFrame {
  type: 'presence';
  user: string;
  online: boolean;
  lastSeen?: number;
}

/**
 * A user is online while any of its devices holds an authenticated socket; `lastSeen` when the
 * last one closes. Devices come and go on their own: watchers hear of the user's first socket
 * and of its last one, not of each device (a node passes on changes only, see SessionRegistry).
 */
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
  async connect(device: DeviceAddress, connectionId: string): Promise<boolean> {
    if (!(await this.bus.claimDevice(device, connectionId))) return false;
    // Said for every device: when another one is online already, watchers' nodes drop the repeat.
    await this.bus.publishPresence({ userId: device.userId, online: true });
    return true;
  }

  /** The socket closed; the user goes offline when it was its last device online. */
  async disconnect(device: DeviceAddress, connectionId: string): Promise<void> {
    const wasHolder = await this.bus.releaseDevice(device, connectionId);
    if (!wasHolder) return;
    const lastSeen = this.now();
    await this.store.setLastSeen(device.userId, lastSeen, device.deviceId);
    // Looked at after the release: of two devices leaving at once, at least one sees the other gone.
    if (await this.anyDeviceOnline(device.userId)) return;
    await this.bus.publishPresence({ userId: device.userId, online: false, lastSeen });
    // A device that connected meanwhile may have said `online` before this `offline` went out:
    // then the last word must be `online` again.
    if (await this.anyDeviceOnline(device.userId)) await this.bus.publishPresence({ userId: device.userId, online: true });
  }

  /** Which of these users the directory still names online (any device), on any node. */
  async onlineAmong(userIds: string[]): Promise<Set<string>> {
    const devices = await this.store.devicesOf(userIds);
    const online = await this.bus.onlineDevices(devices.map(({ userId, deviceId }) => ({ userId, deviceId })));
    return new Set(online.map((device) => device.userId));
  }

  /**
   * The user went offline without a word: its node died, and its directory entries expired.
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
      this.onlineAmong(userIds),
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

  private async anyDeviceOnline(userId: string): Promise<boolean> {
    return (await this.onlineAmong([userId])).size > 0;
  }
}

import { deviceKey, type DeviceAddress } from '../domain/device.js';
import type { DeviceSignal, PresenceChange } from '../ports/bus.js';
import type { Session } from './session.js';

/**
 * This node's sessions: every open socket, the authenticated one of each device, and who
 * watches whose presence. Signals from the bus land here and go to the right session.
 */
export class SessionRegistry {
  readonly all = new Set<Session>();
  /** deviceKey → the device's authenticated session on this node. */
  private readonly byDevice = new Map<string, Session>();
  private readonly watchers = new Map<string, Set<Session>>();
  /** Of the watched users, those whose watchers were last told they are online. */
  private readonly toldOnline = new Set<string>();

  add(session: Session): void {
    this.all.add(session);
  }

  /** Makes `session` the device's session here; returns the one it replaces, if any. */
  authenticate(device: DeviceAddress, session: Session): Session | undefined {
    const key = deviceKey(device);
    const previous = this.byDevice.get(key);
    this.byDevice.set(key, session);
    return previous === session ? undefined : previous;
  }

  remove(session: Session): void {
    this.all.delete(session);
    if (session.device !== undefined) {
      const key = deviceKey(session.device);
      if (this.byDevice.get(key) === session) this.byDevice.delete(key);
    }
    for (const user of session.watching) {
      const set = this.watchers.get(user);
      set?.delete(session);
      if (set?.size === 0) {
        this.watchers.delete(user);
        this.toldOnline.delete(user);
      }
    }
  }

  get(device: DeviceAddress): Session | undefined {
    return this.byDevice.get(deviceKey(device));
  }

  get authenticatedCount(): number {
    return this.byDevice.size;
  }

  watch(session: Session, users: string[]): void {
    for (const user of users) {
      session.watching.add(user);
      let set = this.watchers.get(user);
      if (set === undefined) this.watchers.set(user, (set = new Set()));
      set.add(session);
    }
  }

  dispatchSignal(device: DeviceAddress, signal: DeviceSignal): void {
    this.byDevice.get(deviceKey(device))?.onSignal(signal);
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

  dispatchPresence(change: PresenceChange): void {
    const set = this.watchers.get(change.userId);
    if (set === undefined) return;
    this.noteTold(change.userId, change.online);
    const frame =
      change.online || change.lastSeen === undefined
        ? { type: 'presence', user: change.userId, online: change.online }
        : { type: 'presence', user: change.userId, online: false, lastSeen: change.lastSeen };
    for (const session of set) {
      // Devices of one user coming or going at once may announce the same state twice; a
      // watcher hears of changes only.
      if (session.presenceTold.get(change.userId) === change.online) continue;
      session.presenceTold.set(change.userId, change.online);
      session.sendFrame(frame);
    }
  }
}

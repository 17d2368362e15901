import type { Bus, BusHandlers, DeviceSignal, PresenceChange } from '../../../ports/bus.js';

/**
 * The bus of a single node: the directory is a Map and signals are function calls.
 *
 * Handlers run in microtasks, never inside the caller's stack, so callers see the same
 * asynchrony as with a networked bus; microtasks run in the order they were queued, which
 * keeps signals to one device in order.
 */
export class MemoryBus implements Bus {
  /** userId → connectionId of the socket this node holds for it. */
  private readonly holders = new Map<string, string>();
  private handlers: BusHandlers | undefined;
  private closed = false;

  async start(handlers: BusHandlers): Promise<void> {
    this.assertOpen();
    this.handlers = handlers;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.handlers = undefined;
    this.holders.clear();
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async claimDevice(userId: string, connectionId: string): Promise<boolean> {
    this.assertOpen();
    const previous = this.holders.get(userId);
    if (previous !== undefined && previous > connectionId) return false;
    this.holders.set(userId, connectionId);
    if (previous !== undefined && previous !== connectionId) {
      this.deliver(userId, { kind: 'replaced', connectionId: previous });
    }
    return true;
  }

  async releaseDevice(userId: string, connectionId: string): Promise<boolean> {
    this.assertOpen();
    if (this.holders.get(userId) !== connectionId) return false;
    this.holders.delete(userId);
    return true;
  }

  async onlineUsers(userIds: string[]): Promise<Set<string>> {
    this.assertOpen();
    return new Set(userIds.filter((userId) => this.holders.has(userId)));
  }

  async signalDevice(userId: string, signal: DeviceSignal): Promise<void> {
    this.assertOpen();
    if (this.holders.has(userId)) this.deliver(userId, signal);
  }

  async publishPresence(change: PresenceChange): Promise<void> {
    this.assertOpen();
    queueMicrotask(() => this.handlers?.onPresence(change));
  }

  private deliver(userId: string, signal: DeviceSignal): void {
    // Looked up when the microtask runs, so nothing reaches a handler after close().
    queueMicrotask(() => this.handlers?.onDeviceSignal(userId, signal));
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryBus is closed');
  }
}

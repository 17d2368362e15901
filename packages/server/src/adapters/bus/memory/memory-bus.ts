import { deviceKey, type DeviceAddress } from '../../../domain/device.js';
import type { Bus, BusHandlers, DeviceSignal, PresenceChange } from '../../../ports/bus.js';

/**
 * The bus of a single node: the directory is a Map and signals are function calls.
 *
 * The Map is the node's only record of which connection holds a device (the SessionRegistry
 * knows sessions by connection id), so the rule that the newest connection wins is applied here
 * and nowhere else.
 *
 * Handlers run in microtasks, never inside the caller's stack, so callers see the same
 * asynchrony as with a networked bus; microtasks run in the order they were queued, which
 * keeps signals to one device in order.
 */
export class MemoryBus implements Bus {
  /** deviceKey → connectionId of the socket this node holds for the device. */
  private readonly holders = new Map<string, string>();
  private handlers: BusHandlers | undefined;
  private closed = false;
  /** Deliveries waiting for the next microtask, oldest first. */
  private outbox: Array<() => void> = [];

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

  async claimDevice(device: DeviceAddress, connectionId: string): Promise<boolean> {
    this.assertOpen();
    const key = deviceKey(device);
    const previous = this.holders.get(key);
    if (previous !== undefined && previous > connectionId) return false;
    this.holders.set(key, connectionId);
    if (previous !== undefined && previous !== connectionId) {
      this.deliver(device, previous, { kind: 'replaced', connectionId: previous });
    }
    return true;
  }

  async releaseDevice(device: DeviceAddress, connectionId: string): Promise<boolean> {
    this.assertOpen();
    const key = deviceKey(device);
    if (this.holders.get(key) !== connectionId) return false;
    this.holders.delete(key);
    return true;
  }

  async onlineDevices(devices: DeviceAddress[]): Promise<DeviceAddress[]> {
    this.assertOpen();
    return devices.filter((device) => this.holders.has(deviceKey(device)));
  }

  async signalDevice(device: DeviceAddress, signal: DeviceSignal): Promise<void> {
    this.assertOpen();
    const holder = this.holders.get(deviceKey(device));
    if (holder !== undefined) this.deliver(device, holder, signal);
  }

  async publishPresence(change: PresenceChange): Promise<void> {
    this.assertOpen();
    this.later(() => this.handlers?.onPresence(change));
  }

  private deliver(device: DeviceAddress, connectionId: string, signal: DeviceSignal): void {
    // Looked up when the microtask runs, so nothing reaches a handler after close().
    this.later(() => this.handlers?.onDeviceSignal(device, connectionId, signal));
  }

  /**
   * Hands deliveries over in a microtask, as a bus across nodes would (never inside the sender's
   * call), in the order they were sent. One microtask per run of deliveries: queueMicrotask costs
   * an async resource each, and a group message is a delivery per member.
   */
  private later(delivery: () => void): void {
    this.outbox.push(delivery);
    if (this.outbox.length === 1) queueMicrotask(this.flush);
  }

  private readonly flush = (): void => {
    const deliveries = this.outbox;
    this.outbox = [];
    for (let i = 0; i < deliveries.length; i++) {
      try {
        deliveries[i]!();
      } catch (err) {
        // A handler that throws must not cost the deliveries behind it: they go in the next
        // microtask, and the error surfaces as it did with one microtask per delivery.
        this.outbox = [...deliveries.slice(i + 1), ...this.outbox];
        if (this.outbox.length > 0) queueMicrotask(this.flush);
        throw err;
      }
    }
  };

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryBus is closed');
  }
}

import type { DeviceRef } from '../../domain/push-target.js';
import type { Bus, BusHandlers, DeviceSignal, PresenceChange } from '../../ports/bus.js';

/**
 * The Bus, with one addition: each `events` signal, which only the node that stored the events
 * sends (see services/notifier.ts), is also told to `onEventsStored`. That makes the push
 * decision once per event in the deployment, and keeps it off the send path: the callback only
 * notes the device, it never waits.
 */
export class WakeOnEventsBus implements Bus {
  constructor(
    private readonly inner: Bus,
    private readonly onEventsStored: (device: DeviceRef) => void,
  ) {}

  start(handlers: BusHandlers): Promise<void> {
    return this.inner.start(handlers);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  claimDevice(userId: string, connectionId: string): Promise<boolean> {
    return this.inner.claimDevice(userId, connectionId);
  }
  releaseDevice(userId: string, connectionId: string): Promise<boolean> {
    return this.inner.releaseDevice(userId, connectionId);
  }
  onlineUsers(userIds: string[]): Promise<Set<string>> {
    return this.inner.onlineUsers(userIds);
  }
  signalDevice(userId: string, signal: DeviceSignal): Promise<void> {
    // Until accounts have several devices, every account is device 1.
    if (signal.kind === 'events') this.onEventsStored({ userId, deviceId: 1 });
    return this.inner.signalDevice(userId, signal);
  }
  publishPresence(change: PresenceChange): Promise<void> {
    return this.inner.publishPresence(change);
  }
}

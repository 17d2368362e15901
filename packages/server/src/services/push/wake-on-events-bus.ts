import type { DeviceAddress } from '../../domain/device.js';
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
    private readonly onEventsStored: (device: DeviceAddress) => void,
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
  claimDevice(device: DeviceAddress, connectionId: string): Promise<boolean> {
    return this.inner.claimDevice(device, connectionId);
  }
  releaseDevice(device: DeviceAddress, connectionId: string): Promise<boolean> {
    return this.inner.releaseDevice(device, connectionId);
  }
  onlineDevices(devices: DeviceAddress[]): Promise<DeviceAddress[]> {
    return this.inner.onlineDevices(devices);
  }
  signalDevice(device: DeviceAddress, signal: DeviceSignal): Promise<void> {
    if (signal.kind === 'events') this.onEventsStored(device);
    return this.inner.signalDevice(device, signal);
  }
  publishPresence(change: PresenceChange): Promise<void> {
    return this.inner.publishPresence(change);
  }
}

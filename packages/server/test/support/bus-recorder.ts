import { deviceKey, type DeviceAddress } from '../../src/domain/device.js';
import type { BusHandlers, DeviceSignal, PresenceChange } from '../../src/ports/bus.js';

export interface RecordedSignal {
  device: DeviceAddress;
  /** The connection the bus handed the signal to. */
  connectionId: string;
  signal: DeviceSignal;
}

/** Bus handlers that keep what they are given, and let a test wait for it. */
export class BusRecorder implements BusHandlers {
  readonly signals: RecordedSignal[] = [];
  readonly presence: PresenceChange[] = [];
  private readonly waiters = new Set<() => void>();

  onDeviceSignal(device: DeviceAddress, connectionId: string, signal: DeviceSignal): void {
    this.signals.push({ device, connectionId, signal });
    this.wake();
  }

  onPresence(change: PresenceChange): void {
    this.presence.push(change);
    this.wake();
  }

  signalsFor(device: DeviceAddress): DeviceSignal[] {
    return this.signals.filter((s) => deviceKey(s.device) === deviceKey(device)).map((s) => s.signal);
  }

  /** The connections the device's signals were handed to, in order. */
  connectionsFor(device: DeviceAddress): string[] {
    return this.signals.filter((s) => deviceKey(s.device) === deviceKey(device)).map((s) => s.connectionId);
  }

  /** Resolves once `done()` holds; rejects after `timeoutMs`, naming `what` it waited for. */
  async until(what: string, done: () => boolean, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  private wake(): void {
    for (const wake of [...this.waiters]) wake();
  }
}

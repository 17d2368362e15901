import { deviceKey, type DeviceAddress } from '../domain/device.js';
import type { Appended } from '../domain/events.js';
import type { Bus } from '../ports/bus.js';

/**
 * Tells the nodes that hold the devices about events just committed to their inboxes, one signal
 * per device with its events in order. Only a hint: the events are durable already, so a lost
 * signal costs latency, never data.
 */
export function notifyAppended(bus: Bus, appended: Appended[]): Promise<void> {
  // Most writes (a 1:1 message, an ack's receipt) reach one device: no grouping needed, and this
  // runs for every message, so it allocates as little as it can.
  if (appended.length === 0) return Promise.resolve();
  if (appended.length === 1 || appended.every((entry) => sameDevice(entry, appended[0]!))) {
    const { userId, deviceId } = appended[0]!;
    return bus.signalDevice({ userId, deviceId }, { kind: 'events', events: appended.map((entry) => entry.event) });
  }
  const byDevice = new Map<string, { device: DeviceAddress; events: Appended['event'][] }>();
  for (const { userId, deviceId, event } of appended) {
    const key = deviceKey({ userId, deviceId });
    const entry = byDevice.get(key);
    if (entry === undefined) byDevice.set(key, { device: { userId, deviceId }, events: [event] });
    else entry.events.push(event);
  }
  return Promise.all([...byDevice.values()].map(({ device, events }) => bus.signalDevice(device, { kind: 'events', events }))).then(
    () => undefined,
  );
}

function sameDevice(a: DeviceAddress, b: DeviceAddress): boolean {
  return a.userId === b.userId && a.deviceId === b.deviceId;
}

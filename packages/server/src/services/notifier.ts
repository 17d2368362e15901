import { deviceKey, type DeviceAddress } from '../domain/device.js';
import type { Appended } from '../domain/events.js';
import type { Bus } from '../ports/bus.js';

/**
 * Tells the nodes that hold the devices about events just committed to their inboxes.
 * Only a hint: the events are durable already, so a lost signal costs latency, never data.
 */
export async function notifyAppended(bus: Bus, appended: Appended[]): Promise<void> {
  const byDevice = new Map<string, { device: DeviceAddress; events: Appended['event'][] }>();
  for (const { userId, deviceId, event } of appended) {
    const key = deviceKey({ userId, deviceId });
    const entry = byDevice.get(key);
    if (entry === undefined) byDevice.set(key, { device: { userId, deviceId }, events: [event] });
    else entry.events.push(event);
  }
  await Promise.all([...byDevice.values()].map(({ device, events }) => bus.signalDevice(device, { kind: 'events', events })));
}

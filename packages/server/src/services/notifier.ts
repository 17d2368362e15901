import type { Appended } from '../domain/events.js';
import type { Bus } from '../ports/bus.js';

/**
 * Tells the nodes that hold the devices about events just committed to their inboxes.
 * Only a hint: the events are durable already, so a lost signal costs latency, never data.
 */
export async function notifyAppended(bus: Bus, appended: Appended[]): Promise<void> {
  const byUser = new Map<string, Appended['event'][]>();
  for (const { userId, event } of appended) {
    const list = byUser.get(userId);
    if (list === undefined) byUser.set(userId, [event]);
    else list.push(event);
  }
  await Promise.all([...byUser].map(([userId, events]) => bus.signalDevice(userId, { kind: 'events', events })));
}

import type { DeviceAddress } from '../domain/device.js';
import type { PresenceService } from '../services/presence-service.js';
import type { Connection } from './connection.js';

/** How taking its device ended for a connection whose token checked out. */
export type DeviceClaim =
  /** The connection holds the device: it may turn ready. */
  | 'taken'
  /** A newer connection of the device holds it, on this node or another: close this one with 4002. */
  | 'newer-holds'
  /** The socket closed while claiming; the device was given back (unless a newer one took it). */
  | 'closed-meanwhile';

/**
 * Takes the device in the bus's directory for `connection`. The directory decides, on one node
 * as across nodes: the connection that held the device before gets a `replaced` signal, and a
 * newer one keeps it (see ports/bus.ts). A socket that closed during the claim must give the
 * device back, or the directory would name a dead socket until its node stops.
 */
export async function claimDevice(presence: PresenceService, device: DeviceAddress, connection: Connection): Promise<DeviceClaim> {
  if (!(await presence.connect(device, connection.id))) return 'newer-holds';
  if (connection.isOpen) return 'taken';
  await presence.disconnect(device, connection.id);
  return 'closed-meanwhile';
}

/** A device of an account: the primary (registered by SMS) or one linked to it. */

/** The SMS-registered device; linked devices get 2, 3, ... and an id is never given twice. */
export const PRIMARY_DEVICE_ID = 1;

/** The name of a device registered by SMS; linked devices name themselves. */
export const PRIMARY_DEVICE_NAME = 'Primary device';

/** Where a device's inbox, token and socket belong. */
export interface DeviceAddress {
  userId: string;
  deviceId: number;
}

/** A device as the account's device list shows it. */
export interface DeviceRecord extends DeviceAddress {
  name: string;
  linkedAt: number;
  /** When its last socket closed (its link time until then). */
  lastSeen: number;
}

/** One string per device, for maps and logs: `<userId>/<deviceId>`. */
export function deviceKey(device: DeviceAddress): string {
  return `${device.userId}/${device.deviceId}`;
}

export function isPrimary(device: DeviceAddress): boolean {
  return device.deviceId === PRIMARY_DEVICE_ID;
}

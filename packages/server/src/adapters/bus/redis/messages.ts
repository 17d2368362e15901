import type { DeviceAddress } from '../../../domain/device.js';
import type { DeviceSignal, PresenceChange } from '../../../ports/bus.js';

/**
 * What travels on the bus's channels, and its parsing. The channels belong to the deployment's
 * nodes, but anything with access to Redis can publish on them, so a message is checked before
 * it reaches a handler.
 */

/** A message on a node's channel: a signal for one of the devices it holds. */
export interface NodeMessage {
  device: DeviceAddress;
  signal: DeviceSignal;
}

const SIGNAL_KINDS = new Set(['events', 'replaced', 'revoked', 'frame']);

/** Parses a node channel message; throws on anything that is not one. */
export function parseNodeMessage(text: string): NodeMessage {
  const value: unknown = JSON.parse(text);
  if (isObject(value) && isObject(value.device) && isObject(value.signal)) {
    const { device, signal } = value;
    const deviceOk = typeof device.userId === 'string' && Number.isSafeInteger(device.deviceId);
    if (deviceOk && typeof signal.kind === 'string' && SIGNAL_KINDS.has(signal.kind)) {
      // The kind is checked; its fields were written by a node of the same deployment.
      return {
        device: { userId: device.userId as string, deviceId: device.deviceId as number },
        signal: signal as unknown as DeviceSignal,
      };
    }
  }
  throw new Error(`not a bus signal message: ${text.slice(0, 200)}`);
}

/** Parses a presence channel message; throws on anything that is not one. */
export function parsePresence(text: string): PresenceChange {
  const value: unknown = JSON.parse(text);
  if (isObject(value) && typeof value.userId === 'string' && typeof value.online === 'boolean') {
    const change: PresenceChange = { userId: value.userId, online: value.online };
    if (typeof value.lastSeen === 'number') change.lastSeen = value.lastSeen;
    return change;
  }
  throw new Error(`not a bus presence message: ${text.slice(0, 200)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

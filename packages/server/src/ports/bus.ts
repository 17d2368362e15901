import type { DeviceAddress } from '../domain/device.js';
import type { DurableEvent } from '../domain/events.js';

/**
 * Bus: who is online where, and delivery of signals to the connection that holds a device.
 *
 * A node keeps its own sockets; the bus's directory knows which connection of which node holds
 * each device (a user's primary and each linked device apart) and carries signals between nodes.
 * The directory is the one record of that, for this node's devices too: the node's
 * SessionRegistry keeps its sessions by connection id only, and each signal is handed over with
 * the connection it is for. Everything the bus carries is a hint or ephemeral: durable events are
 * in the Store first, so a signal that is lost (no holder, a node that died) loses nothing but
 * latency.
 *
 * Guarantees every adapter gives (the bus contract suite in test/support/bus-contract.ts checks them):
 * - Signals to one device from one node arrive in the order they were sent.
 * - A signal reaches the node that holds the device when it is sent, or nobody, and names the
 *   connection the directory named there (a `replaced` signal names the connection it replaces).
 * - `claimDevice` makes this connection of this node the holder; the connection that held the
 *   device before (on another node, or on this one) gets a `replaced` signal. Connection ids
 *   compare as strings in the order the connections were opened, and a claim by a connection
 *   older than the holder is refused: whichever node's claim lands first, the device's newest
 *   connection wins, as the contract's "the second connection replaces the first" says. This is
 *   the only place that rule is applied, on one node as across nodes.
 * - `releaseDevice` removes the entry only while it still names that connection, so a late
 *   release of a replaced connection never hides the new one.
 * - A node that dies stops being named holder within the directory's time-to-live.
 * - Presence changes reach every node, including the one that published them.
 * - Handlers run outside the caller's stack, never inside a call to the bus.
 */
export interface Bus {
  /** Starts receiving; the handlers are called for signals and presence addressed to this node. */
  start(handlers: BusHandlers): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the bus is reachable. */
  ping(): Promise<void>;

  /**
   * Records that this node holds the device's socket on `connectionId`; false (and nothing
   * changed) when a newer connection of the device already holds it, here or on another node.
   */
  claimDevice(device: DeviceAddress, connectionId: string): Promise<boolean>;
  /** Forgets the holder if it is still `connectionId`; true when it was (the device is now offline). */
  releaseDevice(device: DeviceAddress, connectionId: string): Promise<boolean>;
  /** Which of these devices have a socket anywhere. */
  onlineDevices(devices: DeviceAddress[]): Promise<DeviceAddress[]>;

  /** Sends a signal to the node that holds the device, if any. */
  signalDevice(device: DeviceAddress, signal: DeviceSignal): Promise<void>;
  /** Tells every node (this one too) that a user came online or went offline. */
  publishPresence(change: PresenceChange): Promise<void>;
}

export interface BusHandlers {
  /** A signal for the device, held here by `connectionId`. */
  onDeviceSignal(device: DeviceAddress, connectionId: string, signal: DeviceSignal): void;
  onPresence(change: PresenceChange): void;
}

export type DeviceSignal =
  /** New durable events are in the device's inbox (they may be carried to save a read). */
  | { kind: 'events'; events: DurableEvent[] }
  /** Another connection took over the device: close `connectionId` with 4002. */
  | { kind: 'replaced'; connectionId: string }
  /** The token was revoked (the device removed, or the phone registered again): close the connections authenticated by `tokenHash` with 4001. */
  | { kind: 'revoked'; tokenHash: string }
  /** An ephemeral frame to pass on to the device as it is (typing). */
  | { kind: 'frame'; frame: Record<string, unknown> };

/** A user's presence: online while any of its devices has a socket. */
export interface PresenceChange {
  userId: string;
  online: boolean;
  /** Set when the user went offline. */
  lastSeen?: number;
}

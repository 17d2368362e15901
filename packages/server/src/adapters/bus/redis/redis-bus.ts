import calculateSlot from 'cluster-key-slot';
import { deviceKey, type DeviceAddress } from '../../../domain/device.js';
import type { Bus, BusHandlers, DeviceSignal, PresenceChange } from '../../../ports/bus.js';
import { withBusCommands, type BusCommands } from './bus-scripts.js';
import { formatHolder, parseHolder, type Holder } from './holder.js';
import { parseNodeMessage, parsePresence, type NodeMessage } from './messages.js';
import { connectRedis, isClusterUrl, type RedisConnection } from '../../redis-connection.js';

export interface RedisBusOptions {
  /** `redis://...`, or `redis+cluster://host:port,...` for a Redis Cluster. */
  url: string;
  /** This node's id, unique in the deployment; it may not contain `|`. */
  nodeId: string;
  /** Prefix of every key and channel of the bus (default `courier:`); no braces, which would steal the keys' hash tags. */
  keyPrefix?: string;
  /** How long a directory entry outlives its node's last refresh (default 15 s). */
  directoryTtlMs?: number;
  /**
   * Errors nobody awaits: connection errors, failed refreshes, bad channel messages, handlers
   * that threw. Defaults to `process.emitWarning`.
   */
  onError?: (err: Error) => void;
}

const DEFAULT_TTL_MS = 15_000;
const PING_TIMEOUT_MS = 2_000;
/** Devices per refresh or cleanup script call: bounds how long one call holds Redis. */
const CHUNK = 500;

/** The directory entry of a user's device; `{<userId>}` is the Redis Cluster hash tag (see RedisBus): one user's devices share a slot. */
export function directoryKey(keyPrefix: string, device: DeviceAddress): string {
  return `${keyPrefix}dev:{${device.userId}}/${device.deviceId}`;
}

/**
 * The bus of a cluster, in Redis.
 *
 * Directory: `<prefix>dev:{<userId>}/<deviceId>` = `<nodeId>|<connectionId>`, with a TTL that each node
 * extends for its devices every TTL/3, so the entries of a node that died expire by themselves.
 * The braces are a Redis Cluster hash tag: every key of one user lives in one slot, so a script
 * about one user runs on one master. A script over many users (refresh, release) is sent as one
 * call per CHUNK devices in a single Redis, and in a cluster as one call per slot.
 * Signals: each node subscribes to `<prefix>node:<nodeId>`; a signal is published to the holder's
 * channel by a script that reads the holder in the same step. Signals to devices of this node skip
 * pub/sub; both paths go through the one command connection, whose replies come in order, so the
 * signals of this node to one device keep their order whichever way they travel.
 * Presence: one channel, `<prefix>presence`, that every node (the publisher too) subscribes to.
 * Every publish is sent by a script with a routing key (the user's entry, or the presence
 * channel's name), so that in a cluster the publishes that must keep their order leave one master.
 */
export class RedisBus implements Bus {
  private readonly redis: RedisConnection & BusCommands;
  private subscriber: RedisConnection | undefined;
  private readonly clustered: boolean;
  private readonly url: string;
  private readonly nodeId: string;
  private readonly keyPrefix: string;
  private readonly ttlMs: number;
  private readonly onError: (err: Error) => void;
  private readonly nodeChannelPrefix: string;
  private readonly nodeChannel: string;
  private readonly presenceChannel: string;
  /**
   * deviceKey → the device and the connection of every device whose socket this node holds: the
   * entries the refresh keeps alive, and the connection a signal from another node is for.
   */
  private readonly held = new Map<string, HeldDevice>();
  private handlers: BusHandlers | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing = false;
  private closed = false;

  constructor(options: RedisBusOptions) {
    if (options.nodeId === '' || options.nodeId.includes('|')) {
      throw new Error(`RedisBus: invalid nodeId ${JSON.stringify(options.nodeId)} (non-empty, without "|")`);
    }
    if (/[{}]/.test(options.keyPrefix ?? '')) {
      throw new Error(`RedisBus: invalid keyPrefix ${JSON.stringify(options.keyPrefix)} (without "{" or "}")`);
    }
    this.clustered = isClusterUrl(options.url);
    this.url = options.url;
    this.nodeId = options.nodeId;
    this.keyPrefix = options.keyPrefix ?? 'courier:';
    this.ttlMs = options.directoryTtlMs ?? DEFAULT_TTL_MS;
    this.onError = options.onError ?? ((err: Error) => process.emitWarning(err));
    this.nodeChannelPrefix = `${this.keyPrefix}node:`;
    this.nodeChannel = this.nodeChannelPrefix + this.nodeId;
    this.presenceChannel = `${this.keyPrefix}presence`;
    this.redis = withBusCommands(connectRedis(this.url, this.onError));
  }

  async start(handlers: BusHandlers): Promise<void> {
    if (this.closed) throw new Error('RedisBus is closed');
    if (this.subscriber !== undefined) throw new Error('RedisBus already started');
    this.handlers = handlers;
    // A connection in subscriber mode can run nothing else, hence a second one.
    const subscriber = connectRedis(this.url, this.onError);
    this.subscriber = subscriber;
    subscriber.on('message', (channel: string, text: string) => this.receive(channel, text));
    await subscriber.subscribe(this.nodeChannel, this.presenceChannel);
    this.refreshTimer = setInterval(() => this.refresh(), Math.max(1, Math.floor(this.ttlMs / 3)));
    // The sockets keep the process alive while the bus is open; the timer alone should not.
    this.refreshTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.stop();
    const entries = [...this.held.values()];
    this.held.clear();
    try {
      await Promise.all(this.batches(entries, ({ device }) => device).map((batch) => this.release(batch)));
    } finally {
      await Promise.all([this.subscriber?.quit(), this.redis.quit()]);
    }
  }

  /**
   * Drops both connections at once and leaves this node's directory entries to expire, as a
   * crashed node's would. For failover tests, and for a process that must stop without waiting
   * for Redis.
   */
  abandon(): void {
    if (this.closed) return;
    this.stop();
    this.held.clear();
    this.subscriber?.disconnect();
    this.redis.disconnect();
  }

  async ping(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Redis did not answer PING within ${PING_TIMEOUT_MS} ms`)),
        PING_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.redis.ping(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async claimDevice(device: DeviceAddress, connectionId: string): Promise<boolean> {
    const heldKey = deviceKey(device);
    const localPrevious = this.held.get(heldKey)?.connectionId;
    // A newer connection held here already: nothing to ask Redis.
    if (localPrevious !== undefined && localPrevious > connectionId) return false;
    this.held.set(heldKey, { device, connectionId });
    const mine = formatHolder(this.nodeId, connectionId);
    const [taken, previousValue] = await this.redis.courierBusClaim(this.key(device), mine, this.ttlMs, connectionId);
    if (taken !== 1) {
      if (this.held.get(heldKey)?.connectionId === connectionId) {
        if (localPrevious === undefined) this.held.delete(heldKey);
        else this.held.set(heldKey, { device, connectionId: localPrevious });
      }
      return false;
    }
    const previous = previousValue === undefined || previousValue === null ? undefined : parseHolder(previousValue);
    if (previous !== undefined && previousValue !== mine) await this.replace(device, previous);
    // The directory may have forgotten an older socket of this node (an entry lost with a Redis
    // restart, say); that socket must still be told it was replaced.
    if (
      localPrevious !== undefined &&
      localPrevious !== connectionId &&
      !(previous?.nodeId === this.nodeId && previous.connectionId === localPrevious)
    ) {
      this.deliverLocal(device, localPrevious, { kind: 'replaced', connectionId: localPrevious });
    }
    return true;
  }

  async releaseDevice(device: DeviceAddress, connectionId: string): Promise<boolean> {
    // Forgotten before the script is sent, so no later refresh can write the entry again.
    const heldKey = deviceKey(device);
    if (this.held.get(heldKey)?.connectionId === connectionId) this.held.delete(heldKey);
    const deleted = await this.redis.courierBusRelease(1, this.key(device), formatHolder(this.nodeId, connectionId));
    return deleted === 1;
  }

  async onlineDevices(devices: DeviceAddress[]): Promise<DeviceAddress[]> {
    if (devices.length === 0) return [];
    const online = new Set<DeviceAddress>();
    await Promise.all(
      this.batches(devices, (device) => device).map(async (batch) => {
        const holders = await this.redis.mget(batch.map((device) => this.key(device)));
        batch.forEach((device, i) => {
          if (holders[i] != null) online.add(device);
        });
      }),
    );
    return devices.filter((device) => online.has(device));
  }

  async signalDevice(device: DeviceAddress, signal: DeviceSignal): Promise<void> {
    const message: NodeMessage = { device, signal };
    const holder = await this.redis.courierBusSignal(
      this.key(device),
      this.nodeId,
      this.nodeChannelPrefix,
      JSON.stringify(message),
    );
    if (holder === null) return;
    const named = parseHolder(holder);
    if (named?.nodeId === this.nodeId) this.deliverLocal(device, named.connectionId, signal);
  }

  async publishPresence(change: PresenceChange): Promise<void> {
    await this.redis.courierBusPublish(this.presenceChannel, this.presenceChannel, JSON.stringify(change));
  }

  private key(device: DeviceAddress): string {
    return directoryKey(this.keyPrefix, device);
  }

  /**
   * The items split into script calls of at most CHUNK keys. In a cluster one call's keys must
   * share a slot, so the items are grouped by the slot of their key first (a node's devices
   * spread over all 16,384 slots, a few per slot).
   */
  private batches<T>(items: T[], deviceOf: (item: T) => DeviceAddress): T[][] {
    const groups = new Map<number, T[]>();
    for (const item of items) {
      // One user's devices share a hash tag, so a slot.
      const slot = this.clustered ? calculateSlot(this.key(deviceOf(item))) : 0;
      const group = groups.get(slot);
      if (group === undefined) groups.set(slot, [item]);
      else group.push(item);
    }
    const out: T[][] = [];
    for (const group of groups.values()) {
      for (let i = 0; i < group.length; i += CHUNK) out.push(group.slice(i, i + CHUNK));
    }
    return out;
  }

  private stop(): void {
    this.closed = true;
    clearInterval(this.refreshTimer);
    this.handlers = undefined;
  }

  /** Tells the holder a device was taken from it that its connection is replaced. */
  private async replace(device: DeviceAddress, previous: Holder): Promise<void> {
    const signal: DeviceSignal = { kind: 'replaced', connectionId: previous.connectionId };
    if (previous.nodeId === this.nodeId) {
      this.deliverLocal(device, previous.connectionId, signal);
      return;
    }
    const message: NodeMessage = { device, signal };
    await this.redis.courierBusPublish(this.key(device), this.nodeChannelPrefix + previous.nodeId, JSON.stringify(message));
  }

  private receive(channel: string, text: string): void {
    try {
      if (channel === this.presenceChannel) {
        const change = parsePresence(text);
        this.handlers?.onPresence(change);
      } else if (channel === this.nodeChannel) {
        const { device, signal } = parseNodeMessage(text);
        const heldKey = deviceKey(device);
        const holder = this.held.get(heldKey)?.connectionId;
        if (signal.kind === 'replaced') {
          if (holder === signal.connectionId) this.held.delete(heldKey);
          this.handlers?.onDeviceSignal(device, signal.connectionId, signal);
        } else if (holder !== undefined) {
          // Sent while this node held the device; a device released since has no one to tell.
          this.handlers?.onDeviceSignal(device, holder, signal);
        }
      }
    } catch (err) {
      this.report(err);
    }
  }

  private deliverLocal(device: DeviceAddress, connectionId: string, signal: DeviceSignal): void {
    try {
      this.handlers?.onDeviceSignal(device, connectionId, signal);
    } catch (err) {
      this.report(err);
    }
  }

  private refresh(): void {
    // A refresh slower than the interval must not pile up more of them behind it.
    if (this.refreshing || this.held.size === 0) return;
    this.refreshing = true;
    const entries = [...this.held.values()];
    Promise.all(this.batches(entries, ({ device }) => device).map((batch) => this.refreshChunk(batch)))
      .catch((err: unknown) => this.report(err))
      .finally(() => {
        this.refreshing = false;
      });
  }

  private async refreshChunk(chunk: HeldDevice[]): Promise<void> {
    const keys = chunk.map(({ device }) => this.key(device));
    const holders = chunk.map(({ connectionId }) => formatHolder(this.nodeId, connectionId));
    const taken = await this.redis.courierBusRefresh(keys.length, ...keys, this.ttlMs, ...holders);
    for (const position of taken) {
      const entry = chunk[position - 1];
      if (entry === undefined) continue;
      const { device, connectionId } = entry;
      const heldKey = deviceKey(device);
      // Released, re-claimed or told of the takeover while the script ran: nothing to tell.
      if (this.held.get(heldKey)?.connectionId !== connectionId) continue;
      this.held.delete(heldKey);
      this.deliverLocal(device, connectionId, { kind: 'replaced', connectionId });
    }
  }

  private async release(chunk: HeldDevice[]): Promise<void> {
    const keys = chunk.map(({ device }) => this.key(device));
    const holders = chunk.map(({ connectionId }) => formatHolder(this.nodeId, connectionId));
    await this.redis.courierBusRelease(keys.length, ...keys, ...holders);
  }

  private report(err: unknown): void {
    this.onError(err instanceof Error ? err : new Error(String(err)));
  }
}

interface HeldDevice {
  device: DeviceAddress;
  connectionId: string;
}

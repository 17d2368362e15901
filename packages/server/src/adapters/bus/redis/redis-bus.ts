import calculateSlot from 'cluster-key-slot';
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

/** The directory entry of a user's device; `{...}` is the Redis Cluster hash tag (see RedisBus). */
export function directoryKey(keyPrefix: string, userId: string): string {
  return `${keyPrefix}dev:{${userId}}`;
}

/**
 * The bus of a cluster, in Redis.
 *
 * Directory: `<prefix>dev:{<userId>}` = `<nodeId>|<connectionId>`, with a TTL that each node
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
  /** userId → connectionId of every device whose socket this node holds. */
  private readonly held = new Map<string, string>();
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
    const entries = [...this.held];
    this.held.clear();
    try {
      await Promise.all(this.batches(entries, ([userId]) => userId).map((batch) => this.release(batch)));
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

  async claimDevice(userId: string, connectionId: string): Promise<boolean> {
    const localPrevious = this.held.get(userId);
    // A newer connection held here already: nothing to ask Redis.
    if (localPrevious !== undefined && localPrevious > connectionId) return false;
    this.held.set(userId, connectionId);
    const mine = formatHolder(this.nodeId, connectionId);
    const [taken, previousValue] = await this.redis.courierBusClaim(this.key(userId), mine, this.ttlMs, connectionId);
    if (taken !== 1) {
      if (this.held.get(userId) === connectionId) {
        if (localPrevious === undefined) this.held.delete(userId);
        else this.held.set(userId, localPrevious);
      }
      return false;
    }
    const previous = previousValue === undefined || previousValue === null ? undefined : parseHolder(previousValue);
    if (previous !== undefined && previousValue !== mine) await this.replace(userId, previous);
    // The directory may have forgotten an older socket of this node (an entry lost with a Redis
    // restart, say); that socket must still be told it was replaced.
    if (
      localPrevious !== undefined &&
      localPrevious !== connectionId &&
      !(previous?.nodeId === this.nodeId && previous.connectionId === localPrevious)
    ) {
      this.deliverLocal(userId, { kind: 'replaced', connectionId: localPrevious });
    }
    return true;
  }

  async releaseDevice(userId: string, connectionId: string): Promise<boolean> {
    // Forgotten before the script is sent, so no later refresh can write the entry again.
    if (this.held.get(userId) === connectionId) this.held.delete(userId);
    const deleted = await this.redis.courierBusRelease(
      1,
      this.key(userId),
      formatHolder(this.nodeId, connectionId),
    );
    return deleted === 1;
  }

  async onlineUsers(userIds: string[]): Promise<Set<string>> {
    const unique = [...new Set(userIds)];
    if (unique.length === 0) return new Set();
    const online = new Set<string>();
    await Promise.all(
      this.batches(unique, (userId) => userId).map(async (batch) => {
        const holders = await this.redis.mget(batch.map((userId) => this.key(userId)));
        batch.forEach((userId, i) => {
          if (holders[i] != null) online.add(userId);
        });
      }),
    );
    return online;
  }

  async signalDevice(userId: string, signal: DeviceSignal): Promise<void> {
    const message: NodeMessage = { userId, signal };
    const holder = await this.redis.courierBusSignal(
      this.key(userId),
      this.nodeId,
      this.nodeChannelPrefix,
      JSON.stringify(message),
    );
    if (holder !== null && parseHolder(holder)?.nodeId === this.nodeId) this.deliverLocal(userId, signal);
  }

  async publishPresence(change: PresenceChange): Promise<void> {
    await this.redis.courierBusPublish(this.presenceChannel, this.presenceChannel, JSON.stringify(change));
  }

  private key(userId: string): string {
    return directoryKey(this.keyPrefix, userId);
  }

  /**
   * The items split into script calls of at most CHUNK keys. In a cluster one call's keys must
   * share a slot, so the items are grouped by the slot of their key first (a node's devices
   * spread over all 16,384 slots, a few per slot).
   */
  private batches<T>(items: T[], userOf: (item: T) => string): T[][] {
    const groups = new Map<number, T[]>();
    for (const item of items) {
      const slot = this.clustered ? calculateSlot(this.key(userOf(item))) : 0;
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
  private async replace(userId: string, previous: Holder): Promise<void> {
    const signal: DeviceSignal = { kind: 'replaced', connectionId: previous.connectionId };
    if (previous.nodeId === this.nodeId) {
      this.deliverLocal(userId, signal);
      return;
    }
    const message: NodeMessage = { userId, signal };
    await this.redis.courierBusPublish(this.key(userId), this.nodeChannelPrefix + previous.nodeId, JSON.stringify(message));
  }

  private receive(channel: string, text: string): void {
    try {
      if (channel === this.presenceChannel) {
        const change = parsePresence(text);
        this.handlers?.onPresence(change);
      } else if (channel === this.nodeChannel) {
        const { userId, signal } = parseNodeMessage(text);
        if (signal.kind === 'replaced' && this.held.get(userId) === signal.connectionId) {
          this.held.delete(userId);
        }
        this.handlers?.onDeviceSignal(userId, signal);
      }
    } catch (err) {
      this.report(err);
    }
  }

  private deliverLocal(userId: string, signal: DeviceSignal): void {
    try {
      this.handlers?.onDeviceSignal(userId, signal);
    } catch (err) {
      this.report(err);
    }
  }

  private refresh(): void {
    // A refresh slower than the interval must not pile up more of them behind it.
    if (this.refreshing || this.held.size === 0) return;
    this.refreshing = true;
    const entries = [...this.held];
    Promise.all(this.batches(entries, ([userId]) => userId).map((batch) => this.refreshChunk(batch)))
      .catch((err: unknown) => this.report(err))
      .finally(() => {
        this.refreshing = false;
      });
  }

  private async refreshChunk(chunk: [string, string][]): Promise<void> {
    const keys = chunk.map(([userId]) => this.key(userId));
    const holders = chunk.map(([, connectionId]) => formatHolder(this.nodeId, connectionId));
    const taken = await this.redis.courierBusRefresh(keys.length, ...keys, this.ttlMs, ...holders);
    for (const position of taken) {
      const entry = chunk[position - 1];
      if (entry === undefined) continue;
      const [userId, connectionId] = entry;
      // Released, re-claimed or told of the takeover while the script ran: nothing to tell.
      if (this.held.get(userId) !== connectionId) continue;
      this.held.delete(userId);
      this.deliverLocal(userId, { kind: 'replaced', connectionId });
    }
  }

  private async release(chunk: [string, string][]): Promise<void> {
    const keys = chunk.map(([userId]) => this.key(userId));
    const holders = chunk.map(([, connectionId]) => formatHolder(this.nodeId, connectionId));
    await this.redis.courierBusRelease(keys.length, ...keys, ...holders);
  }

  private report(err: unknown): void {
    this.onError(err instanceof Error ? err : new Error(String(err)));
  }
}

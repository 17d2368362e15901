/** What an app may tune on a `CourierClient`, with the defaults every collaborator starts from. */
import type { BackoffOptions } from './reconnect-backoff.js';
import type { ClientStorage } from './storage.js';
import type { WebSocketConstructor } from './websocket.js';

export interface CourierClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:8080` (`ws://` works too). */
  url: string;
  /** The device token from registration; needed to connect and for authenticated HTTP calls. */
  token?: string;
  /** The WebSocket constructor (default `globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
  /** Keeps the highest `seq` handed to the app across restarts (default: in memory). */
  storage?: ClientStorage;
  /**
   * `false`: look at the inbox without consuming it: handlers run but nothing is acked (so the
   * events stay on the server for another client of this device, e.g. a CLI `send` beside `listen`).
   */
  ack?: boolean;
  backoff?: BackoffOptions;
  /** Ping after this much silence (ms, default 20 000); reconnect after twice as much. 0: never. */
  heartbeatMs?: number;
  /** Give up a connection attempt that has not reached `ready` after this long (ms, default 15 000). */
  readyTimeoutMs?: number;
  /** Quiet time before a batch of acks is written (ms, default 10). */
  ackDelayMs?: number;
  /** Ack at least every this many events during a long burst (default 100). */
  ackEvery?: number;
  /** Most sends on the wire at once, awaiting their `sent` (default 64; shrinks while rate limited). */
  maxInFlight?: number;
  /**
   * The largest send frame to write (bytes); larger sends are refused locally, with a hint to send
   * the content as media. Default: what the server's `ready` says (`maxFrameBytes`), and 64 KiB
   * (the contract's default) before the first `ready` or from a server that does not say.
   */
  maxFrameBytes?: number;
}

/** The options with every documented default filled in. */
export type ResolvedOptions = Required<Omit<CourierClientOptions, 'token' | 'WebSocket' | 'storage' | 'backoff' | 'maxFrameBytes'>> &
  Pick<CourierClientOptions, 'token' | 'WebSocket' | 'storage' | 'backoff' | 'maxFrameBytes'>;

/** The contract's default frame limit, for a server that does not advertise its own. */
export const defaultMaxFrameBytes = 64 * 1024;

export function withDefaults(options: CourierClientOptions): ResolvedOptions {
  return {
    ...options,
    ack: options.ack ?? true,
    heartbeatMs: options.heartbeatMs ?? 20_000,
    readyTimeoutMs: options.readyTimeoutMs ?? 15_000,
    ackDelayMs: options.ackDelayMs ?? 10,
    ackEvery: options.ackEvery ?? 100,
    maxInFlight: options.maxInFlight ?? 64,
  };
}

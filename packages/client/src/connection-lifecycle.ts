/**
 * The client's connection over time: one `SocketSession` after another. It reconnects by itself
 * (exponential backoff with jitter) after any close except an explicit `close()`, 4001 (token
 * revoked or refused: `revoked`) and 4002 (another connection of this device took over:
 * `replaced`; fighting back would make the two evict each other forever).
 *
 * What the rest of the client does at each step (start the inbox on `ready`, resend on a new
 * connection, reject the sends when stopped) it does through `ConnectionHooks`.
 */
import type { ClientEventBus } from './client-event-bus.js';
import type { CloseInfo, DisconnectInfo } from './client-events.js';
import { CourierSocketError } from './errors.js';
import type { ReadyFrame, ServerFrame } from './frames.js';
import type { ReconnectBackoff } from './reconnect-backoff.js';
import { socketUrl } from './server-url.js';
import { SocketSession, type SessionTiming } from './socket-session.js';
import { platformWebSocket, type WebSocketConstructor } from './websocket.js';

export type ClientState = 'idle' | 'connecting' | 'authenticating' | 'ready' | 'waiting' | 'closed' | 'revoked' | 'replaced';

export interface ConnectionOptions extends SessionTiming {
  url: string;
  /** Read at each connection attempt: the app may change the token in between. */
  token(): string | undefined;
  WebSocket: WebSocketConstructor | undefined;
  backoff: ReconnectBackoff;
  events: ClientEventBus;
}

export interface ConnectionHooks {
  /** A frame of a session, other than its handshake's and its pings'. */
  frame(session: SocketSession, frame: ServerFrame): void;
  /** A session is ready: what must happen before the app hears `ready`. */
  ready(session: SocketSession, frame: ReadyFrame): void;
  /** A session is gone: its unacked events come again on the next one, its sends go again. */
  detached(session: SocketSession): void;
  /** The server closed the socket for flooding (1008). */
  flooded(): void;
  /** No further connection will come (until the next `connect()`): fail what waits for one. */
  stopped(code: string, message: string): void;
  /** A graceful close, before the socket closes: ack what the app has handled. */
  closing(session: SocketSession): Promise<void>;
  /** A graceful close, after the socket closed. */
  closed(): Promise<void>;
}

interface ConnectWaiter {
  resolve(ready: ReadyFrame): void;
  reject(err: Error): void;
}

/** A connection that stayed ready this long (ms) resets the reconnection backoff when it ends. */
const stableMs = 10_000;

export class ConnectionLifecycle {
  #state: ClientState = 'idle';
  #session: SocketSession | undefined;
  #userId: string | undefined;
  #deviceId: number | undefined;
  #lastReady: ReadyFrame | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #connectWaiters: ConnectWaiter[] = [];
  /** Set by `close()` and by a terminal close; cleared by the next `connect()`. */
  #stopping = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly hooks: ConnectionHooks,
  ) {}

  get state(): ClientState {
    return this.#state;
  }

  /** The account's userId, known once a connection was ready. */
  get userId(): string | undefined {
    return this.#userId;
  }

  get deviceId(): number | undefined {
    return this.#deviceId;
  }

  /** The current session, when the server has accepted it: frames written now reach the server. */
  get readySession(): SocketSession | undefined {
    return this.#session?.ready === true ? this.#session : undefined;
  }

  /**
   * Opens a session (retrying with backoff while the server is unreachable) and resolves on the
   * first `ready`. Rejects when the token is refused (`revoked`), the device is `replaced`, or
   * `close()` is called first.
   */
  connect(): Promise<ReadyFrame> {
    if (this.#state === 'ready' && this.#lastReady !== undefined) return Promise.resolve(this.#lastReady);
    const ready = new Promise<ReadyFrame>((resolve, reject) => this.#connectWaiters.push({ resolve, reject }));
    if (this.#session === undefined && this.#reconnectTimer === undefined) {
      this.#stopping = false;
      try {
        this.#open();
      } catch (err) {
        this.#state = 'closed';
        this.#rejectConnect(err instanceof Error ? err : new Error(String(err)));
      }
    }
    return ready;
  }

  /** Stops for good (until the next `connect()`), letting the hooks finish the session gracefully. */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#cancelReconnect();
    const session = this.#session;
    this.#rejectConnect(new CourierSocketError('closed', 'the client was closed'));
    this.hooks.stopped('closed', 'the client was closed before the server answered');
    if (session !== undefined) {
      await this.hooks.closing(session);
      this.#detach(session);
      await session.close(1000, 'client closed');
    }
    await this.hooks.closed();
    const wasOpen = ['connecting', 'authenticating', 'ready', 'waiting'].includes(this.#state);
    this.#state = 'closed';
    if (wasOpen) this.options.events.emit('disconnected', { code: 1000, reason: 'client closed', willReconnect: false });
  }

  /** Drops the current session as a network failure would, and reconnects after the usual backoff. */
  reconnect(): void {
    const session = this.#session;
    if (session !== undefined) this.recycle(session, 'reconnect requested');
  }

  /** Gives up a session from this side (no ready, silent server, failed handler) and reconnects. */
  recycle(session: SocketSession, reason: string): void {
    if (this.#session !== session) return;
    void session.close(4000, reason);
    this.#drop(session, 4000, reason);
  }

  #open(): void {
    const token = this.options.token();
    if (token === undefined) throw new TypeError('no token: register first (CourierClient.register)');
    const WebSocketCtor = this.options.WebSocket ?? platformWebSocket();
    if (WebSocketCtor === undefined) {
      throw new TypeError("no WebSocket here: pass options.WebSocket (in Node 20, import from 'courier-chat-client/node')");
    }
    this.#state = 'connecting';
    const ws = new WebSocketCtor(socketUrl(this.options.url));
    const events = this.options.events;
    const session: SocketSession = new SocketSession(ws, token, this.options, {
      authenticating: () => {
        this.#state = 'authenticating';
      },
      received: (frame) => events.emit('frame', frame),
      ready: (frame) => this.#onReady(session, frame),
      frame: (frame) => this.hooks.frame(session, frame),
      problem: (err) => events.report(err),
      stale: (reason) => this.recycle(session, reason),
      closed: (code, reason) => this.#drop(session, code, reason),
    });
    this.#session = session;
  }

  #onReady(session: SocketSession, frame: ReadyFrame): void {
    this.#state = 'ready';
    this.#userId = frame.userId;
    this.#deviceId = frame.deviceId;
    this.#lastReady = frame;
    this.hooks.ready(session, frame);
    this.options.events.emit('ready', frame);
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.resolve(frame);
  }

  #detach(session: SocketSession): void {
    if (this.#session === session) this.#session = undefined;
    this.hooks.detached(session);
    session.dispose();
  }

  #drop(session: SocketSession, code: number, reason: string): void {
    this.#detach(session);
    if (this.#stopping) return;
    if (code === 4001) return this.#terminate('revoked', { code, reason });
    if (code === 4002) return this.#terminate('replaced', { code, reason });
    // Only a connection that stayed up a while proves the trouble is over; resetting on `ready`
    // would let a server that accepts and then drops at once (or a failing handler) cause a storm.
    if (session.readyAt !== undefined && Date.now() - session.readyAt >= stableMs) this.options.backoff.reset();
    // 1008: closed for flooding; the backlog must go again more slowly.
    if (code === 1008) this.hooks.flooded();
    const delayMs = this.options.backoff.next();
    this.#state = 'waiting';
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#stopping) return;
      try {
        this.#open();
      } catch (err) {
        this.options.events.report(err);
        this.#terminate('closed', { code: 1006, reason: err instanceof Error ? err.message : String(err) });
      }
    }, delayMs);
    const info: DisconnectInfo = { code, reason, willReconnect: true, delayMs };
    if (session.error !== undefined) info.error = session.error;
    this.options.events.emit('disconnected', info);
  }

  /** Stops reconnecting: the token is no longer valid, another connection of this device won, or no socket can be made. */
  #terminate(state: 'revoked' | 'replaced' | 'closed', info: CloseInfo): void {
    this.#state = state;
    this.#stopping = true;
    this.#cancelReconnect();
    const message =
      state === 'revoked'
        ? `the server refused or revoked this device's token (close ${info.code})`
        : state === 'replaced'
          ? 'another connection of this device replaced this one'
          : `stopped: ${info.reason}`;
    this.hooks.stopped(state, message);
    this.#rejectConnect(new CourierSocketError(state, message));
    if (state !== 'closed') this.options.events.emit(state, info);
    this.options.events.emit('disconnected', { ...info, willReconnect: false });
  }

  #rejectConnect(err: Error): void {
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.reject(err);
  }

  #cancelReconnect(): void {
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
  }
}

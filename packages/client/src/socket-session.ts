/**
 * One WebSocket from its opening to its close: the auth handshake (the token goes in the first
 * frame; `ready` must come within `readyTimeoutMs`), the heartbeat, pings and the frames written
 * on it. A session never reconnects; `ConnectionLifecycle` replaces a session that ended.
 * Once disposed, nothing the socket still reports reaches the hooks.
 */
import { CourierSocketError } from './errors.js';
import { isDurable, parseServerFrame, type ClientFrame, type ReadyFrame, type ServerFrame } from './frames.js';
import { Heartbeat } from './heartbeat.js';
import { OPEN, type WebSocketLike } from './websocket.js';

export interface SocketSessionHooks {
  /** The socket opened and the auth frame is going out. */
  authenticating(): void;
  /** Every well-formed frame, before anything acts on it. */
  received(frame: ServerFrame): void;
  /** The first `ready`: the server accepted the token. */
  ready(frame: ReadyFrame): void;
  /** Every other frame, except a `pong`, which answers the session's own pings. */
  frame(frame: ServerFrame): void;
  /** A malformed frame or a protocol breach the session ignores. */
  problem(err: Error): void;
  /** No `ready` in time, or the server stopped answering: the session should be given up. */
  stale(reason: string): void;
  /** The socket closed without this side asking. */
  closed(code: number, reason: string): void;
}

export interface SessionTiming {
  readyTimeoutMs: number;
  heartbeatMs: number;
}

interface PendingPing {
  at: number;
  resolve(rttMs: number): void;
  reject(err: Error): void;
}

export class SocketSession {
  readonly #ws: WebSocketLike;
  readonly #hooks: SocketSessionHooks;
  readonly #heartbeat: Heartbeat;
  readonly #readyTimer: ReturnType<typeof setTimeout>;
  /** Pongs answer pings in order, so the oldest ping takes the next pong. */
  #pings: PendingPing[] = [];
  #ready = false;
  #readyAt: number | undefined;
  #error: string | undefined;
  #disposed = false;

  constructor(ws: WebSocketLike, token: string, timing: SessionTiming, hooks: SocketSessionHooks) {
    this.#ws = ws;
    this.#hooks = hooks;
    this.#heartbeat = new Heartbeat(
      timing.heartbeatMs,
      // Nobody awaits the heartbeat's ping; it only needs its place in the order of pongs.
      (at) => this.#writePing({ at, resolve: noop, reject: noop }),
      () => hooks.stale('the server stopped answering'),
    );
    this.#readyTimer = setTimeout(() => hooks.stale('no ready in time'), timing.readyTimeoutMs);
    ws.onopen = () => {
      if (this.#disposed) return;
      hooks.authenticating();
      this.write({ type: 'auth', token });
    };
    ws.onmessage = (event: { data: unknown }) => {
      if (this.#disposed) return;
      this.#onMessage(event.data);
    };
    ws.onerror = (event: { message?: unknown; error?: unknown }) => {
      // The close event follows and decides what to do; keep the cause for the `disconnected` event.
      this.#error = typeof event.message === 'string' ? event.message : event.error instanceof Error ? event.error.message : 'socket error';
    };
    ws.onclose = (event: { code?: number; reason?: string }) => {
      if (this.#disposed) return;
      hooks.closed(event.code ?? 1006, event.reason ?? '');
    };
  }

  /** True once the server accepted the token. */
  get ready(): boolean {
    return this.#ready;
  }

  /** When `ready` came. */
  get readyAt(): number | undefined {
    return this.#readyAt;
  }

  /** What the socket reported as its error, if anything. */
  get error(): string | undefined {
    return this.#error;
  }

  /** Returns false when the socket is not open (the frame is then dropped). */
  write(frame: ClientFrame): boolean {
    if (this.#ws.readyState !== OPEN) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /** Resolves with the round-trip time in ms. */
  ping(): Promise<number> {
    return new Promise((resolve, reject) => this.#writePing({ at: Date.now(), resolve, reject }));
  }

  /** Stops the timers and forgets the socket's further events; pings in flight are rejected. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#readyTimer);
    this.#heartbeat.stop();
    const pings = this.#pings;
    this.#pings = [];
    for (const ping of pings) ping.reject(new CourierSocketError('disconnected', 'the connection closed before the pong'));
  }

  /** Closes the socket and resolves once it is closed (or after a second: the peer may be gone). */
  close(code: number, reason: string): Promise<void> {
    const ws = this.#ws;
    return new Promise((resolve) => {
      if (ws.readyState === 3) return resolve();
      const timer = setTimeout(resolve, 1000);
      ws.onclose = () => {
        clearTimeout(timer);
        resolve();
      };
      try {
        ws.close(code, reason);
      } catch (err) {
        // Only an invalid code or reason throws, and ours are valid; the socket is being dropped anyway.
        clearTimeout(timer);
        resolve();
        console.error('courier: closing the socket failed', err);
      }
    });
  }

  #onMessage(data: unknown): void {
    this.#heartbeat.frameArrived();
    const frame = typeof data === 'string' ? parseServerFrame(data) : undefined;
    if (frame === undefined) {
      this.#hooks.problem(new CourierSocketError('bad_frame', `the server sent a frame that is not a JSON object with a type: ${String(data).slice(0, 200)}`));
      return;
    }
    this.#hooks.received(frame);
    // A frame with a `seq` is a durable event whatever its type: it must reach the inbox to be acked.
    if (isDurable(frame)) this.#hooks.frame(frame);
    else if (frame.type === 'ready') this.#onReady(frame as ReadyFrame);
    else if (frame.type === 'pong') this.#onPong();
    else this.#hooks.frame(frame);
  }

  #onReady(frame: ReadyFrame): void {
    if (this.#ready) return this.#hooks.problem(new CourierSocketError('protocol', 'a second ready on one connection; ignored'));
    clearTimeout(this.#readyTimer);
    this.#ready = true;
    this.#readyAt = Date.now();
    this.#heartbeat.start();
    this.#hooks.ready(frame);
  }

  #onPong(): void {
    const ping = this.#pings.shift();
    ping?.resolve(Date.now() - ping.at);
  }

  #writePing(ping: PendingPing): void {
    this.#pings.push(ping);
    this.write({ type: 'ping' });
  }
}

function noop(): void {}

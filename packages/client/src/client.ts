/**
 * CourierClient: one device's connection to a Courier server, written from the wire contract only.
 *
 * - Authenticates with the first frame; `connect()` resolves on `ready`.
 * - Reconnects by itself (exponential backoff with jitter) after any close except an explicit
 *   `close()`, 4001 (token revoked or refused: `revoked`) and 4002 (another connection of this
 *   device took over: `replaced`; fighting back would make the two evict each other forever).
 * - `send` resolves with the server's `sent` answer; unanswered sends are written again, with the
 *   same client id, after a reconnection.
 * - Durable events reach the app's handlers in `seq` order, repeats dropped; they are acked only
 *   after the handlers finished, so an event whose handler failed or never finished comes again.
 *
 * Register the durable event handlers (`message`, `receipt`, `group`) BEFORE `connect()`: an event
 * handled by no listener is still acked.
 *
 * The core is browser-safe: it uses only `fetch`, `crypto`, timers and the WebSocket constructor
 * it is given (default: `globalThis.WebSocket`; in Node 20 import from `@courier/client/node`).
 */
import { SeqDedupe, dedupeKey } from './dedupe.js';
import { Emitter, type Listener } from './emitter.js';
import { CourierHandlerError, CourierSocketError } from './errors.js';
import {
  isDurable,
  parseServerFrame,
  type ClientFrame,
  type ErrorFrame,
  type GroupEvent,
  type MediaRef,
  type MessageEvent,
  type PresenceEvent,
  type ReadyFrame,
  type ReceiptEvent,
  type SendFrame,
  type SentAnswer,
  type SentFrame,
  type ServerFrame,
  type TypingEvent,
  type UnknownServerFrame,
} from './frames.js';
import { HttpApi, registration, type DownloadOptions, type Group, type RegistrationApi, type UploadBody } from './http-api.js';
import { InboxRun, type Durable } from './inbox-run.js';
import { Outbox } from './outbox.js';
import { ReconnectBackoff, type BackoffOptions } from './reconnect-backoff.js';
import { socketUrl } from './server-url.js';
import { MemoryStorage, type ClientStorage } from './storage.js';
import { randomId } from './uuid.js';
import { OPEN, platformWebSocket, type WebSocketConstructor, type WebSocketLike } from './websocket.js';

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
  /** The server's frame size limit (bytes, default 64 KiB): larger sends are refused locally. */
  maxFrameBytes?: number;
}

export interface SendOptions {
  /** A userId or a groupId. */
  to: string;
  body?: string;
  media?: MediaRef;
  /** The client id; default a fresh UUID. Reuse one only to repeat the same message. */
  id?: string;
}

export interface CloseInfo {
  code: number;
  reason: string;
}

export interface DisconnectInfo extends CloseInfo {
  willReconnect: boolean;
  /** Delay before the next attempt, when `willReconnect`. */
  delayMs?: number;
  /** What the socket reported, if anything (e.g. the connection was refused). */
  error?: string;
}

export interface ClientEvents {
  message: MessageEvent;
  receipt: ReceiptEvent;
  group: GroupEvent;
  typing: TypingEvent;
  presence: PresenceEvent;
  /** Every frame from the server, before the SDK acts on it (for logs and debugging; do not ack from here). */
  frame: ServerFrame;
  /** Server frames this SDK does not know (durable ones are awaited and acked like the others). */
  unknown: UnknownServerFrame;
  /** `error` frames not tied to a pending send, failed handlers, malformed frames. */
  error: Error;
  ready: ReadyFrame;
  disconnected: DisconnectInfo;
  replaced: CloseInfo;
  revoked: CloseInfo;
}

export type ClientState = 'idle' | 'connecting' | 'authenticating' | 'ready' | 'waiting' | 'closed' | 'revoked' | 'replaced';

interface Connection {
  ws: WebSocketLike;
  ready: boolean;
  /** When `ready` came: a connection that lasted resets the backoff when it ends. */
  readyAt: number | undefined;
  run: InboxRun | undefined;
  lastFrameAt: number;
  /** When the heartbeat's ping went out, until a frame (its pong or any other) arrives. */
  pingSentAt: number | undefined;
  readyTimer: ReturnType<typeof setTimeout> | undefined;
  heartbeat: ReturnType<typeof setInterval> | undefined;
  error: string | undefined;
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

const idsPerFrame = 500;
/** A connection that stayed ready this long (ms) resets the reconnection backoff when it ends. */
const stableMs = 10_000;

export class CourierClient {
  /** Registration calls, which need no token: `CourierClient.register.request(url, phone)`, `.verify(url, phone, code)`. */
  static readonly register: RegistrationApi = registration;

  readonly url: string;
  readonly #WebSocket: WebSocketConstructor | undefined;
  readonly #storage: ClientStorage;
  readonly #ack: boolean;
  readonly #heartbeatMs: number;
  readonly #readyTimeoutMs: number;
  readonly #ackDelayMs: number;
  readonly #ackEvery: number;
  readonly #maxFrameBytes: number;
  readonly #events = new Emitter<ClientEvents>();
  readonly #outbox: Outbox;
  readonly #backoff: ReconnectBackoff;
  readonly #http: HttpApi;
  readonly #presence = new Set<string>();
  readonly #encoder = new TextEncoder();
  #token: string | undefined;
  #state: ClientState = 'idle';
  #conn: Connection | undefined;
  #userId: string | undefined;
  #lastReady: ReadyFrame | undefined;
  #dedupe: SeqDedupe | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #retryAt = 0;
  #connectWaiters: Waiter<ReadyFrame>[] = [];
  #pings: (Waiter<number> & { at: number })[] = [];
  #pendingReads: string[] = [];
  #stopping = false;

  constructor(options: CourierClientOptions) {
    this.url = options.url;
    this.#token = options.token;
    this.#WebSocket = options.WebSocket;
    this.#ack = options.ack ?? true;
    this.#storage = this.#ack ? (options.storage ?? new MemoryStorage()) : new MemoryStorage();
    this.#heartbeatMs = options.heartbeatMs ?? 20_000;
    this.#readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
    this.#ackDelayMs = options.ackDelayMs ?? 10;
    this.#ackEvery = options.ackEvery ?? 100;
    this.#outbox = new Outbox(options.maxInFlight ?? 64);
    this.#maxFrameBytes = options.maxFrameBytes ?? 64 * 1024;
    this.#backoff = new ReconnectBackoff(options.backoff);
    this.#http = new HttpApi(options.url, () => this.#token);
  }

  get state(): ClientState {
    return this.#state;
  }

  /** The account's userId, known once a connection was ready. */
  get userId(): string | undefined {
    return this.#userId;
  }

  get token(): string | undefined {
    return this.#token;
  }

  /** Uses another token from the next connection on (after registering again, say). */
  setToken(token: string): void {
    this.#token = token;
  }

  /** Sends not yet answered by `sent`. */
  get pendingSends(): number {
    return this.#outbox.size;
  }

  on<K extends keyof ClientEvents>(name: K, listener: Listener<ClientEvents[K]>): () => void {
    return this.#events.on(name, listener);
  }

  off<K extends keyof ClientEvents>(name: K, listener: Listener<ClientEvents[K]>): void {
    this.#events.off(name, listener);
  }

  once<K extends keyof ClientEvents>(name: K): Promise<ClientEvents[K]> {
    return this.#events.once(name);
  }

  // Connection ------------------------------------------------------------------------

  /**
   * Opens the socket (retrying with backoff while the server is unreachable) and resolves on the
   * first `ready`. Rejects when the token is refused (`revoked`), the device is `replaced`, or
   * `close()` is called first.
   */
  connect(): Promise<ReadyFrame> {
    if (this.#state === 'ready' && this.#lastReady !== undefined) return Promise.resolve(this.#lastReady);
    const ready = new Promise<ReadyFrame>((resolve, reject) => this.#connectWaiters.push({ resolve, reject }));
    if (this.#conn === undefined && this.#reconnectTimer === undefined) {
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

  /**
   * Stops for good (until the next `connect()`): acks what the app has handled, closes the socket
   * and rejects the sends still waiting for `sent`.
   */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#clearTimers();
    const conn = this.#conn;
    this.#rejectConnect(new CourierSocketError('closed', 'the client was closed'));
    this.#outbox.rejectAll('closed', 'the client was closed before the server answered');
    if (conn !== undefined) {
      if (conn.run !== undefined) {
        conn.run.closeIntake();
        try {
          await conn.run.flush();
        } catch (err) {
          this.#report(err);
        }
      }
      this.#detach(conn);
      await closeSocket(conn.ws, 1000, 'client closed');
    }
    try {
      await this.#dedupe?.persist();
    } catch (err) {
      this.#report(err);
    }
    const wasOpen = ['connecting', 'authenticating', 'ready', 'waiting'].includes(this.#state);
    this.#state = 'closed';
    if (wasOpen) this.#emit('disconnected', { code: 1000, reason: 'client closed', willReconnect: false });
  }

  /**
   * Drops the current connection as a network failure would (acks not yet written stay unwritten;
   * those events come again and are dropped as repeats) and reconnects after the usual backoff.
   * For apps that know the network changed.
   */
  reconnect(): void {
    const conn = this.#conn;
    if (conn !== undefined) this.#recycle(conn, 'reconnect requested');
  }

  #open(): void {
    const token = this.#token;
    if (token === undefined) throw new TypeError('no token: register first (CourierClient.register)');
    const WebSocketCtor = this.#WebSocket ?? platformWebSocket();
    if (WebSocketCtor === undefined) {
      throw new TypeError("no WebSocket here: pass options.WebSocket (in Node 20, import from '@courier/client/node')");
    }
    this.#state = 'connecting';
    const ws = new WebSocketCtor(socketUrl(this.url));
    const conn: Connection = {
      ws,
      ready: false,
      readyAt: undefined,
      run: undefined,
      lastFrameAt: Date.now(),
      pingSentAt: undefined,
      readyTimer: undefined,
      heartbeat: undefined,
      error: undefined,
    };
    this.#conn = conn;
    conn.readyTimer = setTimeout(() => this.#recycle(conn, 'no ready in time'), this.#readyTimeoutMs);
    ws.onopen = () => {
      if (this.#conn !== conn) return;
      this.#state = 'authenticating';
      this.#write(conn, { type: 'auth', token });
    };
    ws.onmessage = (event: { data: unknown }) => {
      if (this.#conn !== conn) return;
      conn.lastFrameAt = Date.now();
      const frame = typeof event.data === 'string' ? parseServerFrame(event.data) : undefined;
      if (frame === undefined) {
        this.#report(new CourierSocketError('bad_frame', `the server sent a frame that is not a JSON object with a type: ${String(event.data).slice(0, 200)}`));
        return;
      }
      this.#emit('frame', frame);
      this.#onFrame(conn, frame);
    };
    ws.onerror = (event: { message?: unknown; error?: unknown }) => {
      // The close event follows and decides what to do; keep the cause for the `disconnected` event.
      conn.error = typeof event.message === 'string' ? event.message : event.error instanceof Error ? event.error.message : 'socket error';
    };
    ws.onclose = (event: { code?: number; reason?: string }) => {
      if (this.#conn !== conn) return;
      this.#drop(conn, event.code ?? 1006, event.reason ?? '');
    };
  }

  /** Gives up a connection from this side (no ready, silent server, failed handler) and reconnects. */
  #recycle(conn: Connection, reason: string): void {
    if (this.#conn !== conn) return;
    void closeSocket(conn.ws, 4000, reason);
    this.#drop(conn, 4000, reason);
  }

  /** Forgets a connection: its unacked events come again on the next one, its sends go again. */
  #detach(conn: Connection): void {
    if (this.#conn === conn) this.#conn = undefined;
    conn.run?.abandon();
    if (conn.readyTimer !== undefined) clearTimeout(conn.readyTimer);
    if (conn.heartbeat !== undefined) clearInterval(conn.heartbeat);
    this.#outbox.offWire();
    const pings = this.#pings;
    this.#pings = [];
    for (const ping of pings) ping.reject(new CourierSocketError('disconnected', 'the connection closed before the pong'));
  }

  #drop(conn: Connection, code: number, reason: string): void {
    this.#detach(conn);
    if (this.#stopping) return;
    if (code === 4001) return this.#terminate('revoked', { code, reason });
    if (code === 4002) return this.#terminate('replaced', { code, reason });
    // Only a connection that stayed up a while proves the trouble is over; resetting on `ready`
    // would let a server that accepts and then drops at once (or a failing handler) cause a storm.
    if (conn.readyAt !== undefined && Date.now() - conn.readyAt >= stableMs) this.#backoff.reset();
    // 1008: closed for flooding; the backlog must go again more slowly.
    if (code === 1008) this.#outbox.congested(Date.now());
    const delayMs = this.#backoff.next();
    this.#state = 'waiting';
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#stopping) return;
      try {
        this.#open();
      } catch (err) {
        this.#report(err);
        this.#terminate('closed', { code: 1006, reason: err instanceof Error ? err.message : String(err) });
      }
    }, delayMs);
    const info: DisconnectInfo = { code, reason, willReconnect: true, delayMs };
    if (conn.error !== undefined) info.error = conn.error;
    this.#emit('disconnected', info);
  }

  /** Stops reconnecting: the token is no longer valid, or another connection of this device won. */
  #terminate(state: 'revoked' | 'replaced' | 'closed', info: CloseInfo): void {
    this.#state = state;
    this.#stopping = true;
    this.#clearTimers();
    const message =
      state === 'revoked'
        ? `the server refused or revoked this device's token (close ${info.code})`
        : state === 'replaced'
          ? 'another connection of this device replaced this one'
          : `stopped: ${info.reason}`;
    this.#outbox.rejectAll(state, message);
    this.#rejectConnect(new CourierSocketError(state, message));
    if (state !== 'closed') this.#emit(state, info);
    this.#emit('disconnected', { ...info, willReconnect: false });
  }

  #onReady(conn: Connection, frame: ReadyFrame): void {
    if (conn.ready) return this.#report(new CourierSocketError('protocol', 'a second ready on one connection; ignored'));
    if (conn.readyTimer !== undefined) clearTimeout(conn.readyTimer);
    conn.readyTimer = undefined;
    conn.ready = true;
    conn.readyAt = Date.now();
    this.#state = 'ready';
    this.#userId = frame.userId;
    this.#lastReady = frame;
    const key = dedupeKey(frame.userId, this.#token ?? '');
    if (this.#dedupe === undefined || this.#dedupe.key !== key) this.#dedupe = new SeqDedupe(this.#storage, key);
    conn.run = this.#newRun(conn, this.#dedupe);
    if (this.#heartbeatMs > 0) conn.heartbeat = setInterval(() => this.#heartbeat(conn), this.#heartbeatMs / 2);
    if (this.#presence.size > 0) {
      for (const users of chunks([...this.#presence])) this.#write(conn, { type: 'presence.subscribe', users });
    }
    this.#flushReads();
    this.#pump();
    this.#emit('ready', frame);
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.resolve(frame);
  }

  #newRun(conn: Connection, dedupe: SeqDedupe): InboxRun {
    return new InboxRun({
      dedupe,
      deliver: (event) => this.#deliver(event),
      ...(this.#ack ? { sendAck: (upTo: number) => this.#write(conn, { type: 'ack', upTo }) } : {}),
      onFailure: (err) => {
        this.#report(err);
        this.#recycle(conn, err instanceof CourierHandlerError ? 'event handler failed' : 'storage failed');
      },
      onSettled: () => this.#flushReads(),
      ackDelayMs: this.#ackDelayMs,
      ackEvery: this.#ackEvery,
    });
  }

  /**
   * After `heartbeatMs` of silence, ping; if nothing at all has come back `heartbeatMs` after the
   * ping, the connection is dead (a half-open TCP connection never reports its close). Judging
   * from the ping rather than from the silence alone keeps a throttled timer (a background browser
   * tab) from dropping a healthy connection.
   */
  #heartbeat(conn: Connection): void {
    const now = Date.now();
    if (conn.pingSentAt !== undefined && conn.lastFrameAt >= conn.pingSentAt) conn.pingSentAt = undefined;
    if (conn.pingSentAt !== undefined) {
      if (now - conn.pingSentAt >= this.#heartbeatMs) this.#recycle(conn, 'the server stopped answering');
      return;
    }
    if (now - conn.lastFrameAt < this.#heartbeatMs) return;
    conn.pingSentAt = now;
    this.#pings.push({ resolve: noop, reject: noop, at: now });
    this.#write(conn, { type: 'ping' });
  }

  // Incoming ----------------------------------------------------------------------------

  #onFrame(conn: Connection, frame: ServerFrame): void {
    if (isDurable(frame)) {
      if (conn.run === undefined) {
        this.#report(new CourierSocketError('protocol', `durable ${frame.type} seq ${frame.seq} before ready; ignored`));
        return;
      }
      conn.run.push(frame);
      return;
    }
    switch (frame.type) {
      case 'ready':
        return this.#onReady(conn, frame as ReadyFrame);
      case 'sent':
        // A repeat of an already answered send (written again after a reconnection) finds nothing to settle.
        this.#outbox.settle(frame as SentFrame);
        return this.#pump();
      case 'error':
        return this.#onError(conn, frame as ErrorFrame);
      case 'pong': {
        const ping = this.#pings.shift();
        ping?.resolve(Date.now() - ping.at);
        return;
      }
      case 'typing':
        return this.#emit('typing', frame as TypingEvent);
      case 'presence':
        return this.#emit('presence', frame as PresenceEvent);
      default:
        return this.#emit('unknown', frame as UnknownServerFrame);
    }
  }

  #onError(conn: Connection, frame: ErrorFrame): void {
    const ref = typeof frame.ref === 'string' ? frame.ref : undefined;
    const pending = ref !== undefined && this.#outbox.has(ref);
    if (frame.code === 'rate_limited') {
      // The refused frame is dropped by the server: unanswered sends and the last ack go again later.
      const now = Date.now();
      this.#outbox.congested(now, pending ? ref : undefined);
      conn.run?.resendAck(Math.max(this.#outbox.pauseLeft(now), 1_000));
      this.#pump();
      if (pending) return;
    } else if (pending) {
      this.#outbox.fail(ref, new CourierSocketError(frame.code, frame.message, ref));
      return this.#pump();
    }
    this.#report(new CourierSocketError(String(frame.code), String(frame.message), ref));
  }

  #deliver(event: Durable): Promise<void> {
    switch (event.type) {
      case 'message':
        return this.#events.emitSerial('message', event as MessageEvent);
      case 'receipt':
        return this.#events.emitSerial('receipt', event as ReceiptEvent);
      case 'group':
        return this.#events.emitSerial('group', event as GroupEvent);
      default:
        return this.#events.emitSerial('unknown', event as UnknownServerFrame);
    }
  }

  // Outgoing ----------------------------------------------------------------------------

  /**
   * Sends a message; resolves with `sent` once the server stored it for every recipient. Waits
   * across reconnections; rejects on an `error` frame about it (e.g. `not_member`, `unknown_media`),
   * on `revoked`/`replaced`, or on `close()`. A `rate_limited` refusal is retried after a pause.
   */
  send(options: SendOptions): Promise<SentAnswer> {
    if (options.body === undefined && options.media === undefined) {
      return Promise.reject(new TypeError('send needs a body or a media'));
    }
    const frame: SendFrame = { type: 'send', id: options.id ?? randomId(), to: options.to };
    if (options.body !== undefined) frame.body = options.body;
    if (options.media !== undefined) frame.media = options.media;
    if (this.#outbox.has(frame.id)) return Promise.reject(new TypeError(`a send with id ${frame.id} is already pending`));
    const bytes = this.#encoder.encode(JSON.stringify(frame)).length;
    if (bytes > this.#maxFrameBytes) {
      return Promise.reject(new CourierSocketError('frame_too_large', `the send frame is ${bytes} bytes, over the ${this.#maxFrameBytes} limit`, frame.id));
    }
    if (this.#state === 'revoked' || this.#state === 'replaced') {
      return Promise.reject(new CourierSocketError(this.#state, `the client stopped: ${this.#state}`, frame.id));
    }
    const answer = this.#outbox.add(frame);
    this.#pump();
    return answer;
  }

  /**
   * Tells the senders these received messages were read. Held back while events are being handled
   * or acked (so the read never overtakes the ack that makes them delivered), and while offline.
   */
  read(serverIds: string[]): void {
    this.#pendingReads.push(...serverIds);
    this.#flushReads();
  }

  #flushReads(): void {
    const conn = this.#conn;
    if (this.#pendingReads.length === 0 || conn?.ready !== true || conn.run?.settled === false) return;
    const batches = chunks(this.#pendingReads);
    this.#pendingReads = [];
    for (const [i, serverIds] of batches.entries()) {
      if (!this.#write(conn, { type: 'read', serverIds })) {
        // The socket is closing: keep the rest for the next connection.
        this.#pendingReads = batches.slice(i).flat();
        return;
      }
    }
  }

  /** Ephemeral: dropped when not connected. Returns whether it was written. */
  typing(to: string, active: boolean): boolean {
    const conn = this.#conn;
    return conn?.ready === true && this.#write(conn, { type: 'typing', to, active });
  }

  /** Asks for presence of these users; the subscription is renewed after every reconnection. */
  subscribePresence(users: string[]): void {
    const fresh = users.filter((u) => !this.#presence.has(u));
    for (const u of fresh) this.#presence.add(u);
    const conn = this.#conn;
    if (conn?.ready !== true || fresh.length === 0) return;
    for (const ids of chunks(fresh)) this.#write(conn, { type: 'presence.subscribe', users: ids });
  }

  /** Resolves with the round-trip time in ms. */
  ping(): Promise<number> {
    const conn = this.#conn;
    if (conn?.ready !== true) return Promise.reject(new CourierSocketError('not_connected', 'not connected'));
    return new Promise((resolve, reject) => {
      this.#pings.push({ resolve, reject, at: Date.now() });
      this.#write(conn, { type: 'ping' });
    });
  }

  #pump(): void {
    const conn = this.#conn;
    if (conn?.ready !== true) return;
    const now = Date.now();
    for (const frame of this.#outbox.take(now)) this.#write(conn, frame);
    const at = this.#outbox.nextRetryAt(now);
    if (at === undefined || (this.#retryTimer !== undefined && this.#retryAt <= at)) return;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryAt = at;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#pump();
    }, at - now);
  }

  #write(conn: Connection, frame: ClientFrame): boolean {
    if (conn.ws.readyState !== OPEN) return false;
    conn.ws.send(JSON.stringify(frame));
    return true;
  }

  // HTTP ----------------------------------------------------------------------------------

  /** Stores bytes on the server (`POST /v1/media`); put the answer in `send({ media })`. */
  upload(bytes: UploadBody, mime: string, signal?: AbortSignal): Promise<MediaRef> {
    return this.#http.upload(bytes, mime, signal);
  }

  /** The blob's HTTP answer (a fetch `Response`). */
  download(hash: string, options?: DownloadOptions): Promise<Response> {
    return this.#http.download(hash, options);
  }

  downloadBytes(hash: string, signal?: AbortSignal): Promise<Uint8Array> {
    return this.#http.downloadBytes(hash, signal);
  }

  createGroup(name: string, members: string[]): Promise<Group> {
    return this.#http.createGroup(name, members);
  }

  getGroup(groupId: string): Promise<Group> {
    return this.#http.getGroup(groupId);
  }

  changeMembers(groupId: string, change: { add?: string[]; remove?: string[] }): Promise<Group> {
    return this.#http.changeMembers(groupId, change);
  }

  // Plumbing ------------------------------------------------------------------------------

  #emit<K extends keyof ClientEvents>(name: K, payload: ClientEvents[K]): void {
    this.#events.emit(name, payload, (err) => {
      if (name === 'error') console.error('courier: an error listener threw', err);
      else this.#report(err);
    });
  }

  #report(err: unknown): void {
    this.#emit('error', err instanceof Error ? err : new Error(String(err)));
  }

  #rejectConnect(err: Error): void {
    const waiters = this.#connectWaiters;
    this.#connectWaiters = [];
    for (const waiter of waiters) waiter.reject(err);
  }

  #clearTimers(): void {
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#reconnectTimer = undefined;
    this.#retryTimer = undefined;
  }
}

function noop(): void {}

function chunks(ids: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < ids.length; i += idsPerFrame) out.push(ids.slice(i, i + idsPerFrame));
  return out;
}

/** Closes a socket and resolves once it is closed (or after a second: the peer may be gone). */
function closeSocket(ws: WebSocketLike, code: number, reason: string): Promise<void> {
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

/**
 * CourierClient: one device's connection to a Courier server, written from the wire contract only.
 * A facade: each concern lives in its own collaborator, wired together here.
 *
 * - `ConnectionLifecycle` authenticates (through a `SocketSession` per socket), resolves
 *   `connect()` on `ready` and reconnects with backoff, except after `close()`, `revoked` (4001)
 *   and `replaced` (4002).
 * - `OutgoingSends`: `send` resolves with the server's `sent` answer; unanswered sends are written
 *   again, with the same client id, after a reconnection.
 * - `DurableEvents`: durable events reach the app's handlers in `seq` order, repeats dropped; they
 *   are acked only after the handlers finished, so an event whose handler failed comes again.
 * - `PendingReads` and `PresenceSubscriptions` keep what must outlive a connection.
 * - `HttpApi`: the HTTP calls (media, groups, registration).
 *
 * Register the durable event handlers (`message`, `receipt`, `group`, `edit`, `delete`, `reaction`) BEFORE `connect()`: an event
 * handled by no listener is still acked.
 *
 * The core is browser-safe: it uses only `fetch`, `crypto`, timers and the WebSocket constructor
 * it is given (default: `globalThis.WebSocket`; in Node 20 import from `courier-chat-client/node`).
 */
import { ClientEventBus } from './client-event-bus.js';
import type { ClientEvents } from './client-events.js';
import { defaultMaxFrameBytes, withDefaults, type CourierClientOptions } from './client-options.js';
import { ConnectionLifecycle, type ClientState } from './connection-lifecycle.js';
import { DurableEvents } from './durable-events.js';
import type { Listener } from './emitter.js';
import { CourierSocketError } from './errors.js';
import { FrameRouter } from './frame-router.js';
import type { MediaRef, ReadyFrame, SentAnswer } from './frames.js';
import { linkDevice, type LinkDeviceOptions, type PendingLink } from './device-link.js';
import {
  HttpApi,
  registration,
  vapidPublicKey,
  type DeviceInfo,
  type DownloadOptions,
  type Group,
  type PushTarget,
  type RegistrationApi,
  type UploadBody,
} from './http-api.js';
import { OutgoingSends, type SendOptions } from './outgoing-sends.js';
import { PendingReads } from './pending-reads.js';
import { PresenceSubscriptions } from './presence-subscriptions.js';
import { ReconnectBackoff } from './reconnect-backoff.js';
import { randomId } from './uuid.js';

export class CourierClient {
  /** Registration calls, which need no token: `CourierClient.register.request(url, phone)`, `.verify(url, phone, code)`. */
  static readonly register: RegistrationApi = registration;

  /**
   * Makes this app a new device of an existing account: resolves at once with the link code to
   * show (text or QR code); its `approved` resolves with the device's token once the account's
   * primary approved the code (`approveLink`). Then `new CourierClient({ url, token })`.
   */
  static linkDevice(url: string, options?: LinkDeviceOptions): Promise<PendingLink> {
    return linkDevice(url, options);
  }

  readonly url: string;
  readonly #events = new ClientEventBus();
  readonly #connection: ConnectionLifecycle;
  readonly #sends: OutgoingSends;
  readonly #durable: DurableEvents;
  readonly #reads: PendingReads;
  readonly #presence = new PresenceSubscriptions();
  readonly #http: HttpApi;
  #token: string | undefined;
  /** The frame limit the server's last `ready` gave, if it gave one. */
  #serverMaxFrameBytes: number | undefined;

  constructor(options: CourierClientOptions) {
    const o = withDefaults(options);
    this.url = o.url;
    this.#token = o.token;
    this.#http = new HttpApi(o.url, () => this.#token);
    this.#sends = new OutgoingSends({
      maxInFlight: o.maxInFlight,
      maxFrameBytes: () => o.maxFrameBytes ?? this.#serverMaxFrameBytes ?? defaultMaxFrameBytes,
      readySession: () => this.#connection.readySession,
      state: () => this.#connection.state,
    });
    this.#durable = new DurableEvents({
      ack: o.ack,
      storage: o.storage,
      ackDelayMs: o.ackDelayMs,
      ackEvery: o.ackEvery,
      events: this.#events,
      giveUp: (session, reason) => this.#connection.recycle(session, reason),
      settled: () => this.#reads.flush(),
    });
    this.#reads = new PendingReads(() => {
      const session = this.#connection.readySession;
      return session !== undefined && this.#durable.settledOn(session) ? session : undefined;
    });
    const router = new FrameRouter(this.#events, this.#durable, this.#sends);
    this.#connection = new ConnectionLifecycle(
      {
        url: o.url,
        token: () => this.#token,
        WebSocket: o.WebSocket,
        backoff: new ReconnectBackoff(o.backoff),
        heartbeatMs: o.heartbeatMs,
        readyTimeoutMs: o.readyTimeoutMs,
        events: this.#events,
      },
      {
        frame: (session, frame) => router.route(session, frame),
        ready: (session, ready) => {
          if (typeof ready.maxFrameBytes === 'number' && ready.maxFrameBytes > 0) this.#serverMaxFrameBytes = ready.maxFrameBytes;
          this.#durable.start(session, ready.userId, this.#token ?? '');
          this.#presence.renew(session);
          this.#reads.flush();
          this.#sends.pump();
        },
        detached: (session) => {
          this.#durable.abandon(session);
          this.#sends.offWire();
        },
        flooded: () => this.#sends.flooded(),
        stopped: (code, message) => this.#sends.stop(code, message),
        closing: (session) => this.#durable.finish(session),
        closed: () => this.#durable.persist(),
      },
    );
  }

  get state(): ClientState {
    return this.#connection.state;
  }

  /** The account's userId, known once a connection was ready. */
  get userId(): string | undefined {
    return this.#connection.userId;
  }

  /** This device's id (1 for the primary), known once a connection to a v2 server was ready. */
  get deviceId(): number | undefined {
    return this.#connection.deviceId;
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
    return this.#sends.size;
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
    return this.#connection.connect();
  }

  /**
   * Stops for good (until the next `connect()`): acks what the app has handled, closes the socket
   * and rejects the sends still waiting for `sent`.
   */
  close(): Promise<void> {
    return this.#connection.close();
  }

  /**
   * Drops the current connection as a network failure would (acks not yet written stay unwritten;
   * those events come again and are dropped as repeats) and reconnects after the usual backoff.
   * For apps that know the network changed.
   */
  reconnect(): void {
    this.#connection.reconnect();
  }

  /** Resolves with the round-trip time in ms. */
  ping(): Promise<number> {
    const session = this.#connection.readySession;
    if (session === undefined) return Promise.reject(new CourierSocketError('not_connected', 'not connected'));
    return session.ping();
  }

  // Socket frames ------------------------------------------------------------------------

  /**
   * Sends a message; resolves with `sent` once the server stored it for every recipient. Waits
   * across reconnections; rejects on an `error` frame about it (e.g. `not_member`, `unknown_media`),
   * on `revoked`/`replaced`, or on `close()`. A `rate_limited` refusal is retried after a pause.
   */
  send(options: SendOptions): Promise<SentAnswer> {
    return this.#sends.send(options);
  }

  /**
   * Sends `body` to the conversation `to` as an answer to the message `replyTo` (its serverId);
   * the recipients get it with `message.replyTo`. `more` adds media, expiry or a client id.
   */
  reply(to: string, replyTo: string, body: string, more: Omit<SendOptions, 'to' | 'replyTo' | 'body'> = {}): Promise<SentAnswer> {
    return this.#sends.send({ ...more, to, body, replyTo });
  }

  /**
   * Replaces the text of one of this account's messages (`target`, its serverId) in the
   * conversation `to` (the other user, or the groupId). The server allows it for 15 minutes by
   * default; otherwise the promise rejects with `not_allowed`.
   */
  edit(to: string, target: string, body: string, id: string = randomId()): Promise<SentAnswer> {
    if (body.trim() === '') return Promise.reject(new TypeError('an edit needs some text; to remove a message, deleteForEveryone() it'));
    return this.#sends.submit({ type: 'edit', id, to, target, body });
  }

  /**
   * Deletes one of this account's messages for everyone: devices that have not received it yet
   * never will; the others get a `delete` event. Allowed for 48 hours by default.
   */
  deleteForEveryone(to: string, target: string, id: string = randomId()): Promise<SentAnswer> {
    return this.#sends.submit({ type: 'delete', id, to, target });
  }

  /** Reacts to a message of the conversation with one emoji, replacing this account's earlier reaction; `""` takes it back. */
  react(to: string, target: string, emoji: string, id: string = randomId()): Promise<SentAnswer> {
    return this.#sends.submit({ type: 'react', id, to, target, emoji });
  }

  /**
   * Tells the senders these received messages were read. Held back while events are being handled
   * or acked (so the read never overtakes the ack that makes them delivered), and while offline.
   */
  read(serverIds: string[]): void {
    this.#reads.add(serverIds);
  }

  /** Ephemeral: dropped when not connected. Returns whether it was written. */
  typing(to: string, active: boolean): boolean {
    const session = this.#connection.readySession;
    return session !== undefined && session.write({ type: 'typing', to, active });
  }

  /** Asks for presence of these users; the subscription is renewed after every reconnection. */
  subscribePresence(users: string[]): void {
    this.#presence.subscribe(users, this.#connection.readySession);
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

  /** On the primary: approves the code a new device shows (`CourierClient.linkDevice`). */
  approveLink(linkCode: string): Promise<{ deviceId: number; name: string }> {
    return this.#http.approveLink(linkCode);
  }

  /** Every device of the account, with whether it is online. */
  devices(): Promise<DeviceInfo[]> {
    return this.#http.devices();
  }

  /** The primary removes any linked device; a linked device may remove itself. */
  removeDevice(deviceId: number): Promise<void> {
    return this.#http.removeDevice(deviceId);
  }

  /**
   * Lets the server wake this device while it is offline: a Web Push subscription or a push
   * gateway target. The wake says only how many messages wait; connect to read them.
   */
  setPushTarget(target: PushTarget): Promise<void> {
    return this.#http.setPushTarget(target);
  }

  removePushTarget(): Promise<void> {
    return this.#http.removePushTarget();
  }

  /** The server's VAPID key, for `pushManager.subscribe({ userVisibleOnly: true, applicationServerKey })`. */
  vapidPublicKey(): Promise<string> {
    return vapidPublicKey(this.#http.url);
  }

  createGroup(name: string, members: string[]): Promise<Group> {
    return this.#http.createGroup(name, members);
  }

  getGroup(groupId: string): Promise<Group> {
    return this.#http.getGroup(groupId);
  }

  /** The groups this user is a member of (`GET /v1/groups`, an addition of this server to the contract). */
  listGroups(): Promise<Group[]> {
    return this.#http.listGroups();
  }

  changeMembers(groupId: string, change: { add?: string[]; remove?: string[] }): Promise<Group> {
    return this.#http.changeMembers(groupId, change);
  }
}
